// Package hal is gopmdk's hardware abstraction layer: CPU feature detection,
// platform persistence detection (DAX, page cache, eADR) and the kernels that
// move data to persistent memory (cache-line flush, store fence, and
// memmove/memset with non-temporal stores).
//
// hal imports no other module of gopmdk, so it can be used (and vendored)
// alone. Its only dependencies are golang.org/x/sys (mmap, fstat) and
// github.com/klauspost/cpuid/v2 (vector features with the OS check); its
// tests also use golang.org/x/arch to disassemble the kernels.
//
// # CPU features
//
// [CPU] returns the [Features] detected once, on first use: CLFLUSH, CLFLUSHOPT
// and CLWB from CPUID leaves 1 and 7, SSE2, AVX, AVX2 and AVX-512F from
// klauspost/cpuid (AVX and AVX-512F only when the OS saves their registers),
// and the cache-line size. A build without assembly (purego, another
// GOARCH) reads the flush flags from /proc/cpuinfo instead; its kernels
// never use them. Importing hal does no I/O: sysfs and /proc are read on
// first use.
//
// # Kernels
//
// A [Kernels] value is one choice of flush instruction ([FlushKind]) and
// store instruction set for large copies ([MoveKind]). [Selected] returns the
// set chosen once, on first use, by [Choose], which follows libpmem 1.12.1
// (pmem_init, pmem2_arch_init) on the CPU features, on whether the
// platform is eADR ([AutoFlush]) and on the environment variables PMDK
// honours (man 7 libpmem):
//
//   - flush: CLWB, else CLFLUSHOPT, else CLFLUSH. PMEM_NO_CLWB=1 and
//     PMEM_NO_CLFLUSHOPT=1 skip one; PMEM_NO_FLUSH=1 selects FlushNone, as
//     does eADR unless PMEM_NO_FLUSH=0.
//   - move: AVX-512F, else AVX, else SSE2. PMEM_AVX512F=0 and PMEM_AVX=0
//     skip one (in 1.12.1 AVX-512F is on by default); PMEM_NO_MOVNT=1
//     selects MoveGeneric.
//   - PMEM_MOVNT_THRESHOLD: the length from which copies use non-temporal
//     stores (atoll; negative values are ignored; default 256).
//   - PMEM_NO_GENERIC_MEMCPY only changes which temporal copy libpmem
//     calls; Go's copy is the one here either way.
//
// Only the exact values above count ("1", "0"), as libpmem compares them
// with strcmp. A build without assembly selects FlushMsync and MoveGeneric.
// [SelectedChoice] tells why each part was chosen. [NewKernels] builds any
// other set the CPU supports, so tests and benchmarks can run every one.
//
// Kernels never fence on their own unless asked: Flush and the memmove/memset
// kernels leave the data on its way to the persistence domain, and
// [Kernels.Fence] (SFENCE) waits for it, as pmem_drain does.
//
// Cache-line flushes cannot fail. FlushMsync can: [Kernels.FlushRange],
// [Kernels.Memmove] and [Kernels.Memset] return msync(2)'s error (EIO when
// the file system could not write the pages back), after which the data may
// not be in the file; the CPU kernels always return nil.
//
// [Kernels.Copy] goes the other way, out of a mapping into memory read
// next: ordinary stores of the set's vector width, no flush, no fence.
// [StoreRelease64] is a release store without the fence of an atomic
// store, for ending a section other threads wait to see end.
//
// # Platform
//
// [DetectFile] and [DetectFD] report how stores to a file's mapping become
// persistent ([Platform]). DAX is asked of the kernel: a MAP_SHARED_VALIDATE
// | MAP_SYNC mapping succeeds only without a page cache; EOPNOTSUPP or
// EINVAL mean page cache (tmpfs, ext4 without -o dax). A device-DAX
// character device is recognised by its sysfs subsystem. The persistence
// domain comes from the nd region that holds the file's device: fstat's
// device number leads through /sys/dev/block (or /sys/dev/char) to the
// device directory, whose ancestor regionN has a persistence_domain file:
// "cpu_cache" is eADR, "memory_controller" ADR. Files on devices outside an
// nd region (virtio, loop, device mapper, tmpfs) have no region.
// [DetectFileIn] and [DetectFDIn] read sysfs from any [io/fs.FS] rooted at
// /sys (package [github.com/gopmdk/pmdk/hal/sysfs], which core's NVDIMM
// code reads through too), so tests can use fixture trees;
// [Platform.Region] and [Platform.Device] are paths in that tree for
// callers reading bad blocks or unsafe-shutdown counts. Detection is Linux
// only; elsewhere every file is page cache.
package hal
