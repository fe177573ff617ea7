// Package vmmalloc is libvmmalloc for gopmdk: a shared library that a user
// puts in LD_PRELOAD so that malloc, calloc, realloc, reallocarray, free,
// cfree, aligned_alloc, posix_memalign, memalign, valloc, pvalloc and
// malloc_usable_size of any dynamically linked program are served from a
// pool file, with the allocator policy of package vmem.
//
// # Use
//
//	go run github.com/gopmdk/pmdk/vmmalloc/cmd/vmmalloc-build -o /tmp/libvmmalloc.so
//	LD_PRELOAD=/tmp/libvmmalloc.so VMMALLOC_POOL_DIR=/mnt/pmem VMMALLOC_POOL_SIZE=1G command args...
//
// From Go, [Build] compiles the library into a directory, [Config.Env]
// gives a program's environment, and [ParseStats] reads the statistics the
// library writes at exit.
//
// # Environment (as libvmmalloc's)
//
//   - VMMALLOC_POOL_DIR: the directory of the pool file (created without a
//     name there, O_TMPFILE, its space allocated up front; it goes away
//     with the process). Required.
//   - VMMALLOC_POOL_SIZE: the pool's bytes (a K, M, G or T suffix is
//     accepted), at least VMMALLOC_MIN_POOL, 14 MiB ([MinPoolSize]).
//     Required. A missing or bad setting stops the program with a message,
//     as libvmmalloc does.
//   - VMMALLOC_FORK: what fork does to the pool. 0: nothing (parent and
//     child share the file: undefined, as in C). 1, the default: the pool is
//     remapped MAP_PRIVATE before the fork, so parent and child then
//     copy-on-write its pages into RAM (and stop releasing free pages to the
//     file). 2: the child gets a copy of the pool file, mapped at the same
//     address (a failed copy stops the program). 3: 2, or 1 when the copy
//     fails. The allocator's locks are taken across the fork, so the child
//     never inherits a held lock; the other threads' caches are lost to the
//     child (their objects stay allocated there).
//   - exec: the pool's descriptor is close-on-exec and exec drops the
//     mapping; a program exec'd with LD_PRELOAD still set starts a pool of
//     its own.
//   - VMMALLOC_LOG_LEVEL: 1 logs errors (out of pool memory, a free of
//     memory that is no allocation), 2 also the pool's creation.
//     VMMALLOC_LOG_FILE: the log (a name ending in '-' gets each process's
//     pid appended), stderr by default. VMMALLOC_LOG_STATS=1: the
//     statistics at exit ([Stats]); a program may also call
//     vmmalloc_stats_print(fd) (found with dlsym).
//
// Out of pool memory, malloc returns NULL with errno ENOMEM (after giving
// the thread's cache and empty slabs back and trying again, as vmem does);
// the program decides what to do.
//
// # What is C and what is Go, and why
//
// The library is C (shim/vmmalloc.c, built with gcc, no cgo, no Go
// runtime). The issue asked for a Go allocator behind a C interposer if
// that could be made safe and fast; it cannot, for these reasons:
//
//   - Speed. An empty function exported from a -buildmode=c-shared Go
//     library costs 230 to 250 ns per call from C's main thread and 290 to
//     380 ns from a thread C created, where glibc's malloc+free of 32 bytes
//     costs 29 to 30 ns in the same program (measured on this project's
//     2-core machine under load; the prototype was a c-shared library
//     exporting one function and a C loop calling it). One crossing
//     into Go is 8 to 13 times glibc's whole malloc+free before any
//     allocation work: the 1.5x goal cannot be met that way.
//   - Safety. The Go runtime of a c-shared library starts in a constructor
//     that creates threads and allocates, so malloc would run before Go is
//     ready and from inside Go's own start; the runtime's allocator would
//     then be reentered from signal handlers, from its own thread creation,
//     and from every foreign thread. fork of a multi-threaded Go runtime
//     without exec leaves a child whose runtime threads are gone: any Go
//     call in the child (every malloc of a forking shell or of python's
//     subprocess) can deadlock. A bootstrap arena only covers the start.
//
// So the hot path lives where it can: in C, with vmem's layout and policy.
// What the C code follows from vmem (vmem/doc.go's "Allocator"):
//
//   - 4 KiB pages; spans tile the pool; a page map names each span's first
//     and last page and every page of a slab; free extents in exact-size
//     lists below 256 pages (a bitmap finds the best fit) and one list
//     above (best fit, lowest address on ties); freeing coalesces both
//     neighbours; free pages stay backed until more than an eighth of the
//     pool is, then free extents of 16 pages and more are released with
//     madvise(MADV_REMOVE), a bitmap of released pages counting what is
//     backed.
//   - The 40 small size classes up to 32 KiB, their slab sizes, per-slab
//     free bitmaps, one empty slab kept per class, and the cache sizes
//     (about 16 KiB per class) and half-batch refill and flush.
//   - Out of memory: drain this cache, tell the others to drain, return
//     empty slabs, retry.
//
// The numbers are not written twice: shim/policy.h is generated from
// vmem.AllocatorPolicy, and TestPolicyHeader fails when they differ.
// What differs from vmem: the caches are per thread (a C thread cannot be
// pinned to a P), held in thread-local storage (initial-exec TLS, so no
// allocation to reach them), flushed when the thread exits; locks are
// pthread mutexes; the metadata lives in anonymous memory beside the pool
// (as vmem keeps it in Go memory), so the whole file is usable. A small
// static bootstrap arena serves the calls made while the pool is being
// set up, by the thread setting it up (others wait for it), and its blocks
// are never freed. Reentrancy: the shim calls nothing that allocates while
// it holds a lock or before the pool is ready, except pthread_setspecific
// (the thread's cache is in place before it, so a nested malloc finds it)
// and pthread_atfork (called once the pool is ready);
// before libc has set environ (ld.so's early allocations) the settings are
// read from /proc/self/environ. Frees of memory that is neither the pool's
// nor the arena's are ignored (and logged at level 1), not a crash.
//
// Go's part: Build (the C sources are embedded, so it works from a module
// cache), cmd/vmmalloc-build, Config, ParseStats, the policy generator, and
// the tests: TestRealPrograms* run sort, ls -lR, python3, gcc, git and a
// pthreads program (16 threads) that hammers malloc and checks its data,
// each without and with the preload, comparing outputs and reading each
// process's pool statistics; other tests cover every interposed function,
// out of memory, the fork modes (also while threads allocate) and bad
// settings. BenchmarkMallocFree compares glibc, the preload and memkind's
// PMEM kind.
//
// # Speed
//
// BenchmarkMallocFree, medians of 3 alternating rounds on the project's
// 2-core machine under heavy load (load average above 20, so ±50%),
// ratio glibc/preload (>1: the preload is faster):
//
//	threads size   batch 1  batch 64   memkind PMEM/preload
//	1       16 B   1.27     2.36       13.4 / 6.8
//	1       256 B  1.19     6.01       19.8 / 10.0
//	1       4 KiB  3.33     49.9       17.1 / 1.16
//	1       64 KiB 0.69     40.4       3.6 / 2.0
//	2       16 B   1.14     2.40       21.2 / 6.4
//	2       256 B  1.86     5.07       24.3 / 8.8
//	2       4 KiB  3.78     88.6       20.4 / 3.6
//	2       64 KiB 0.76     88.3       4.6 / 3.3
//
// Batch 1 (malloc then free) is glibc's best case, its tcache; batches of
// 64 overflow the tcache and, from 4 KiB, make glibc trim and regrow its
// heap every round. Sizes over 32 KiB take the page heap's lock on every
// call, as in vmem: 0.7x glibc there.
//
// # Differences from libvmmalloc
//
//   - The statistics are vmem's figures as "name: value" lines, not
//     jemalloc's report.
//   - VMMALLOC_LOG_* work in the normal build (there is no debug build);
//     level 3 and 4 traces are not written.
//   - malloc hooks are not supported (as in C); glibc's mallinfo and
//     malloc_stats report glibc's own (unused) arenas.
package vmmalloc
