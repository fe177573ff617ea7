// Package vmem implements libvmem (the vmem project's API version 1.1) in
// Go: volatile memory pools with malloc-like calls, built on a
// memory-mapped temporary file (on persistent memory, or any file system)
// or on a caller's mapped region. Nothing in a pool survives Close or the
// process: the memory is persistent-memory-backed, not persistent. The
// extent cache vmemcache will live in package vmem/vmemcache.
//
// # Use
//
//	p, err := vmem.Create("/mnt/pmem", vmem.MinPoolSize, nil)
//	...
//	defer p.Close()
//	b, err := p.Malloc(100) // b is a []byte in the pool's memory
//	copy(b, "hello, world")
//	err = p.Free(b)
//
// Allocations are []byte slices of the pool's mapping: len is the size
// asked for and cap the usable size. They stay valid until freed or until
// Close. The garbage collector does not scan pool memory, so a Go pointer
// stored there does not keep its target alive: [New] and [NewSlice]
// allocate typed values, and refuse (with [ErrNotPointerFree], decided
// once per type) types that can hold Go pointers.
//
// C's API and its equivalent here:
//
//	vmem_create(dir, size)               vmem.Create(dir, size, nil)
//	vmem_create_in_region(addr, size)    vmem.CreateInRegion(region, nil)
//	vmem_delete(vmp)                     p.Close()
//	vmem_check(vmp)                      p.Check(): problems, err (1/0/-1 in C)
//	vmem_stats_print(vmp, opts)          p.WriteStats(w, opts); p.Stats() for the figures
//	vmem_malloc(vmp, size)               p.Malloc(size)
//	vmem_calloc(vmp, nmemb, size)        p.Calloc(nmemb, size)
//	vmem_realloc(vmp, ptr, size)         p.Realloc(b, size)
//	vmem_free(vmp, ptr)                  p.Free(b)
//	vmem_aligned_alloc(vmp, align, size) p.AlignedAlloc(align, size)
//	vmem_strdup(vmp, s)                  p.Strdup(s) (NUL after len(s), inside cap)
//	vmem_wcsdup(vmp, s)                  none: Go has no wchar_t strings
//	vmem_malloc_usable_size(vmp, ptr)    p.UsableSize(b)
//	(typed allocation)                   vmem.New[T](p), vmem.NewSlice[T](p, n), FreeValue, FreeSlice
//	VMEM_MIN_POOL (14 MiB)               vmem.MinPoolSize
//	NULL with errno ENOMEM               ErrNoMem
//	NULL with errno EINVAL               ErrTooSmall, ErrUnaligned, ErrInvalid
//	(undefined behaviour)                ErrNotAllocated: Free of memory that is no allocation
//	vmem_check_version, vmem_set_funcs, vmem_errormsg: none (Go modules, Go
//	memory for metadata, and error values)
//
// # Allocator
//
// The pool's memory is cut into 4 KiB pages. The allocator's metadata is
// Go memory (the pool is volatile, so nothing needs to live in the file):
// the whole pool is usable, and the file holds only what programs
// allocate.
//
//   - Page heap: spans of pages tile the pool; a page map names the span of
//     each span's first and last page (and of every page of a slab). Free
//     extents sit in exact-size lists below 256 pages (a bitmap finds the
//     smallest non-empty list that fits: best fit) and in one list above,
//     searched best fit, lowest address on ties. Freeing coalesces with
//     both neighbours at once, found through the page map.
//   - Small sizes (up to 32 KiB) round up to 40 classes: 16-byte steps to
//     128 bytes, then four per doubling (internal waste under 25%, 12% on
//     average); every power of two is a class, so aligned requests up to a
//     page come from slabs too. A slab is a run of pages (1 to 32) of one
//     class with a bitmap of its free objects, sized so its tail wastes at
//     most 1/16. Each class has a central lock and a list of slabs with
//     free objects; a slab whose objects all come back returns to the page
//     heap, except one kept per class against thrashing.
//   - Per-P caches: each P (hal.ProcPin) has a stack of free objects per
//     class, about 16 KiB worth. Malloc and Free of small sizes touch only
//     the caller's P's stack, pinned, with no lock and no atomic
//     read-modify-write; a miss takes half a stack from the class's slabs,
//     a full stack gives half back, one lock round per batch. Goroutines on
//     different Ps share nothing on that path. (Race builds add an
//     uncontended mutex per cache, so the race detector sees what pinning
//     guarantees.)
//   - Large sizes (over 32 KiB) are whole pages from the page heap, under
//     its lock. Realloc of a large allocation shrinks in place, or grows
//     into a free right neighbour when there is one.
//   - Returning memory: free pages stay backed by the file until more than
//     Options.RetainFree bytes (an eighth of the pool by default) of them
//     are; then every free extent of 64 KiB or more is released with
//     madvise(MADV_REMOVE), which punches holes in the file (tmpfs, ext4,
//     xfs; on a DAX file system the blocks go back to it). A bitmap of
//     released pages keeps a page from being released twice and counts
//     what is backed.
//   - Out of memory: the caller's P's cache and every empty slab go back to
//     the page heap and the allocation is tried again; the other Ps'
//     caches are told to drain at their next miss. Then [ErrNoMem].
//
// # Checks and figures
//
// Free of memory outside the pool, inside an allocation, or of a large
// allocation already freed is [ErrNotAllocated]. A small object freed twice
// is found when it reaches its slab (caches do not look) and reported by
// [Pool.Check], which also verifies that spans tile the pool, free extents
// are coalesced and listed, slab bitmaps match their counts and the page
// counters add up. [Pool.Stats] gives the figures (allocated bytes,
// active pages, free extents and the largest, released bytes, the file's
// resident size, per-class slabs and objects); per-P counters are read
// without stopping the Ps, so they may lag, as C's thread caches make its
// statistics lag.
//
// # Differences from C
//
//   - Metadata in Go memory, not in the pool: the pool's whole size is
//     usable; C keeps jemalloc's metadata in the pool.
//   - Create allocates the file's space up front (posix_fallocate, as C
//     does) but then gives freed ranges back (C's jemalloc purges with
//     madvise too; its policy differs).
//   - Malloc(0) returns a zero-length slice with a non-zero cap, distinct
//     from every live allocation (C may return NULL).
//   - Strdup's result excludes the NUL from len; vmem_wcsdup has no
//     equivalent.
//   - Device DAX as Create's dir is not supported (C maps the whole device).
//   - Close must not run concurrently with other calls (as vmem_delete);
//     after it every call returns ErrClosed.
//
// The C peer of the benchmarks is memkind's PMEM kind (package
// vmem/cmemkind), which libvmem's authors name as its successor: libvmem is
// not packaged by Debian.
package vmem
