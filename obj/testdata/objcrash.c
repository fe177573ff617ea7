/*
 * objcrash: runs one libpmemobj operation on an existing pool and, with
 * CRASH_AT=N in the environment, ends the process right after the N-th
 * persist of that operation: the pool file is then what a crash of C at
 * that point leaves. With SNAPSHOT_AT=N,M,... it instead copies the pool
 * (the file as it is at that moment) to POOL.N, POOL.M, ... right after
 * those persists and goes on: the same images from one run. Built and run
 * by TestInteropCrashCOpRecoveredByGo.
 *
 * On a file that is not persistent memory (PMEM_IS_PMEM_FORCE=0 on tmpfs)
 * libpmemobj persists through pmem_msync; this program defines its own
 * pmem_msync (link with -rdynamic), which counts the persists inside the
 * pool and forwards them to libpmem's.
 *
 * usage: objcrash POOL OPERATION
 * The root object is struct root below. The program prints "persists N"
 * when the operation completed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libpmemobj.h>

struct root {
	PMEMoid f[4];
	uint64_t v[8];
};

static const char *pool_base, *pool_path, *snapshot_at;
static size_t pool_size;
static long persists, crash_at;

/* snapshot copies the pool's bytes to POOL.<persists>, zero pages as holes. */
static void snapshot(void)
{
	static const char zero[4096];
	char path[4096];
	snprintf(path, sizeof(path), "%s.%ld", pool_path, persists);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)pool_size) != 0) {
		perror(path);
		_exit(4);
	}
	for (size_t off = 0; off < pool_size; off += sizeof(zero)) {
		size_t n = pool_size - off < sizeof(zero) ? pool_size - off : sizeof(zero);
		if (memcmp(pool_base + off, zero, n) == 0)
			continue;
		if (pwrite(fd, pool_base + off, n, (off_t)off) != (ssize_t)n) {
			perror(path);
			_exit(4);
		}
	}
	close(fd);
}

/* wanted reports whether the comma-separated list has persist n. */
static int wanted(const char *list, long n)
{
	for (const char *p = list; p != NULL && *p != '\0';) {
		char *end;
		if (strtol(p, &end, 10) == n)
			return 1;
		p = *end == ',' ? end + 1 : NULL;
	}
	return 0;
}

int pmem_msync(const void *addr, size_t len)
{
	static int (*next)(const void *, size_t);
	if (next == NULL)
		next = (int (*)(const void *, size_t))dlsym(RTLD_NEXT, "pmem_msync");
	int ret = next(addr, len);
	const char *a = addr;
	if (pool_base != NULL && a >= pool_base && a < pool_base + pool_size) {
		persists++;
		if (crash_at > 0 && persists == crash_at)
			_exit(3);
		if (wanted(snapshot_at, persists))
			snapshot();
	}
	return ret;
}

static int publish(PMEMobjpool *pop, struct root *r)
{
	struct pobj_action act[9];
	PMEMoid x = pmemobj_xreserve(pop, &act[0], 300, 12, POBJ_XALLOC_ZERO);
	PMEMoid y = pmemobj_xreserve(pop, &act[1], 70000, 13, POBJ_XALLOC_ZERO);
	if (OID_IS_NULL(x) || OID_IS_NULL(y))
		return -1;
	pmemobj_defer_free(pop, r->f[1], &act[2]);
	pmemobj_set_value(pop, &act[3], &r->f[2].pool_uuid_lo, x.pool_uuid_lo);
	pmemobj_set_value(pop, &act[4], &r->f[2].off, x.off);
	pmemobj_set_value(pop, &act[5], &r->f[3].pool_uuid_lo, y.pool_uuid_lo);
	pmemobj_set_value(pop, &act[6], &r->f[3].off, y.off);
	pmemobj_set_value(pop, &act[7], &r->f[1].pool_uuid_lo, 0);
	pmemobj_set_value(pop, &act[8], &r->f[1].off, 0);
	return pmemobj_publish(pop, act, 9);
}

/* publish_many publishes more set values than a lane's external redo log
 * holds (640 bytes: 40 entries): C extends the log with a heap object. */
static int publish_many(PMEMobjpool *pop, struct root *r)
{
	struct pobj_action act[60];
	uint64_t *w = pmemobj_direct(r->f[1]);
	for (int i = 0; i < 60; i++)
		pmemobj_set_value(pop, &act[i], &w[i * 8], 1000 + (uint64_t)i);
	return pmemobj_publish(pop, act, 60);
}

/* tx changes the root's values, frees one object and allocates another in
 * a transaction: snapshots in the undo log, heap actions at commit. */
static int tx(PMEMobjpool *pop, struct root *r)
{
	volatile int ret = 0;
	TX_BEGIN(pop) {
		pmemobj_tx_add_range_direct(r->v, 16);
		r->v[0] = 1111;
		r->v[1] = 2222;
		pmemobj_tx_add_range_direct(&r->f[0], 3 * sizeof(PMEMoid));
		pmemobj_tx_free(r->f[0]);
		r->f[0] = OID_NULL;
		r->f[2] = pmemobj_tx_zalloc(64, 5);
	} TX_ONABORT {
		ret = -1;
	} TX_END
	return ret;
}

/* tx_big snapshots 5000 bytes, more than the lane's 2048-byte undo log:
 * C extends it with a heap object. */
static int tx_big(PMEMobjpool *pop, struct root *r)
{
	volatile int ret = 0;
	TX_BEGIN(pop) {
		pmemobj_tx_add_range(r->f[1], 0, 5000);
		memset(pmemobj_direct(r->f[1]), 0x5a, 5000);
	} TX_ONABORT {
		ret = -1;
	} TX_END
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s POOL OPERATION\n", argv[0]);
		return 2;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0) {
		perror(argv[1]);
		return 1;
	}
	PMEMobjpool *pop = pmemobj_open(argv[1], NULL);
	if (pop == NULL) {
		fprintf(stderr, "open: %s\n", pmemobj_errormsg());
		return 1;
	}
	PMEMoid root = pmemobj_root(pop, 0);
	if (OID_IS_NULL(root)) {
		fprintf(stderr, "no root: %s\n", pmemobj_errormsg());
		return 1;
	}
	struct root *r = pmemobj_direct(root);
	const char *crash = getenv("CRASH_AT");
	crash_at = crash ? atol(crash) : 0;
	snapshot_at = getenv("SNAPSHOT_AT");
	pool_path = argv[1];
	pool_base = (const char *)pop;
	pool_size = (size_t)st.st_size;

	const char *op = argv[2];
	int ret;
	if (strcmp(op, "alloc") == 0) {
		ret = pmemobj_zalloc(pop, &r->f[2], 200, 8);
	} else if (strcmp(op, "alloc-huge") == 0) {
		ret = pmemobj_zalloc(pop, &r->f[2], (3 << 20) - 100, 10);
	} else if (strcmp(op, "free") == 0) {
		pmemobj_free(&r->f[0]);
		ret = 0;
	} else if (strcmp(op, "free-huge") == 0) {
		pmemobj_free(&r->f[1]);
		ret = 0;
	} else if (strcmp(op, "realloc") == 0) {
		ret = pmemobj_zrealloc(pop, &r->f[0], 300, 7);
	} else if (strcmp(op, "realloc-to-huge") == 0) {
		ret = pmemobj_zrealloc(pop, &r->f[0], 2621440, 11);
	} else if (strcmp(op, "root-growth") == 0) {
		ret = OID_IS_NULL(pmemobj_root(pop, 2000)) ? -1 : 0;
	} else if (strcmp(op, "publish") == 0) {
		ret = publish(pop, r);
	} else if (strcmp(op, "publish-many") == 0) {
		ret = publish_many(pop, r);
	} else if (strcmp(op, "tx") == 0) {
		ret = tx(pop, r);
	} else if (strcmp(op, "tx-big") == 0) {
		ret = tx_big(pop, r);
	} else {
		fprintf(stderr, "unknown operation %s\n", op);
		return 2;
	}
	pool_base = NULL;
	if (ret != 0) {
		fprintf(stderr, "%s: %s (%s)\n", op, pmemobj_errormsg(), strerror(errno));
		return 1;
	}
	printf("persists %ld\n", persists);
	pmemobj_close(pop);
	return 0;
}
