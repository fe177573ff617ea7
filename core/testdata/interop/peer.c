/*
 * peer.c: the C side of core's interop tests (core/interop_test.go builds
 * it with gcc against Debian's libpmem and libpmem2 1.12.1).
 *
 *   peer mapfile PATH SIZE FLAGS     pmem_map_file; prints "ok LEN IS_PMEM"
 *                                    or "err ERRNO"
 *   peer write PATH OFF TEXT         map existing file, pmem_memcpy_persist
 *   peer read PATH OFF N             map existing file, print N bytes as hex
 *   peer pmem2 PATH GRAN SHARING     pmem2_map_new with required granularity
 *                                    GRAN (0 byte, 1 cache line, 2 page) and
 *                                    sharing (0 shared, 1 private); prints
 *                                    "ok EFFECTIVE" or "err CODE"
 *   peer nvdimm PATH                 prints "usc RC" and "badblock RC"
 *
 * FLAGS is a number with the PMEM_FILE_* bits.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <libpmem2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int do_mapfile(const char *path, size_t size, int flags)
{
	size_t len;
	int is_pmem;
	void *addr = pmem_map_file(path, size, flags, 0600, &len, &is_pmem);
	if (addr == NULL) {
		printf("err %d\n", errno);
		return 0;
	}
	printf("ok %zu %d\n", len, is_pmem);
	pmem_unmap(addr, len);
	return 0;
}

static char *map_existing(const char *path, size_t *len)
{
	int is_pmem;
	char *addr = pmem_map_file(path, 0, 0, 0, len, &is_pmem);
	if (addr == NULL) {
		perror("pmem_map_file");
		exit(1);
	}
	return addr;
}

static int do_pmem2(const char *path, int gran, int sharing)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	struct pmem2_source *src;
	struct pmem2_config *cfg;
	struct pmem2_map *map;
	if (pmem2_source_from_fd(&src, fd) || pmem2_config_new(&cfg)) {
		pmem2_perror("setup");
		return 1;
	}
	pmem2_config_set_required_store_granularity(cfg, (enum pmem2_granularity)gran);
	pmem2_config_set_sharing(cfg, sharing ? PMEM2_PRIVATE : PMEM2_SHARED);
	int rc = pmem2_map_new(&map, cfg, src);
	if (rc) {
		printf("err %d\n", rc);
		return 0;
	}
	printf("ok %d\n", (int)pmem2_map_get_store_granularity(map));
	pmem2_map_delete(&map);
	return 0;
}

static int do_nvdimm(const char *path)
{
	int fd = open(path, O_RDWR);
	struct pmem2_source *src;
	if (fd < 0 || pmem2_source_from_fd(&src, fd)) {
		perror("source");
		return 1;
	}
	uint64_t usc;
	printf("usc %d\n", pmem2_source_device_usc(src, &usc));
	struct pmem2_badblock_context *bbctx;
	int rc = pmem2_badblock_context_new(&bbctx, src);
	if (rc == 0) {
		struct pmem2_badblock bb;
		rc = pmem2_badblock_next(bbctx, &bb);
		pmem2_badblock_context_delete(&bbctx);
	}
	printf("badblock %d\n", rc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *cmd = argv[1], *path = argv[2];
	if (strcmp(cmd, "mapfile") == 0 && argc == 5)
		return do_mapfile(path, strtoull(argv[3], NULL, 0), atoi(argv[4]));
	if (strcmp(cmd, "pmem2") == 0 && argc == 5)
		return do_pmem2(path, atoi(argv[3]), atoi(argv[4]));
	if (strcmp(cmd, "nvdimm") == 0)
		return do_nvdimm(path);
	if (strcmp(cmd, "write") == 0 && argc == 5) {
		size_t len;
		char *addr = map_existing(path, &len);
		size_t off = strtoull(argv[3], NULL, 0);
		size_t n = strlen(argv[4]);
		if (off + n > len)
			return 1;
		pmem_memcpy_persist(addr + off, argv[4], n);
		if (!pmem_is_pmem(addr, len))
			pmem_msync(addr + off, n);
		pmem_unmap(addr, len);
		return 0;
	}
	if (strcmp(cmd, "read") == 0 && argc == 5) {
		size_t len;
		char *addr = map_existing(path, &len);
		size_t off = strtoull(argv[3], NULL, 0), n = strtoull(argv[4], NULL, 0);
		if (off + n > len)
			return 1;
		for (size_t i = 0; i < n; i++)
			printf("%02x", (unsigned char)addr[off + i]);
		printf("\n");
		pmem_unmap(addr, len);
		return 0;
	}
	return 2;
}
