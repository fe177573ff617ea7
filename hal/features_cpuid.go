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
