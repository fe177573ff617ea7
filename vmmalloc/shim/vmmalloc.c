// vmmalloc's LD_PRELOAD shim: malloc and friends of any dynamically linked
// program served from a pool file, with vmem's allocator policy (page heap,
// size classes, slabs, per-thread caches: see vmem/doc.go and the package
// doc of vmmalloc). The constants and tables come from policy.h, generated
// from vmem.AllocatorPolicy. No Go runtime runs in this library: see the
// package doc for why.
//
// Built by vmmalloc.Build (gcc -O2 -fPIC -shared); nothing here calls
// malloc, except pthread_atfork during initialisation, which the bootstrap
// arena serves.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy.h"

#define EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NONE UINT32_MAX
#define TLS __thread __attribute__((tls_model("initial-exec")))

extern char **environ;

enum { SPAN_DEAD, SPAN_FREE, SPAN_LARGE, SPAN_SLAB };

// A span is a run of pages: a free extent, a large allocation or a slab.
// Spans tile the pool; a span's record is spans[start], so a record whose
// state is not SPAN_DEAD names the span starting at its index.
struct span {
	uint32_t start, npages;
	uint8_t state, cls, inlist;
	uint32_t prev, next; // free bin list, or the class's list of slabs with free objects
	uint32_t lidx;       // index in heap.large while a large free extent
	uint32_t nelems, nfree, hint, corrupt;
	uint64_t freebits[VM_SLAB_WORDS];
};

static struct {
	pthread_mutex_t mu;
	uint32_t bins[VM_EXACT_BINS];
	uint64_t binmask[VM_EXACT_BINS / 64];
	uint32_t *large, nlarge;
	uint64_t free_pages, dirty_pages, large_pages, large_live, large_allocs, large_frees;
	uint64_t slab_pages, next_sweep, dirty_limit, releases, peak_active;
	int norelease;
} H = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct central {
	pthread_mutex_t mu;
	uint32_t partial;
	int nslabs, nempty;
	uint64_t corrupt;
	char pad[64];
};

static struct central CT[VM_NCLASS];

// A per-thread cache: a stack of free objects per class (vmem's per-P
// cache; a C thread cannot be pinned to a P, so the cache is the thread's).
struct tcache {
	struct tcache *prev, *next; // the registry of live caches
	uint32_t gen;
	uint64_t allocs, frees;
	int64_t bytes;
	uint32_t n[VM_NCLASS];
	uintptr_t objs[VM_CACHE_TOTAL];
};

// Pool state.
static char *g_base;
static uintptr_t g_ubase;
static size_t g_size;
static uint32_t g_npages;
static int g_fd = -1;
static uint32_t *g_pagemap; // per page: the start of its span + 1, or 0
static struct span *g_spans;
static uint64_t *g_released; // bit set: page not backed by the file
static char g_dir[4096];
static int g_fork_mode = 1;
static int g_private; // the pool is mapped MAP_PRIVATE (after a fork in mode 1)
static uint32_t g_gen; // bumped when memory runs out: every cache drains

enum { ST_NONE, ST_INIT, ST_READY };
static int g_state;
static pid_t g_init_tid;

// Caches and counters of threads that have none.
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tcache *g_reg;
static struct tcache *g_tc_free;
static uint64_t g_dead_allocs, g_dead_frees;
static int64_t g_dead_bytes;
static pthread_key_t g_key;
static TLS struct tcache *t_tc;
static TLS int t_dead;

// Logging.
static int g_log_level;
static int g_log_stats;
static char g_log_file[4096];
static int g_log_fd = -1;
static pid_t g_log_pid;

// ---- small helpers that allocate nothing ----

static size_t fmt_u64(char *buf, uint64_t v) {
	char tmp[24];
	size_t n = 0, i;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

struct out {
	char buf[8192];
	size_t n;
};

static void out_s(struct out *o, const char *s) {
	size_t l = strlen(s);
	if (o->n + l > sizeof o->buf)
		l = sizeof o->buf - o->n;
	memcpy(o->buf + o->n, s, l);
	o->n += l;
}

static void out_u(struct out *o, uint64_t v) {
	if (o->n + 24 <= sizeof o->buf)
		o->n += fmt_u64(o->buf + o->n, v);
}

static void out_kv(struct out *o, const char *k, uint64_t v) {
	out_s(o, k);
	out_s(o, ": ");
	out_u(o, v);
	out_s(o, "\n");
}

static void write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

// log_fd returns the log's descriptor: VMMALLOC_LOG_FILE (its name ending
// in '-' gets the pid appended, per process, forks included) or stderr.
static int log_fd(void) {
	if (g_log_file[0] == 0)
		return 2;
	pid_t pid = getpid();
	if (g_log_fd >= 0 && g_log_pid == pid)
		return g_log_fd;
	char path[4200];
	size_t l = strlen(g_log_file);
	memcpy(path, g_log_file, l + 1);
	if (l > 0 && path[l - 1] == '-') {
		l += fmt_u64(path + l, (uint64_t)pid);
		path[l] = 0;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return 2;
	g_log_fd = fd;
	g_log_pid = pid;
	return fd;
}

static void logmsg(int level, const char *a, const char *b, uint64_t n) {
	if (level > g_log_level)
		return;
	struct out o = {.n = 0};
	out_s(&o, "vmmalloc[");
	out_u(&o, (uint64_t)getpid());
	out_s(&o, "]: ");
	out_s(&o, a);
	if (b)
		out_s(&o, b);
	if (n != NONE) {
		out_s(&o, " ");
		out_u(&o, n);
	}
	out_s(&o, "\n");
	write_all(log_fd(), o.buf, o.n);
}

static void fatal(const char *a, const char *b) {
	struct out o = {.n = 0};
	out_s(&o, "vmmalloc: ");
	out_s(&o, a);
	if (b)
		out_s(&o, b);
	out_s(&o, "\n");
	write_all(2, o.buf, o.n);
	_exit(1);
}

// ---- page map and spans ----

static inline struct span *SP(uint32_t start) { return &g_spans[start]; }

static inline uint32_t map_get(uint32_t page) { return __atomic_load_n(&g_pagemap[page], __ATOMIC_ACQUIRE); }

static inline void map_set(uint32_t page, uint32_t start) {
	__atomic_store_n(&g_pagemap[page], start + 1, __ATOMIC_RELEASE);
}

static void map_ends(struct span *s) {
	map_set(s->start, s->start);
	map_set(s->start + s->npages - 1, s->start);
}

static void span_init(struct span *s, uint32_t start, uint32_t n) {
	memset(s, 0, offsetof(struct span, freebits));
	s->start = start;
	s->npages = n;
	s->prev = s->next = s->lidx = NONE;
}

// ---- page heap (vmem/heap.go's policy); called with H.mu held ----

static void insert_free(struct span *s) {
	s->state = SPAN_FREE;
	uint32_t n = s->npages;
	if (n < VM_EXACT_BINS) {
		s->prev = NONE;
		s->next = H.bins[n];
		if (s->next != NONE)
			SP(s->next)->prev = s->start;
		H.bins[n] = s->start;
		H.binmask[n / 64] |= 1ull << (n % 64);
		return;
	}
	s->lidx = H.nlarge;
	H.large[H.nlarge++] = s->start;
}

static void remove_free(struct span *s) {
	uint32_t n = s->npages;
	if (n < VM_EXACT_BINS) {
		if (s->prev != NONE)
			SP(s->prev)->next = s->next;
		else
			H.bins[n] = s->next;
		if (s->next != NONE)
			SP(s->next)->prev = s->prev;
		s->prev = s->next = NONE;
		if (H.bins[n] == NONE)
			H.binmask[n / 64] &= ~(1ull << (n % 64));
		return;
	}
	uint32_t last = H.large[--H.nlarge];
	H.large[s->lidx] = last;
	SP(last)->lidx = s->lidx;
	s->lidx = NONE;
}

// find_free returns the best-fitting free extent of at least n pages.
static struct span *find_free(uint32_t n) {
	if (n < VM_EXACT_BINS) {
		for (uint32_t w = n / 64; w < VM_EXACT_BINS / 64; w++) {
			uint64_t m = H.binmask[w];
			if (w == n / 64)
				m &= ~0ull << (n % 64);
			if (m)
				return SP(H.bins[w * 64 + (uint32_t)__builtin_ctzll(m)]);
		}
	}
	struct span *best = NULL;
	for (uint32_t i = 0; i < H.nlarge; i++) {
		struct span *s = SP(H.large[i]);
		if (s->npages >= n &&
		    (!best || s->npages < best->npages || (s->npages == best->npages && s->start < best->start)))
			best = s;
	}
	return best;
}

static uint32_t align_lead(struct span *s, uint32_t align) {
	uint32_t base = (uint32_t)(g_ubase >> VM_PAGE_SHIFT);
	return (align - (base + s->start) % align) % align;
}

static struct span *find_free_aligned(uint32_t n, uint32_t align, uint32_t *lead) {
	for (uint32_t k = n < VM_EXACT_BINS ? n : VM_EXACT_BINS; k < VM_EXACT_BINS; k++) {
		for (uint32_t i = H.bins[k]; i != NONE; i = SP(i)->next) {
			uint32_t l = align_lead(SP(i), align);
			if (SP(i)->npages >= l && SP(i)->npages - l >= n) {
				*lead = l;
				return SP(i);
			}
		}
	}
	struct span *best = NULL;
	for (uint32_t i = 0; i < H.nlarge; i++) {
		struct span *s = SP(H.large[i]);
		uint32_t l = align_lead(s, align);
		if (s->npages >= l && s->npages - l >= n && (!best || s->npages < best->npages)) {
			best = s;
			*lead = l;
		}
	}
	return best;
}

static inline int is_released(uint32_t p) { return (g_released[p / 64] >> (p % 64)) & 1; }

static uint64_t clear_released(uint32_t p, uint32_t n) {
	uint64_t c = 0;
	for (; n > 0; p++, n--) {
		if (p % 64 == 0 && n >= 64) {
			c += (uint64_t)__builtin_popcountll(g_released[p / 64]);
			g_released[p / 64] = 0;
			p += 63;
			n -= 63;
			continue;
		}
		if (is_released(p)) {
			c++;
			g_released[p / 64] &= ~(1ull << (p % 64));
		}
	}
	return c;
}

static void note_active(void) {
	uint64_t a = H.large_pages + H.slab_pages;
	if (a > H.peak_active)
		H.peak_active = a;
}

// heap_alloc takes n pages aligned to align pages and returns them as a
// span in state st, or NULL.
static struct span *heap_alloc(uint32_t n, uint32_t align, int st) {
	uint32_t lead = 0;
	struct span *s = align <= 1 ? find_free(n) : find_free_aligned(n, align, &lead);
	if (!s)
		return NULL;
	remove_free(s);
	uint32_t start = s->start, total = s->npages;
	if (lead) {
		s->npages = lead;
		map_ends(s);
		insert_free(s);
	}
	struct span *a = SP(start + lead);
	span_init(a, start + lead, n);
	uint32_t rest = total - lead - n;
	if (rest) {
		struct span *t = SP(start + lead + n);
		span_init(t, start + lead + n, rest);
		map_ends(t);
		insert_free(t);
	}
	map_ends(a);
	a->state = (uint8_t)st;
	H.free_pages -= n;
	H.dirty_pages -= n - clear_released(a->start, n);
	return a;
}

static void sweep(void) {
	for (int pass = 0; pass < 2; pass++) {
		uint32_t k = pass == 0 ? 0 : VM_MIN_RELEASE;
		uint32_t kend = pass == 0 ? H.nlarge : VM_EXACT_BINS;
		for (; k < kend; k++) {
			uint32_t i = pass == 0 ? H.large[k] : H.bins[k];
			while (i != NONE) {
				struct span *s = SP(i);
				uint32_t end = s->start + s->npages, p = s->start;
				while (p < end) {
					while (p < end && is_released(p))
						p++;
					uint32_t q = p;
					while (q < end && !is_released(q))
						q++;
					if (q > p) {
						if (madvise(g_base + ((size_t)p << VM_PAGE_SHIFT), (size_t)(q - p) << VM_PAGE_SHIFT,
							    MADV_REMOVE) != 0) {
							H.norelease = 1;
							return;
						}
						for (uint32_t r = p; r < q; r++)
							g_released[r / 64] |= 1ull << (r % 64);
						H.dirty_pages -= q - p;
						H.releases += q - p;
					}
					p = q;
				}
				i = pass == 0 ? NONE : s->next;
			}
		}
	}
	H.next_sweep = H.dirty_pages + H.dirty_limit;
}

// heap_free returns s's pages, coalescing with both free neighbours.
static void heap_free(struct span *s) {
	uint32_t n = s->npages;
	H.free_pages += n;
	H.dirty_pages += n;
	if (s->state == SPAN_SLAB)
		for (uint32_t p = s->start + 1; p + 1 < s->start + n; p++)
			__atomic_store_n(&g_pagemap[p], 0, __ATOMIC_RELEASE);
	if (s->start > 0) {
		uint32_t m = map_get(s->start - 1);
		if (m) {
			struct span *l = SP(m - 1);
			if (l->state == SPAN_FREE && l->start + l->npages == s->start) {
				remove_free(l);
				l->npages += s->npages;
				s->state = SPAN_DEAD;
				s = l;
			}
		}
	}
	uint32_t e = s->start + s->npages;
	if (e < g_npages && map_get(e) == e + 1) {
		struct span *r = SP(e);
		if (r->state == SPAN_FREE) {
			remove_free(r);
			s->npages += r->npages;
			r->state = SPAN_DEAD;
		}
	}
	map_ends(s);
	insert_free(s);
	if (H.dirty_pages > H.next_sweep && !H.norelease && !g_private)
		sweep();
}

static uint32_t largest_free(void) {
	uint32_t m = 0;
	for (uint32_t i = 0; i < H.nlarge; i++)
		if (SP(H.large[i])->npages > m)
			m = SP(H.large[i])->npages;
	if (m)
		return m;
	for (int w = VM_EXACT_BINS / 64 - 1; w >= 0; w--)
		if (H.binmask[w])
			return (uint32_t)(w * 64 + 63 - __builtin_clzll(H.binmask[w]));
	return 0;
}

// ---- central lists of slabs (vmem/central.go's policy) ----

static void ct_push(struct central *ct, struct span *s) {
	s->prev = NONE;
	s->next = ct->partial;
	if (s->next != NONE)
		SP(s->next)->prev = s->start;
	ct->partial = s->start;
	s->inlist = 1;
}

static void ct_remove(struct central *ct, struct span *s) {
	if (s->prev != NONE)
		SP(s->prev)->next = s->next;
	else
		ct->partial = s->next;
	if (s->next != NONE)
		SP(s->next)->prev = s->prev;
	s->prev = s->next = NONE;
	s->inlist = 0;
}

static struct span *new_slab(uint32_t c) {
	pthread_mutex_lock(&H.mu);
	struct span *s = heap_alloc(vm_class_pages[c], 1, SPAN_SLAB);
	if (s) {
		for (uint32_t p = s->start + 1; p + 1 < s->start + s->npages; p++)
			map_set(p, s->start);
		H.slab_pages += s->npages;
		note_active();
	}
	pthread_mutex_unlock(&H.mu);
	if (!s)
		return NULL;
	s->cls = (uint8_t)c;
	uint32_t n = s->npages * VM_PAGE_SIZE / vm_class_size[c];
	s->nelems = s->nfree = n;
	for (uint32_t w = 0; w < VM_SLAB_WORDS; w++)
		s->freebits[w] = n >= (w + 1) * 64 ? ~0ull : n > w * 64 ? (1ull << (n % 64)) - 1 : 0;
	s->hint = 0;
	return s;
}

static uint32_t slab_take(struct span *s, uintptr_t *buf, uint32_t want) {
	uintptr_t addr = g_ubase + ((uintptr_t)s->start << VM_PAGE_SHIFT);
	uintptr_t size = vm_class_size[s->cls];
	uint32_t n = 0, w;
	for (w = s->hint; w < VM_SLAB_WORDS && n < want; w++) {
		uint64_t m = s->freebits[w];
		while (m && n < want) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(m);
			buf[n++] = addr + i * size;
			m &= m - 1;
		}
		s->freebits[w] = m;
		if (m) {
			s->hint = w;
			break;
		}
		s->hint = w + 1;
	}
	s->nfree -= n;
	return n;
}

static uint32_t refill(uint32_t c, uintptr_t *buf, uint32_t want) {
	struct central *ct = &CT[c];
	pthread_mutex_lock(&ct->mu);
	uint32_t n = 0;
	while (n < want) {
		struct span *s = ct->partial == NONE ? NULL : SP(ct->partial);
		if (!s) {
			if (!(s = new_slab(c)))
				break;
			ct->nslabs++;
			ct->nempty++;
			ct_push(ct, s);
		}
		if (s->nfree == s->nelems)
			ct->nempty--;
		n += slab_take(s, buf + n, want - n);
		if (s->nfree == 0)
			ct_remove(ct, s);
	}
	pthread_mutex_unlock(&ct->mu);
	return n;
}

static void release_slab(struct central *ct, struct span *s) {
	ct_remove(ct, s);
	ct->nslabs--;
	pthread_mutex_lock(&H.mu);
	H.slab_pages -= s->npages;
	heap_free(s);
	pthread_mutex_unlock(&H.mu);
}

static void flush(uint32_t c, const uintptr_t *objs, uint32_t n) {
	struct central *ct = &CT[c];
	pthread_mutex_lock(&ct->mu);
	for (uint32_t k = 0; k < n; k++) {
		uintptr_t off = objs[k] - g_ubase;
		uint32_t m = map_get((uint32_t)(off >> VM_PAGE_SHIFT));
		struct span *s = m ? SP(m - 1) : NULL;
		if (!s || s->state != SPAN_SLAB || s->cls != c) {
			ct->corrupt++;
			continue;
		}
		uint32_t i = (uint32_t)((uint64_t)(uint32_t)(off - ((uintptr_t)s->start << VM_PAGE_SHIFT)) *
					vm_class_divmul[c] >> 32);
		uint32_t w = i / 64;
		uint64_t b = 1ull << (i % 64);
		if (s->freebits[w] & b) {
			s->corrupt++;
			continue;
		}
		s->freebits[w] |= b;
		s->nfree++;
		if (w < s->hint)
			s->hint = w;
		if (!s->inlist)
			ct_push(ct, s);
		if (s->nfree == s->nelems) {
			if (ct->nempty >= VM_KEEP_EMPTY && s->corrupt == 0) {
				release_slab(ct, s);
				continue;
			}
			ct->nempty++;
		}
	}
	pthread_mutex_unlock(&ct->mu);
}

static void trim_empty_slabs(void) {
	for (uint32_t c = 1; c < VM_NCLASS; c++) {
		struct central *ct = &CT[c];
		pthread_mutex_lock(&ct->mu);
		for (uint32_t i = ct->partial; i != NONE;) {
			struct span *s = SP(i);
			i = s->next;
			if (s->nfree == s->nelems && s->corrupt == 0) {
				release_slab(ct, s);
				ct->nempty--;
			}
		}
		pthread_mutex_unlock(&ct->mu);
	}
}

// ---- thread caches ----

static void drain_own(struct tcache *tc) {
	tc->gen = __atomic_load_n(&g_gen, __ATOMIC_RELAXED);
	for (uint32_t c = 1; c < VM_NCLASS; c++) {
		if (tc->n[c]) {
			flush(c, tc->objs + vm_cache_off[c], tc->n[c]);
			tc->n[c] = 0;
		}
	}
}

static void tc_destroy(void *p) {
	struct tcache *tc = p;
	drain_own(tc);
	pthread_mutex_lock(&g_reg_mu);
	g_dead_allocs += tc->allocs;
	g_dead_frees += tc->frees;
	g_dead_bytes += tc->bytes;
	if (tc->prev)
		tc->prev->next = tc->next;
	else
		g_reg = tc->next;
	if (tc->next)
		tc->next->prev = tc->prev;
	tc->next = g_tc_free;
	g_tc_free = tc;
	pthread_mutex_unlock(&g_reg_mu);
	t_tc = NULL;
	t_dead = 1;
}

static struct tcache *tc_new(void) {
	pthread_mutex_lock(&g_reg_mu);
	struct tcache *tc = g_tc_free;
	if (tc) {
		g_tc_free = tc->next;
	} else {
		size_t sz = (sizeof(struct tcache) + 63) & ~(size_t)63, chunk = 64 * sz;
		char *m = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			pthread_mutex_unlock(&g_reg_mu);
			return NULL;
		}
		for (size_t i = 1; i < 64; i++) {
			struct tcache *f = (struct tcache *)(m + i * sz);
			f->next = g_tc_free;
			g_tc_free = f;
		}
		tc = (struct tcache *)m;
	}
	memset(tc, 0, offsetof(struct tcache, objs));
	tc->gen = __atomic_load_n(&g_gen, __ATOMIC_RELAXED);
	tc->next = g_reg;
	if (g_reg)
		g_reg->prev = tc;
	g_reg = tc;
	pthread_mutex_unlock(&g_reg_mu);
	return tc;
}

static struct tcache *get_tc(void) {
	struct tcache *tc = t_tc;
	if (likely(tc != NULL) || t_dead)
		return tc;
	tc = tc_new();
	if (!tc)
		return NULL;
	t_tc = tc;
	pthread_setspecific(g_key, tc);
	return tc;
}

static void uncached_count(uint64_t allocs, uint64_t frees, int64_t bytes) {
	pthread_mutex_lock(&g_reg_mu);
	g_dead_allocs += allocs;
	g_dead_frees += frees;
	g_dead_bytes += bytes;
	pthread_mutex_unlock(&g_reg_mu);
}

// oom_recover gives cached and empty-slab memory back to the page heap:
// this thread's cache now, the others' at their next miss.
static void oom_recover(struct tcache *tc) {
	__atomic_add_fetch(&g_gen, 1, __ATOMIC_RELAXED);
	if (tc)
		drain_own(tc);
	trim_empty_slabs();
}

// ---- bootstrap arena: calls made while the pool is being set up ----

static char g_boot[256 << 10] __attribute__((aligned(4096)));
static size_t g_boot_used;

static void *boot_alloc(size_t n, size_t align) {
	if (align < 16)
		align = 16;
	size_t start;
	for (;;) {
		size_t used = __atomic_load_n(&g_boot_used, __ATOMIC_RELAXED);
		start = (used + 16 + align - 1) & ~(align - 1);
		if (start + n > sizeof g_boot || n > sizeof g_boot) {
			errno = ENOMEM;
			return NULL;
		}
		if (__atomic_compare_exchange_n(&g_boot_used, &used, start + n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
	*(size_t *)(g_boot + start - 16) = n;
	return g_boot + start;
}

static inline int in_boot(const void *p) {
	return (const char *)p >= g_boot && (const char *)p < g_boot + sizeof g_boot;
}

static size_t boot_size(const void *p) { return *(const size_t *)((const char *)p - 16); }

// ---- initialisation ----

// env looks a variable up; before libc has set environ (ld.so's own early
// allocations), in /proc/self/environ.
static char g_envbuf[64 << 10];
static size_t g_envlen;

static const char *env(const char *name) {
	if (environ)
		return getenv(name);
	if (g_envlen == 0) {
		int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		ssize_t r;
		while (g_envlen < sizeof g_envbuf - 1 &&
		       (r = read(fd, g_envbuf + g_envlen, sizeof g_envbuf - 1 - g_envlen)) > 0)
			g_envlen += (size_t)r;
		close(fd);
		g_envbuf[g_envlen] = 0;
	}
	size_t l = strlen(name);
	for (size_t i = 0; i < g_envlen; i += strlen(g_envbuf + i) + 1)
		if (strncmp(g_envbuf + i, name, l) == 0 && g_envbuf[i + l] == '=')
			return g_envbuf + i + l + 1;
	return NULL;
}

static int parse_size(const char *s, uint64_t *v) {
	uint64_t n = 0;
	if (!s || !*s)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	int shift = 0;
	switch (*s) {
	case 'K': case 'k': shift = 10; s++; break;
	case 'M': case 'm': shift = 20; s++; break;
	case 'G': case 'g': shift = 30; s++; break;
	case 'T': case 't': shift = 40; s++; break;
	}
	if (*s == 'B' || *s == 'b')
		s++;
	if (*s || (shift && n > (UINT64_MAX >> shift)))
		return -1;
	*v = n << shift;
	return 0;
}

static int tmpfile_in(const char *dir) {
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char path[4200];
	size_t l = strlen(dir);
	if (l > 4000)
		return -1;
	memcpy(path, dir, l);
	memcpy(path + l, "/vmmalloc.XXXXXX", 17);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int make_file(const char *dir, size_t size) {
	int fd = tmpfile_in(dir);
	if (fd < 0)
		return -1;
	int err = posix_fallocate(fd, 0, (off_t)size);
	if (err == EOPNOTSUPP || err == EINVAL)
		err = ftruncate(fd, (off_t)size) ? errno : 0;
	if (err) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void *meta_map(size_t n) {
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

static void pool_init(void) {
	const char *dir = env("VMMALLOC_POOL_DIR"), *ssize = env("VMMALLOC_POOL_SIZE"), *v;
	uint64_t size = 0, lv;
	if ((v = env("VMMALLOC_LOG_LEVEL")) && parse_size(v, &lv) == 0)
		g_log_level = (int)lv;
	if ((v = env("VMMALLOC_LOG_STATS")) && parse_size(v, &lv) == 0)
		g_log_stats = lv != 0;
	if ((v = env("VMMALLOC_LOG_FILE")) && strlen(v) < sizeof g_log_file)
		memcpy(g_log_file, v, strlen(v) + 1);
	if ((v = env("VMMALLOC_FORK"))) {
		if (parse_size(v, &lv) != 0 || lv > 3)
			fatal("VMMALLOC_FORK must be 0, 1, 2 or 3, not ", v);
		g_fork_mode = (int)lv;
	}
	if (!dir || !*dir)
		fatal("VMMALLOC_POOL_DIR is not set", NULL);
	if (strlen(dir) >= sizeof g_dir)
		fatal("VMMALLOC_POOL_DIR is too long", NULL);
	if (!ssize || parse_size(ssize, &size) != 0)
		fatal("VMMALLOC_POOL_SIZE is not a size: ", ssize ? ssize : "(not set)");
	if (size < VM_MIN_POOL)
		fatal("VMMALLOC_POOL_SIZE is below the minimum (VMMALLOC_MIN_POOL, 14 MiB): ", ssize);
	size &= ~(uint64_t)(VM_PAGE_SIZE - 1);
	if (size >> VM_PAGE_SHIFT >= NONE)
		fatal("VMMALLOC_POOL_SIZE is too large: ", ssize);
	memcpy(g_dir, dir, strlen(dir) + 1);
	int fd = make_file(dir, size);
	if (fd < 0)
		fatal("cannot create the pool file in ", dir);
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		fatal("cannot map the pool file in ", dir);
	uint32_t np = (uint32_t)(size >> VM_PAGE_SHIFT);
	g_pagemap = meta_map((size_t)np * sizeof(uint32_t));
	g_spans = meta_map((size_t)np * sizeof(struct span));
	g_released = meta_map(((size_t)np + 63) / 64 * 8);
	H.large = meta_map(((size_t)np / VM_EXACT_BINS + 1) * sizeof(uint32_t));
	if (!g_pagemap || !g_spans || !g_released || !H.large)
		fatal("cannot map the allocator's metadata", NULL);
	g_fd = fd;
	g_base = base;
	g_ubase = (uintptr_t)base;
	g_size = size;
	g_npages = np;
	for (uint32_t i = 0; i < VM_EXACT_BINS; i++)
		H.bins[i] = NONE;
	memset(g_released, 0xff, ((size_t)np + 63) / 64 * 8);
	H.dirty_limit = H.next_sweep = (size / VM_RETAIN_DIVISOR) >> VM_PAGE_SHIFT;
	for (uint32_t c = 0; c < VM_NCLASS; c++) {
		pthread_mutex_init(&CT[c].mu, NULL);
		CT[c].partial = NONE;
	}
	struct span *s = SP(0);
	span_init(s, 0, np);
	map_ends(s);
	insert_free(s);
	H.free_pages = np;
	pthread_key_create(&g_key, tc_destroy);
	logmsg(2, "pool created in ", dir, size);
}

static void init_once(void) {
	int st = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);
	if (st == ST_READY)
		return;
	pid_t me = (pid_t)syscall(SYS_gettid);
	int none = ST_NONE;
	if (__atomic_compare_exchange_n(&g_state, &none, ST_INIT, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		g_init_tid = me;
		pool_init();
		__atomic_store_n(&g_state, ST_READY, __ATOMIC_RELEASE);
		// May allocate: served from the pool, now ready.
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		return;
	}
	while (__atomic_load_n(&g_state, __ATOMIC_ACQUIRE) != ST_READY)
		sched_yield();
}

__attribute__((constructor)) static void vm_ctor(void) { init_once(); }

// not_ready serves a call made before the pool is ready: the thread setting
// it up gets the bootstrap arena, others wait for it.
static __attribute__((noinline)) int not_ready_slow(void) {
	if (__atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ST_INIT && g_init_tid == (pid_t)syscall(SYS_gettid))
		return 1;
	init_once();
	return 0;
}

static inline int not_ready(void) {
	if (likely(__atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ST_READY))
		return 0;
	return not_ready_slow();
}

// ---- allocation ----

static inline uint32_t size_class(size_t n) {
	if (n <= 1024)
		return vm_class_by16[(n + 15) >> 4];
	return vm_class_by128[(n - 1024 + 127) >> 7];
}

static void *malloc_small_slow(uint32_t c) {
	struct tcache *tc = get_tc();
	if (tc && tc->gen != __atomic_load_n(&g_gen, __ATOMIC_RELAXED))
		drain_own(tc);
	uintptr_t buf[128];
	uint32_t want = vm_cache_cap[c] / 2;
	if (want < 1)
		want = 1;
	uint32_t n = refill(c, buf, want);
	if (n == 0) {
		oom_recover(tc);
		n = refill(c, buf, 1);
		if (n == 0) {
			logmsg(1, "out of pool memory: malloc of class size", NULL, vm_class_size[c]);
			errno = ENOMEM;
			return NULL;
		}
	}
	uintptr_t a = buf[--n];
	uint32_t k = 0;
	if (tc) {
		uint32_t room = vm_cache_cap[c] - tc->n[c];
		k = n < room ? n : room;
		memcpy(tc->objs + vm_cache_off[c] + tc->n[c], buf, k * sizeof(uintptr_t));
		tc->n[c] += k;
		tc->allocs++;
		tc->bytes += vm_class_size[c];
	} else {
		uncached_count(1, 0, vm_class_size[c]);
	}
	if (n > k)
		flush(c, buf + k, n - k);
	return (void *)a;
}

static inline void *malloc_small(uint32_t c) {
	struct tcache *tc = t_tc;
	if (likely(tc != NULL) && likely(tc->n[c] != 0) && likely(tc->gen == g_gen)) {
		tc->allocs++;
		tc->bytes += vm_class_size[c];
		return (void *)tc->objs[vm_cache_off[c] + --tc->n[c]];
	}
	return malloc_small_slow(c);
}

static void *malloc_large(size_t n, uint32_t align) {
	if (n > g_size) {
		errno = ENOMEM;
		return NULL;
	}
	uint32_t np = (uint32_t)((n + VM_PAGE_SIZE - 1) >> VM_PAGE_SHIFT);
	if (np == 0)
		np = 1;
	for (int try = 0; try < 2; try++) {
		pthread_mutex_lock(&H.mu);
		struct span *s = heap_alloc(np, align, SPAN_LARGE);
		if (s) {
			H.large_pages += np;
			H.large_live++;
			H.large_allocs++;
			note_active();
		}
		pthread_mutex_unlock(&H.mu);
		if (s)
			return g_base + ((size_t)s->start << VM_PAGE_SHIFT);
		if (try == 0)
			oom_recover(get_tc());
	}
	logmsg(1, "out of pool memory: malloc of", NULL, n);
	errno = ENOMEM;
	return NULL;
}

static void free_small(uint32_t c, void *p) {
	struct tcache *tc = t_tc;
	if (likely(tc != NULL) && likely(tc->n[c] < vm_cache_cap[c]) && likely(tc->gen == g_gen)) {
		tc->frees++;
		tc->bytes -= vm_class_size[c];
		tc->objs[vm_cache_off[c] + tc->n[c]++] = (uintptr_t)p;
		return;
	}
	tc = get_tc();
	if (!tc) {
		uncached_count(0, 1, -(int64_t)vm_class_size[c]);
		uintptr_t a = (uintptr_t)p;
		flush(c, &a, 1);
		return;
	}
	tc->frees++;
	tc->bytes -= vm_class_size[c];
	if (tc->gen != __atomic_load_n(&g_gen, __ATOMIC_RELAXED))
		drain_own(tc);
	if (tc->n[c] >= vm_cache_cap[c]) {
		uint32_t h = tc->n[c] / 2;
		uintptr_t *objs = tc->objs + vm_cache_off[c];
		flush(c, objs, h);
		memmove(objs, objs + h, (tc->n[c] - h) * sizeof(uintptr_t));
		tc->n[c] -= h;
	}
	tc->objs[vm_cache_off[c] + tc->n[c]++] = (uintptr_t)p;
}

// lookup returns the live span holding p, or NULL (not the pool's).
static struct span *lookup(const void *p) {
	uintptr_t off = (uintptr_t)p - g_ubase;
	if (off >= g_size)
		return NULL;
	uint32_t page = (uint32_t)(off >> VM_PAGE_SHIFT);
	uint32_t m = map_get(page);
	if (!m)
		return NULL;
	struct span *s = SP(m - 1);
	if (s->state == SPAN_SLAB && page < s->start + s->npages)
		return s;
	if (s->state == SPAN_LARGE && page == s->start && (off & (VM_PAGE_SIZE - 1)) == 0)
		return s;
	return NULL;
}

static void free_large(struct span *s) {
	pthread_mutex_lock(&H.mu);
	if (s->state == SPAN_LARGE) {
		H.large_pages -= s->npages;
		H.large_live--;
		H.large_frees++;
		heap_free(s);
	}
	pthread_mutex_unlock(&H.mu);
}

static size_t usable(struct span *s) {
	return s->state == SPAN_SLAB ? vm_class_size[s->cls] : (size_t)s->npages << VM_PAGE_SHIFT;
}

// resize_large shrinks s in place or grows it into a free right neighbour.
static int resize_large(struct span *s, size_t n) {
	uint32_t np = (uint32_t)((n + VM_PAGE_SIZE - 1) >> VM_PAGE_SHIFT);
	int ok = 0;
	pthread_mutex_lock(&H.mu);
	if (np == s->npages) {
		ok = 1;
	} else if (np < s->npages) {
		uint32_t cut = s->npages - np;
		struct span *t = SP(s->start + np);
		span_init(t, s->start + np, cut);
		t->state = SPAN_LARGE;
		s->npages = np;
		map_ends(s);
		map_ends(t);
		H.large_pages -= cut;
		heap_free(t);
		ok = 1;
	} else {
		uint32_t e = s->start + s->npages, need = np - s->npages;
		if (e < g_npages && map_get(e) == e + 1) {
			struct span *r = SP(e);
			if (r->state == SPAN_FREE && r->npages >= need) {
				remove_free(r);
				uint32_t rest = r->npages - need;
				r->state = SPAN_DEAD;
				if (rest) {
					struct span *t = SP(e + need);
					span_init(t, e + need, rest);
					map_ends(t);
					insert_free(t);
				}
				s->npages = np;
				map_ends(s);
				H.free_pages -= need;
				H.dirty_pages -= need - clear_released(e, need);
				H.large_pages += need;
				note_active();
				ok = 1;
			}
		}
	}
	pthread_mutex_unlock(&H.mu);
	return ok;
}

// ---- the interposed functions ----

EXPORT void *malloc(size_t n) {
	if (unlikely(not_ready()))
		return boot_alloc(n, 16);
	if (likely(n <= VM_MAX_SMALL))
		return malloc_small(size_class(n));
	return malloc_large(n, 1);
}

EXPORT void free(void *p) {
	if (!p)
		return;
	uintptr_t off = (uintptr_t)p - g_ubase;
	if (unlikely(off >= g_size))
		return; // the bootstrap arena's, or not ours: kept
	uint32_t page = (uint32_t)(off >> VM_PAGE_SHIFT);
	uint32_t m = map_get(page);
	if (likely(m != 0)) {
		struct span *s = SP(m - 1);
		if (likely(s->state == SPAN_SLAB) && page < s->start + s->npages) {
			free_small(s->cls, p);
			return;
		}
	}
	struct span *s = lookup(p);
	if (s && s->state == SPAN_LARGE)
		free_large(s);
	else
		logmsg(1, "free of memory that is no allocation", NULL, NONE);
}

EXPORT void cfree(void *p) { free(p); }

EXPORT void *calloc(size_t n, size_t size) {
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = malloc(total);
	if (p)
		memset(p, 0, total);
	return p;
}

static void *aligned(size_t align, size_t n) {
	if (not_ready())
		return boot_alloc(n, align);
	if (align <= VM_MIN_ALIGN)
		return malloc(n);
	size_t sz = n > align ? n : align;
	if (sz <= VM_MAX_SMALL && align <= VM_PAGE_SIZE) {
		uint32_t c = size_class(sz);
		if (vm_class_size[c] % align) {
			size_t p2 = 1;
			while (p2 < sz)
				p2 <<= 1;
			c = p2 <= VM_MAX_SMALL ? size_class(p2) : 0;
		}
		if (c)
			return malloc_small(c);
	}
	uint32_t ap = align > VM_PAGE_SIZE ? (uint32_t)(align >> VM_PAGE_SHIFT) : 1;
	if (align > g_size) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc_large(n ? n : 1, ap);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n) {
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	int saved = errno;
	void *p = aligned(align, n);
	if (!p)
		return ENOMEM;
	errno = saved;
	*out = p;
	return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n) {
	if (align == 0 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return aligned(align, n);
}

EXPORT void *memalign(size_t align, size_t n) {
	size_t a = 1;
	while (a < align && a) // not a power of two: the next one, as glibc
		a <<= 1;
	if (!a) {
		errno = EINVAL;
		return NULL;
	}
	return aligned(a, n);
}

EXPORT void *valloc(size_t n) { return aligned(VM_PAGE_SIZE, n); }

EXPORT void *pvalloc(size_t n) {
	size_t r;
	if (__builtin_add_overflow(n, VM_PAGE_SIZE - 1, &r)) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned(VM_PAGE_SIZE, r & ~(size_t)(VM_PAGE_SIZE - 1));
}

EXPORT size_t malloc_usable_size(void *p) {
	if (!p)
		return 0;
	if (in_boot(p))
		return boot_size(p);
	struct span *s = lookup(p);
	return s ? usable(s) : 0;
}

EXPORT void *realloc(void *p, size_t n) {
	if (!p)
		return malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	size_t old;
	if (in_boot(p)) {
		old = boot_size(p);
	} else {
		struct span *s = lookup(p);
		if (!s) {
			errno = ENOMEM; // not ours: its size is unknown
			return NULL;
		}
		old = usable(s);
		if (s->state == SPAN_SLAB) {
			if (n <= VM_MAX_SMALL && size_class(n) == s->cls)
				return p;
		} else if (n > VM_MAX_SMALL && ((uintptr_t)p & (VM_PAGE_SIZE - 1)) == 0 && resize_large(s, n)) {
			return p;
		}
	}
	void *q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t size) {
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

// ---- fork (VMMALLOC_FORK) ----

static int g_fork_fd = -1;

// copy_pool makes a copy of the pool file for the child: VMMALLOC_FORK 2
// and 3.
static int copy_pool(void) {
	int fd = make_file(g_dir, g_size);
	if (fd < 0)
		return -1;
	size_t done = 0;
	while (done < g_size) {
		ssize_t w = pwrite(fd, g_base + done, g_size - done > (1 << 24) ? 1 << 24 : g_size - done,
				   (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	return fd;
}

static void remap_private(void) {
	if (g_private)
		return;
	if (mmap(g_base, g_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, g_fd, 0) == MAP_FAILED)
		fatal("VMMALLOC_FORK=1: cannot remap the pool private", NULL);
	g_private = 1;
}

static void fork_prepare(void) {
	pthread_mutex_lock(&g_reg_mu);
	for (uint32_t c = 1; c < VM_NCLASS; c++)
		pthread_mutex_lock(&CT[c].mu);
	pthread_mutex_lock(&H.mu);
	g_fork_fd = -1;
	switch (g_fork_mode) {
	case 1:
		remap_private();
		break;
	case 2:
	case 3:
		g_fork_fd = copy_pool();
		if (g_fork_fd < 0) {
			if (g_fork_mode == 2)
				fatal("VMMALLOC_FORK=2: cannot copy the pool for the child in ", g_dir);
			logmsg(1, "VMMALLOC_FORK=3: no copy of the pool, remapping it private", NULL, NONE);
			remap_private();
		}
		break;
	}
}

static void unlock_all(void) {
	pthread_mutex_unlock(&H.mu);
	for (uint32_t c = 1; c < VM_NCLASS; c++)
		pthread_mutex_unlock(&CT[c].mu);
	pthread_mutex_unlock(&g_reg_mu);
}

static void fork_parent(void) {
	if (g_fork_fd >= 0)
		close(g_fork_fd);
	g_fork_fd = -1;
	unlock_all();
}

static void fork_child(void) {
	pthread_mutex_init(&H.mu, NULL);
	for (uint32_t c = 1; c < VM_NCLASS; c++)
		pthread_mutex_init(&CT[c].mu, NULL);
	pthread_mutex_init(&g_reg_mu, NULL);
	if (g_fork_fd >= 0) {
		if (mmap(g_base, g_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, g_fork_fd, 0) == MAP_FAILED)
			fatal("VMMALLOC_FORK=2: cannot map the child's pool", NULL);
		close(g_fd);
		g_fd = g_fork_fd;
		g_fork_fd = -1;
		g_private = 0;
		H.norelease = 0;
	}
	// Only this thread lives on: the other threads' caches keep their
	// objects (leaked in the child), their counters go to the totals.
	struct tcache *mine = t_tc;
	for (struct tcache *tc = g_reg, *next; tc; tc = next) {
		next = tc->next;
		if (tc == mine)
			continue;
		g_dead_allocs += tc->allocs;
		g_dead_frees += tc->frees;
		g_dead_bytes += tc->bytes;
	}
	g_reg = mine;
	if (mine)
		mine->prev = mine->next = NULL;
	g_log_fd = -1;
}

// ---- statistics ----

// stats_write writes the pool's figures, one "name: value" a line between
// the begin and end lines; vmmalloc.ParseStats reads them.
static void stats_write(int fd) {
	struct out o = {.n = 0};
	uint64_t allocs = 0, frees = 0, cached = 0, slabs = 0;
	int64_t bytes = 0;
	uint64_t ncaches = 0;
	pthread_mutex_lock(&g_reg_mu);
	for (struct tcache *tc = g_reg; tc; tc = tc->next) {
		allocs += tc->allocs;
		frees += tc->frees;
		bytes += tc->bytes;
		for (uint32_t c = 1; c < VM_NCLASS; c++)
			cached += tc->n[c];
		ncaches++;
	}
	allocs += g_dead_allocs;
	frees += g_dead_frees;
	bytes += g_dead_bytes;
	pthread_mutex_unlock(&g_reg_mu);
	uint64_t corrupt = 0;
	for (uint32_t c = 1; c < VM_NCLASS; c++) {
		pthread_mutex_lock(&CT[c].mu);
		slabs += (uint64_t)CT[c].nslabs;
		corrupt += CT[c].corrupt;
		pthread_mutex_unlock(&CT[c].mu);
	}
	pthread_mutex_lock(&H.mu);
	uint64_t large_pages = H.large_pages, slab_pages = H.slab_pages, free_pages = H.free_pages;
	uint64_t dirty = H.dirty_pages, lallocs = H.large_allocs, lfrees = H.large_frees, llive = H.large_live;
	uint64_t peak = H.peak_active, releases = H.releases, largest = largest_free();
	pthread_mutex_unlock(&H.mu);
	struct stat st;
	uint64_t resident = fstat(g_fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
	out_s(&o, "___ Begin vmmalloc statistics ___\n");
	out_kv(&o, "pid", (uint64_t)getpid());
	out_kv(&o, "pool_size", g_size);
	out_kv(&o, "page_size", VM_PAGE_SIZE);
	out_kv(&o, "fork_mode", (uint64_t)g_fork_mode);
	out_kv(&o, "private", (uint64_t)g_private);
	out_kv(&o, "thread_caches", ncaches);
	out_kv(&o, "allocated", (uint64_t)(bytes + (int64_t)(large_pages << VM_PAGE_SHIFT)));
	out_kv(&o, "allocations", allocs - frees + llive);
	out_kv(&o, "small_allocs", allocs);
	out_kv(&o, "small_frees", frees);
	out_kv(&o, "large_allocs", lallocs);
	out_kv(&o, "large_frees", lfrees);
	out_kv(&o, "active", (large_pages + slab_pages) << VM_PAGE_SHIFT);
	out_kv(&o, "peak_active", peak << VM_PAGE_SHIFT);
	out_kv(&o, "slab_bytes", slab_pages << VM_PAGE_SHIFT);
	out_kv(&o, "slabs", slabs);
	out_kv(&o, "cached_objects", cached);
	out_kv(&o, "large_bytes", large_pages << VM_PAGE_SHIFT);
	out_kv(&o, "free", free_pages << VM_PAGE_SHIFT);
	out_kv(&o, "largest_free", largest << VM_PAGE_SHIFT);
	out_kv(&o, "released", (free_pages - dirty) << VM_PAGE_SHIFT);
	out_kv(&o, "released_total", releases << VM_PAGE_SHIFT);
	out_kv(&o, "file_resident", resident);
	out_kv(&o, "double_frees", corrupt);
	out_s(&o, "--- End vmmalloc statistics ---\n");
	write_all(fd, o.buf, o.n);
}

// vmmalloc_stats_print writes the statistics to fd, for a program that
// looks it up with dlsym.
EXPORT void vmmalloc_stats_print(int fd) {
	if (__atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ST_READY)
		stats_write(fd);
}

__attribute__((destructor)) static void vm_dtor(void) {
	if (g_log_stats && __atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ST_READY)
		stats_write(log_fd());
}
