/*
 * ctlconf: what C libpmemobj makes of its configuration (PMEMOBJ_CONF,
 * PMEMOBJ_CONF_FILE), for the Go ctl tests to compare with.
 *
 * usage: ctlconf POOL
 *	prints the global ctl values (pmemobj_ctl_get with a NULL pool), as
 *	the library loaded them at its start, then creates POOL (8 MiB),
 *	which loads the configuration again for the pool, and prints
 *	"create ok" and the pool's ctl values, or "create failed".
 *	Each value is a line "name=value".
 */
#include <stdio.h>
#include <stdlib.h>
#include <libpmemobj.h>

static void
print_int(PMEMobjpool *pop, const char *name)
{
	int v = -12345;
	if (pmemobj_ctl_get(pop, name, &v) != 0)
		printf("%s=error\n", name);
	else
		printf("%s=%d\n", name, v);
}

static void
print_ll(PMEMobjpool *pop, const char *name)
{
	long long v = -12345;
	if (pmemobj_ctl_get(pop, name, &v) != 0)
		printf("%s=error\n", name);
	else
		printf("%s=%lld\n", name, v);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: ctlconf POOL\n");
		return 2;
	}
	const char *globals[] = {"prefault.at_create", "prefault.at_open",
		"sds.at_create", "fallocate.at_create", "copy_on_write.at_open",
		"heap.arenas_assignment_type"};
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		print_int(NULL, globals[i]);

	PMEMobjpool *pop = pmemobj_create(argv[1], "", 8 << 20, 0600);
	if (pop == NULL) {
		printf("create failed\n");
		return 0;
	}
	printf("create ok\n");
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		print_int(pop, globals[i]);
	print_ll(pop, "tx.cache.size");
	print_int(pop, "stats.enabled");
	print_ll(pop, "heap.size.granularity");
	print_int(pop, "tx.debug.skip_expensive_checks");
	print_int(pop, "tx.debug.verify_user_buffers");
	print_int(pop, "debug.heap.alloc_pattern");
	print_int(pop, "heap.thread.arena_id");
	for (int id = 0; id < 255; id++) {
		char name[64];
		snprintf(name, sizeof(name), "heap.alloc_class.%d.desc", id);
		struct pobj_alloc_class_desc d;
		if (pmemobj_ctl_get(pop, name, &d) != 0)
			continue;
		printf("%s=%zu,%zu,%u,%d,%u\n", name, d.unit_size, d.alignment,
			d.units_per_block, (int)d.header_type, d.class_id);
	}
	pmemobj_close(pop);
	return 0;
}
