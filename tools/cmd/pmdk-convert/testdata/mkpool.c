/*
 * mkpool.c: makes an obj pool with the libpmemobj it is linked with, for
 * pmdk-convert's tests. Built against each old PMDK release by mkpools.sh.
 *
 * usage: mkpool PATH clean|cut|reopen [MIB]
 *   clean   allocate, free and commit transactions, then close the pool
 *   cut     as clean, then exit in the middle of a transaction
 *   reopen  open PATH (recovering its logs) and close it
 * MIB is the pool size in MiB (default: PMEMOBJ_MIN_POOL).
 */
#include <errno.h>
#include <libpmemobj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROOT_SIZE 256

static void
fail(const char *what)
{
	fprintf(stderr, "%s: %s (%s)\n", what, pmemobj_errormsg(),
		strerror(errno));
	exit(1);
}

int
main(int argc, char *argv[])
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: mkpool PATH clean|cut|reopen [MIB]\n");
		return 2;
	}
	PMEMobjpool *pop;
	if (strcmp(argv[2], "reopen") == 0) {
		pop = pmemobj_open(argv[1], "convert");
		if (pop == NULL)
			fail("open");
		pmemobj_close(pop);
		return 0;
	}
	size_t size = PMEMOBJ_MIN_POOL;
	if (argc == 4)
		size = (size_t)atoi(argv[3]) << 20;
	pop = pmemobj_create(argv[1], "convert", size, 0644);
	if (pop == NULL)
		fail("create");
	PMEMoid root = pmemobj_root(pop, ROOT_SIZE);
	char *r = pmemobj_direct(root);
	if (r == NULL)
		fail("root");
	memset(r, 0, ROOT_SIZE);
	strcpy(r, "root");
	pmemobj_persist(pop, r, ROOT_SIZE);

	/* atomic allocations: types 1..3, sizes 64..2064; every third freed */
	PMEMoid oids[21];
	for (int i = 0; i < 21; i++) {
		size_t size = 64 + (size_t)i * 100;
		if (pmemobj_alloc(pop, &oids[i], size, (unsigned)(i % 3 + 1),
				NULL, NULL))
			fail("alloc");
		char *p = pmemobj_direct(oids[i]);
		memset(p, 'a' + i, size);
		pmemobj_persist(pop, p, size);
	}
	for (int i = 0; i < 21; i += 3)
		pmemobj_free(&oids[i]);
	/* one huge allocation (several chunks), type 7 */
	PMEMoid big;
	if (pmemobj_alloc(pop, &big, 600000, 7, NULL, NULL))
		fail("alloc big");

	/* a committed transaction: root changed, one allocation of type 9 */
	if (pmemobj_tx_begin(pop, NULL, TX_LOCK_NONE))
		fail("tx_begin");
	if (pmemobj_tx_add_range(root, 0, 64))
		fail("tx_add_range");
	strcpy(r, "committed");
	PMEMoid t = pmemobj_tx_alloc(1000, 9);
	if (OID_IS_NULL(t))
		fail("tx_alloc");
	pmemobj_tx_commit();
	pmemobj_tx_end();

	if (strcmp(argv[2], "cut") == 0) {
		/* cut off: root overwritten, an allocation and a free pending */
		if (pmemobj_tx_begin(pop, NULL, TX_LOCK_NONE))
			fail("tx_begin");
		if (pmemobj_tx_add_range(root, 0, ROOT_SIZE))
			fail("tx_add_range");
		memset(r, 'X', ROOT_SIZE);
		pmemobj_persist(pop, r, ROOT_SIZE);
		if (OID_IS_NULL(pmemobj_tx_alloc(500, 10)))
			fail("tx_alloc");
		if (pmemobj_tx_free(t))
			fail("tx_free");
		_exit(0);
	}
	pmemobj_close(pop);
	return 0;
}
