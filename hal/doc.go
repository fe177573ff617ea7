// Package hal is gopmdk's hardware abstraction layer: CPU feature detection,
// platform persistence detection (DAX, page cache, eADR) and the kernels that
// move data to persistent memory (cache-line flush, store fence, and
// memmove/memset with non-temporal stores).
//
// hal imports no other module of gopmdk, so it can be used (and vendored)
// alone.
//
// # Kernels
//
// A [Kernels] value is one choice of flush instruction ([FlushKind]) and
// store instruction set for large copies ([MoveKind]). [Selected] returns the
// set chosen once at init from the CPU features and the environment
// variables PMDK honours (see man 7 libpmem):
//
//	PMEM_NO_CLWB, PMEM_NO_CLFLUSHOPT, PMEM_NO_FLUSH, PMEM_NO_MOVNT,
//	PMEM_MOVNT_THRESHOLD, PMEM_AVX, PMEM_AVX512F
//
// [NewKernels] builds any other set the CPU supports, so tests and benchmarks
// can run every one.
//
// Kernels never fence on their own unless asked: Flush and the memmove/memset
// kernels leave the data on its way to the persistence domain, and
// [Kernels.Fence] (SFENCE) waits for it, as pmem_drain does.
package hal
