// apis: every interposed function once, with the results checked: the
// output is the same with any correct allocator.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// cfree: glibc keeps it only for old binaries; the preload exports it.
static void (*cfree_fn)(void *);

static int fails;

static void check(int ok, const char *what) {
	if (!ok) {
		printf("FAIL %s\n", what);
		fails++;
	}
}

int main(void) {
	cfree_fn = (void (*)(void *))dlsym(RTLD_DEFAULT, "cfree");
	if (!cfree_fn)
		cfree_fn = free;
	size_t sizes[] = {0, 1, 15, 16, 17, 100, 1000, 4096, 5000, 32768, 32769, 100000, 1 << 20};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		char *p = malloc(n);
		check(p != NULL, "malloc");
		check(((uintptr_t)p & 15) == 0, "malloc alignment");
		check(malloc_usable_size(p) >= n, "usable size");
		memset(p, 'x', n);
		char *q = realloc(p, n * 2 + 1);
		check(q != NULL, "realloc grow");
		for (size_t k = 0; k < n; k++)
			if (q[k] != 'x') {
				check(0, "realloc keeps data");
				break;
			}
		q = realloc(q, n / 2 + 1);
		check(q != NULL && (n < 2 || q[n / 2] == 'x'), "realloc shrink");
		free(q);
		char *z = calloc(n + 1, 3);
		int zero = z != NULL;
		for (size_t k = 0; zero && k < (n + 1) * 3; k++)
			zero = z[k] == 0;
		check(zero, "calloc zeroes");
		free(z);
		for (size_t al = 8; al <= 1 << 16; al <<= 1) {
			void *a = NULL;
			check(posix_memalign(&a, al, n) == 0 && ((uintptr_t)a & (al - 1)) == 0, "posix_memalign");
			memset(a, 1, n);
			free(a);
			a = aligned_alloc(al, n);
			check(a && ((uintptr_t)a & (al - 1)) == 0, "aligned_alloc");
			free(a);
			a = memalign(al, n);
			check(a && ((uintptr_t)a & (al - 1)) == 0, "memalign");
			cfree_fn(a);
		}
		void *v = valloc(n);
		check(v && ((uintptr_t)v & 4095) == 0, "valloc");
		free(v);
		v = pvalloc(n);
		check(v && ((uintptr_t)v & 4095) == 0 && malloc_usable_size(v) >= ((n + 4095) & ~(size_t)4095), "pvalloc");
		free(v);
	}
	void *a = NULL;
	check(posix_memalign(&a, 24, 10) == EINVAL, "posix_memalign EINVAL");
	errno = 0;
	check(calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM, "calloc overflow");
	errno = 0;
	check(reallocarray(NULL, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM, "reallocarray overflow");
	int *r = reallocarray(NULL, 10, sizeof(int));
	check(r != NULL, "reallocarray");
	free(r);
	free(NULL);
	check(realloc(malloc(10), 0) == NULL, "realloc to 0 frees");
	char *d = strdup("hello, pool");
	check(d && strcmp(d, "hello, pool") == 0, "strdup");
	free(d);
	// The preload's statistics call, to stderr (absent without it).
	void (*stats)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "vmmalloc_stats_print");
	if (stats)
		stats(2);
	printf("apis: %d failures\n", fails);
	return fails != 0;
}
