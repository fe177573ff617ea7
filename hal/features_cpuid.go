package hal

import "github.com/klauspost/cpuid/v2"

// detectCPU reads the vector features and the cache-line size through
// klauspost/cpuid, which also checks that the OS saves the AVX and AVX-512
// register state (OSXSAVE + XGETBV). cpuid does not decode the cache
// flush instructions; [flushFeatures] reads them.
func detectCPU() Features {
	c := &cpuid.CPU
	f := Features{
		SSE2:          c.Has(cpuid.SSE2),
		AVX:           c.Has(cpuid.AVX),
		AVX2:          c.Has(cpuid.AVX2),
		AVX512F:       c.Has(cpuid.AVX512F),
		CacheLineSize: c.CacheLine,
	}
	if f.CacheLineSize <= 0 {
		f.CacheLineSize = defaultCacheLine
	}
	f.CLFLUSH, f.CLFLUSHOPT, f.CLWB = flushFeatures()
	return f
}

// cpuidFunc executes CPUID for a leaf and subleaf.
type cpuidFunc func(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// decodeFlushLeaves decodes the cache flush instructions from CPUID leaves
// 1 and 7 as the Intel SDM (vol. 2A, CPUID) defines them, reading leaf 7
// only when leaf 0 says it exists.
func decodeFlushLeaves(cpuid cpuidFunc) (clflush, clflushopt, clwb bool) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 1 {
		return false, false, false
	}
	_, _, _, edx1 := cpuid(1, 0)
	clflush = edx1&(1<<19) != 0
	if maxLeaf < 7 {
		return clflush, false, false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return clflush, ebx7&(1<<23) != 0, ebx7&(1<<24) != 0
}
