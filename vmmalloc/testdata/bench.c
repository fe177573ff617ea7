// bench: malloc/free of one size by T threads: each thread allocates a
// batch of blocks (1 to 64), touches them and frees them, iters times. Prints the
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
static int batch;

static void *worker(void *arg) {
	void *b[64];
	(void)arg;
	for (long i = 0; i < iters; i++) {
		for (int k = 0; k < batch; k++) {
			b[k] = ALLOC(size);
			if (!b[k])
				abort();
			*(volatile char *)b[k] = (char)k;
		}
		for (int k = 0; k < batch; k++)
			FREE(b[k]);
	}
	return NULL;
}

int main(int argc, char **argv) {
	if (argc < 5) {
		fprintf(stderr, "usage: bench threads size iters batch [pmem-dir]\n");
		return 2;
	}
	int threads = atoi(argv[1]);
	size = (size_t)atol(argv[2]);
	iters = atol(argv[3]);
	batch = atoi(argv[4]);
	if (batch < 1 || batch > 64)
		return 2;
#ifdef MEMKIND
	if (argc < 6 || memkind_create_pmem(argv[5], 0, &kind) != 0) {
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
	printf("%.2f\n", ns / ((double)threads * iters * batch));
	return 0;
}
