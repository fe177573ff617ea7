// threads: many threads hammering malloc, calloc, realloc, posix_memalign
// and free, each checking the data of its blocks, and handing blocks to
// other threads to free. Prints a checksum of what the threads wrote (the
// same with any correct allocator) and the errors found (0).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512
#define XCHG 1024

static pthread_mutex_t xmu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *xchg[XCHG];
static size_t xlen[XCHG];
static long errors;
static int iters = 100000;

static uint64_t rnd(uint64_t *s) {
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t pick(uint64_t *s) {
	uint64_t r = rnd(s) % 100;
	if (r < 70)
		return 1 + rnd(s) % 256;
	if (r < 95)
		return 1 + rnd(s) % 8192;
	return 1 + rnd(s) % 70000;
}

static void fill(unsigned char *p, size_t n, unsigned char v) { memset(p, v, n); }

static int check(const unsigned char *p, size_t n, unsigned char v) {
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void *worker(void *arg) {
	uint64_t seed = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 1), sum = 0;
	unsigned char *p[SLOTS] = {0};
	size_t len[SLOTS] = {0};
	unsigned char val[SLOTS] = {0};
	long errs = 0;
	for (int it = 0; it < iters; it++) {
		int i = (int)(rnd(&seed) % SLOTS);
		if (p[i]) {
			if (!check(p[i], len[i], val[i]))
				errs++;
			uint64_t op = rnd(&seed) % 4;
			if (op == 0) { // realloc keeps the data
				size_t n = pick(&seed);
				unsigned char *q = realloc(p[i], n);
				if (!q) { errs++; continue; }
				if (!check(q, n < len[i] ? n : len[i], val[i]))
					errs++;
				p[i] = q;
				len[i] = n;
				fill(q, n, val[i]);
				continue;
			}
			if (op == 1) { // hand it to another thread
				int x = (int)(rnd(&seed) % XCHG);
				pthread_mutex_lock(&xmu);
				unsigned char *old = xchg[x];
				size_t ol = xlen[x];
				xchg[x] = p[i];
				xlen[x] = len[i];
				fill(p[i], len[i], 0xA5);
				pthread_mutex_unlock(&xmu);
				if (old) {
					if (!check(old, ol, 0xA5))
						errs++;
					free(old);
				}
			} else {
				free(p[i]);
			}
			p[i] = NULL;
			continue;
		}
		size_t n = pick(&seed);
		unsigned char v = (unsigned char)(rnd(&seed) | 1);
		uint64_t op = rnd(&seed) % 8;
		if (op == 0) {
			p[i] = calloc(1, n);
			if (p[i] && !check(p[i], n, 0))
				errs++;
		} else if (op == 1) {
			void *q = NULL;
			size_t al = (size_t)16 << (rnd(&seed) % 9);
			if (posix_memalign(&q, al, n) != 0 || ((uintptr_t)q & (al - 1)))
				errs++;
			p[i] = q;
		} else {
			p[i] = malloc(n);
		}
		if (!p[i]) {
			errs++;
			continue;
		}
		len[i] = n;
		val[i] = v;
		fill(p[i], n, v);
		sum += n * v;
	}
	for (int i = 0; i < SLOTS; i++)
		if (p[i]) {
			if (!check(p[i], len[i], val[i]))
				errs++;
			free(p[i]);
		}
	pthread_mutex_lock(&xmu);
	errors += errs;
	pthread_mutex_unlock(&xmu);
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 8;
	if (argc > 2)
		iters = atoi(argv[2]);
	pthread_t t[64];
	uint64_t sum = 0;
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (int i = 0; i < n; i++) {
		void *r;
		pthread_join(t[i], &r);
		sum += (uintptr_t)r;
	}
	for (int x = 0; x < XCHG; x++)
		if (xchg[x]) {
			if (!check(xchg[x], xlen[x], 0xA5))
				errors++;
			free(xchg[x]);
		}
	printf("threads %d checksum %llu errors %ld\n", n, (unsigned long long)sum, errors);
	return errors != 0;
}
