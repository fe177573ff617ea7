/*
 * logpeer: drives C libpmemlog for gopmdk's interop tests.
 *
 *   logpeer create PATH SIZE OP...   pmemlog_create (SIZE 0: existing file)
 *   logpeer open PATH OP...          pmemlog_open
 *   logpeer walk PATH CHUNKSIZE      print tell, nbyte, then every chunk
 *   logpeer check PATH               print pmemlog_check's result
 *
 * OP is a:HEX (append), v:HEX,HEX,... (appendv; an empty HEX is an empty
 * buffer) or r (rewind). A failing op prints its errno and exits 3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <libpmemlog.h>

static size_t unhex(const char *s, size_t n, char *out) {
	size_t len = n / 2;
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (char)v;
	}
	return len;
}

static int run_ops(PMEMlogpool *plp, int argc, char **argv) {
	for (int i = 0; i < argc; i++) {
		const char *op = argv[i];
		if (strcmp(op, "r") == 0) {
			pmemlog_rewind(plp);
		} else if (strncmp(op, "a:", 2) == 0) {
			size_t n = strlen(op + 2);
			char *buf = malloc(n / 2 + 1);
			size_t len = unhex(op + 2, n, buf);
			if (pmemlog_append(plp, buf, len) != 0) {
				printf("append %d failed errno %d\n", i, errno);
				return 3;
			}
			free(buf);
		} else if (strncmp(op, "v:", 2) == 0) {
			struct iovec iov[64];
			int cnt = 0;
			char *s = strdup(op + 2), *tok;
			/* strsep keeps empty fields: they are empty buffers */
			char *rest = s;
			while ((tok = strsep(&rest, ",")) != NULL && cnt < 64) {
				size_t n = strlen(tok);
				iov[cnt].iov_base = malloc(n / 2 + 1);
				iov[cnt].iov_len = unhex(tok, n, iov[cnt].iov_base);
				cnt++;
			}
			if (pmemlog_appendv(plp, iov, cnt) != 0) {
				printf("appendv %d failed errno %d\n", i, errno);
				return 3;
			}
			for (int j = 0; j < cnt; j++)
				free(iov[j].iov_base);
			free(s);
		} else {
			fprintf(stderr, "bad op %s\n", op);
			return 2;
		}
	}
	return 0;
}

static int print_chunk(const void *buf, size_t len, void *arg) {
	(void)arg;
	printf("chunk %zu ", len);
	for (size_t i = 0; i < len; i++)
		printf("%02x", ((const unsigned char *)buf)[i]);
	printf("\n");
	return 1;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: logpeer create|open|walk|check PATH ...\n");
		return 2;
	}
	const char *cmd = argv[1], *path = argv[2];
	if (strcmp(cmd, "check") == 0) {
		printf("check %d\n", pmemlog_check(path));
		return 0;
	}
	PMEMlogpool *plp;
	int first;
	if (strcmp(cmd, "create") == 0) {
		if (argc < 4)
			return 2;
		plp = pmemlog_create(path, strtoull(argv[3], NULL, 0), 0600);
		first = 4;
	} else {
		plp = pmemlog_open(path);
		first = 3;
	}
	if (plp == NULL) {
		printf("error %s: %s\n", cmd, pmemlog_errormsg());
		return 1;
	}
	int rc = 0;
	if (strcmp(cmd, "walk") == 0) {
		size_t chunk = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
		printf("tell %lld\nnbyte %zu\n", pmemlog_tell(plp), pmemlog_nbyte(plp));
		pmemlog_walk(plp, chunk, print_chunk, NULL);
	} else {
		rc = run_ops(plp, argc - first, argv + first);
		printf("tell %lld\nnbyte %zu\n", pmemlog_tell(plp), pmemlog_nbyte(plp));
	}
	pmemlog_close(plp);
	return rc;
}
