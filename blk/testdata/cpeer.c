/*
 * cpeer: drives libpmemblk for gopmdk's interop tests.
 *
 * usage: cpeer PATH OP...
 *   c:BSIZE:SIZE  create the pool (SIZE 0: use the existing file)
 *   o:BSIZE       open the pool (BSIZE 0: the pool's)
 *   n             print "nblock N bsize B"
 *   w:LBA:GEN     write the pattern of (LBA, GEN)
 *   z:LBA         set_zero
 *   e:LBA         set_error
 *   r:LBA:GEN     read and compare with the pattern (GEN 0: zeros,
 *                 GEN -1: the read must fail with EIO)
 *   k             pmemblk_check (pool closed first), print "check R"
 * Exits 1 with a message on the first failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpmemblk.h>

static void
pattern(unsigned char *p, size_t n, long long lba, int gen)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(lba ^ (long long)(i * 7) ^ gen);
	p[0] = (unsigned char)gen;
}

static void
die(const char *op, const char *what)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", op, what, pmemblk_errormsg(), strerror(errno));
	exit(1);
}

int
main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: cpeer PATH OP...\n");
		return 2;
	}
	const char *path = argv[1];
	PMEMblkpool *pbp = NULL;
	size_t bsize = 0;
	unsigned char *buf = NULL, *want = NULL;
	for (int i = 2; i < argc; i++) {
		const char *op = argv[i];
		long long a = 0, b = 0;
		if (op[0] && op[1] == ':') {
			char *end;
			a = strtoll(op + 2, &end, 0);
			if (*end == ':')
				b = strtoll(end + 1, NULL, 0);
		}
		if (op[0] != 'c' && op[0] != 'o' && op[0] != 'k' && pbp == NULL)
			die(op, "pool not open");
		switch (op[0]) {
		case 'c':
			pbp = pmemblk_create(path, (size_t)a, (size_t)b, 0600);
			if (pbp == NULL)
				die(op, "create");
			break;
		case 'o':
			pbp = pmemblk_open(path, (size_t)a);
			if (pbp == NULL)
				die(op, "open");
			break;
		case 'n':
			printf("nblock %zu bsize %zu\n", pmemblk_nblock(pbp), pmemblk_bsize(pbp));
			break;
		case 'w':
			pattern(buf, bsize, a, (int)b);
			if (pmemblk_write(pbp, buf, a) != 0)
				die(op, "write");
			break;
		case 'z':
			if (pmemblk_set_zero(pbp, a) != 0)
				die(op, "set_zero");
			break;
		case 'e':
			if (pmemblk_set_error(pbp, a) != 0)
				die(op, "set_error");
			break;
		case 'r':
			if (pmemblk_read(pbp, buf, a) != 0) {
				if (b == -1 && errno == EIO)
					break;
				die(op, "read");
			}
			if (b == -1)
				die(op, "read of an error block succeeded");
			if (b == 0)
				memset(want, 0, bsize);
			else
				pattern(want, bsize, a, (int)b);
			if (memcmp(buf, want, bsize) != 0) {
				fprintf(stderr, "%s: content differs\n", op);
				return 1;
			}
			break;
		case 'k':
			if (pbp) {
				pmemblk_close(pbp);
				pbp = NULL;
			}
			printf("check %d\n", pmemblk_check(path, 0));
			continue;
		default:
			fprintf(stderr, "%s: unknown op\n", op);
			return 2;
		}
		if (pbp && buf == NULL) {
			bsize = pmemblk_bsize(pbp);
			buf = malloc(bsize);
			want = malloc(bsize);
		}
	}
	if (pbp)
		pmemblk_close(pbp);
	return 0;
}
