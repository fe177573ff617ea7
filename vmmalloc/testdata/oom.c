// oom: allocates until malloc returns NULL (at most limit bytes), checks
// errno is ENOMEM, frees everything and allocates again.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *blocks[1 << 20];

static long fill(size_t size, long max) {
	long n = 0;
	for (; n < max; n++) {
		errno = 0;
		void *p = malloc(size);
		if (!p) {
			if (errno != ENOMEM) {
				printf("malloc(%zu) NULL with errno %d\n", size, errno);
				exit(1);
			}
			break;
		}
		memset(p, 1, size < 4096 ? size : 4096);
		blocks[n] = p;
	}
	return n;
}

static void drop(long n) {
	for (long i = 0; i < n; i++)
		free(blocks[i]);
}

int main(int argc, char **argv) {
	long limit = argc > 1 ? atol(argv[1]) : 64l << 20;
	long big = fill(1 << 20, limit >> 20);
	drop(big);
	long small = fill(64, limit / 64 < (1 << 20) ? limit / 64 : (1 << 20));
	drop(small);
	long again = fill(1 << 20, limit >> 20);
	drop(again);
	errno = 0;
	void *huge = malloc((size_t)limit * 4);
	printf("big %s small %s again %s huge %s\n", big < limit >> 20 ? "enomem" : "all",
	       small < limit / 64 ? "enomem" : "all", again >= big - 2 && again > 0 ? "ok" : "lost",
	       huge ? "allocated" : errno == ENOMEM ? "enomem" : "other");
	return 0;
}
