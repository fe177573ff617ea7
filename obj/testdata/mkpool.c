/* mkpool: make a small libpmemobj pool with a root, objects of several
 * sizes and types, a freed one, a reallocated one and a publication, for
 * the fuzz seeds of package obj. Usage: mkpool FILE (16 MiB, layout "fuzz"). */
#include <libpmemobj.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	PMEMobjpool *pop = pmemobj_create(argv[1], "fuzz", 16 << 20, 0644);
	if (!pop) {
		fprintf(stderr, "%s\n", pmemobj_errormsg());
		return 1;
	}
	PMEMoid root = pmemobj_root(pop, 256);
	PMEMoid *slots = pmemobj_direct(root);
	size_t sizes[] = {1, 64, 100, 1000, 5000, 70000, 2200000};
	for (int i = 0; i < 7; i++) {
		if (pmemobj_alloc(pop, &slots[i], sizes[i], i + 1, NULL, NULL)) {
			fprintf(stderr, "alloc %zu: %s\n", sizes[i], pmemobj_errormsg());
			return 1;
		}
		memset(pmemobj_direct(slots[i]), 'a' + i, sizes[i]);
		pmemobj_persist(pop, pmemobj_direct(slots[i]), sizes[i]);
	}
	pmemobj_free(&slots[2]);
	pmemobj_realloc(pop, &slots[3], 3000, 9);
	struct pobj_action act[2];
	PMEMoid r = pmemobj_reserve(pop, &act[0], 200, 10);
	pmemobj_set_value(pop, &act[1], &slots[8].off, r.off);
	slots[8].pool_uuid_lo = r.pool_uuid_lo;
	pmemobj_persist(pop, &slots[8], sizeof(slots[8]));
	pmemobj_publish(pop, act, 2);
	pmemobj_close(pop);
	return 0;
}
