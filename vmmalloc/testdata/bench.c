// bench: malloc/free of one size by T threads: each thread allocates a
// batch of 64 blocks, touches them and frees them, iters times. Prints the
// nanoseconds per malloc+free pair (wall time over all threads' pairs).
// Built with -DMEMKIND it uses memkind's PMEM kind on a directory instead.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef MEMKIND
#include <memkind.h>
static memkind_t kind;
#define ALLOC(n) memkind_malloc(kind, n)
#define FREE(p) memkind_free(kind, p)
#else
#define ALLOC(n) malloc(n)
#define FREE(p) free(p)
#endif

static size_t size;
static long iters;

static void *worker(void *arg) {
	void *b[64];
	(void)arg;
	for (long i = 0; i < iters; i++) {
		for (int k = 0; k < 64; k++) {
			b[k] = ALLOC(size);
			if (!b[k])
				abort();
			*(volatile char *)b[k] = (char)k;
		}
		for (int k = 0; k < 64; k++)
			FREE(b[k]);
	}
	return NULL;
}

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "usage: bench threads size iters [pmem-dir]\n");
		return 2;
	}
	int threads = atoi(argv[1]);
	size = (size_t)atol(argv[2]);
	iters = atol(argv[3]);
#ifdef MEMKIND
	if (argc < 5 || memkind_create_pmem(argv[4], 0, &kind) != 0) {
		fprintf(stderr, "memkind_create_pmem failed\n");
		return 1;
	}
#endif
	pthread_t t[64];
	struct timespec a, z;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &z);
	double ns = (z.tv_sec - a.tv_sec) * 1e9 + (z.tv_nsec - a.tv_nsec);
	printf("%.2f\n", ns / ((double)threads * iters * 64));
	return 0;
}
