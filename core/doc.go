// Package core maps persistent memory and makes stores to it persistent: the
// Go counterpart of libpmem2 and libpmem (PMDK 1.12.1). It also holds what
// every pool type shares (the pool header and the shutdown state, package
// pool) in subpackages, and the crash simulator (package crashsim) that
// proves crash consistency. Poolset files (multi-file pools, local
// replicas) are parsed by package poolset and created and opened by
// package pool on the contiguous multi-part mappings of [NewPartsMap]
// ([NewPartsMapIn] maps them into a [Reservation] of address space, as
// libpmem2's pmem2_vm_reservation),
// replicated with [Replicate].
//
// core imports only hal from gopmdk. It runs on Linux.
//
// # Mapping (libpmem2)
//
// A [Source] is a file ([FromFile], [FromFD]: a regular file or a device
// DAX) or anonymous memory ([Anonymous]). [NewMap] maps the part of it a
// [Config] names (Offset and Length, multiples of [Source.Alignment]; Length
// 0 means to the end; shared or private; protection) and gives a [*Map]
// whose [Map.Granularity] says what the platform offers, as pmem2_map_new:
//
//   - a shared file mapping is tried with MAP_SYNC; the kernel accepts it only
//     on DAX, giving GranularityCacheLine (GranularityByte when every NVDIMM
//     region reports its persistence domain as the CPU caches, eADR, as
//     [hal.AutoFlush] reads sysfs);
//   - otherwise it is a page-cache mapping, GranularityPage, persisted with
//     msync(2), unless Config.ForcePmem or PMEM_IS_PMEM_FORCE=1 ask for the
//     CPU-flush path (GranularityCacheLine: for emulation and benchmarks);
//   - private and anonymous mappings have GranularityByte;
//   - PMEM2_FORCE_GRANULARITY=BYTE|CACHE_LINE|PAGE overrides shared file
//     mappings, as in libpmem2.
//
// Config.RequiredGranularity is the coarsest granularity the caller accepts:
// a page-cache file asked for cache-line granularity fails with
// [ErrGranularityNotSupported], as libpmem2 does. A nil Config accepts
// anything. Mappings are placed at 2 MiB (1 GiB from 2 GiB of length)
// aligned addresses so DAX can use huge pages.
//
// # Persisting
//
// Every Map has one [Persister], chosen by its granularity ([NewPersister]):
// CPU flush + fence with hal's selected kernels (cache line), the fence alone
// (byte), or msync (page). [Map.Persist], [Map.Flush], [Map.Drain],
// [Map.Memcpy], [Map.Memmove] and [Map.Memset] (with the [MemFlags] of
// PMEM2_F_MEM_*) go through it; the crash simulator and replicas provide
// their own Persister through [NewMemoryMap]. The persist path costs one
// interface call and no allocation over calling hal's kernels directly
// (BenchmarkLayering measures it against hal and against C libpmem).
// Built with -tags invariants, the Map methods panic when given a slice
// outside the mapping.
//
// The persist methods return nothing: CPU flushes and fences cannot fail.
// msync can (an I/O error writing the pages back, a full file system), and
// Linux reports such a failure once and marks the pages clean, so a later
// msync succeeds although the data may be lost. The msync persister
// therefore keeps the first failure, wrapping [ErrPersist] and the errno;
// [Map.Err] returns it (checking costs nothing on the CPU paths) and
// [Map.Close] returns it, as closing a file reports a failed delayed
// write. The pool libraries check it after each write: the write that
// failed returns it, later writes are refused with it, and no later step
// of a write makes the lost data reachable (log's write_offset, blk's flog
// and map). [hal.Kernels.FlushRange] returns msync's error directly;
// [Msync] too.
// [Map.DeepFlush] also writes back through the file system (msync) or, on
// device DAX, asks the NVDIMM region to flush its queues (sysfs deep_flush).
//
// # NVDIMM information
//
// [Source.UnsafeShutdownCount], [Source.DeviceID] and [Source.BadBlocks]
// (and the same on Map) read the nd bus in sysfs the way libndctl does:
// the region and namespace holding the file, its DIMMs' dirty-shutdown
// counters and ids, and the namespace's or region's bad blocks, mapped to
// file offsets through the file's extents (FIEMAP). They read sysfs through
// an [io/fs.FS] rooted at /sys (package github.com/gopmdk/pmdk/hal/sysfs,
// which hal's platform detection shares): the machine's by default,
// another tree through [FromFDIn] or [Source.SetSysfs] (tests load the
// txtar fixtures in testdata/sysfs). Where the information does not exist
// (a file on no NVDIMM, anonymous memory, no nd bus) they return an error wrapping
// [ErrNotSupported]; bad blocks of a file on no NVDIMM are an empty list,
// as libpmem2 built with ndctl reports. Devices DAX are recognised and
// sized through sysfs, but the bad-block clearing calls of libpmem2 are not
// provided.
//
// # The libpmem facade
//
// [MapFile] maps a whole file with pmem_map_file's rules (FileCreate needs a
// size, opening an existing file takes its size, FileExcl, FileSparse,
// FileTmpfile) and registers the mapping. The package-level [IsPmem],
// [Persist], [Flush], [Drain], [Msync], [Memcpy], [Memmove], [Memset],
// MemcpyPersist and friends, and the NoDrain variants take any slice:
// a slice inside a registered mapping uses that mapping's persist path (so
// page-cache files get msync, where C libpmem would issue CPU flushes that
// do not make them durable); any other slice gets hal's CPU flush and fence.
// A failed msync there is kept on the [MapFile] mapping ([Map.Err]).
// PMEM_IS_PMEM_FORCE=1 or 0 forces [IsPmem] as pmem_is_pmem does.
// [DeepPersist] and [HasAutoFlush] are pmem_deep_persist and
// pmem_has_auto_flush.
//
// # Errors
//
// Errors wrap the sentinels of errors.go (one per PMEM2_E_* case that
// callers act on) or the system call's errno; [CorruptError] reports bad
// on-media data for the pool packages.
//
// # Concurrency
//
// A Map's persist methods may run concurrently on disjoint ranges; Close
// must not run concurrently with any other use of the Map. The facade's
// registry may be used from any goroutine.
package core
