package hal

import (
	"strconv"
	"strings"
	"sync"
)

// Features are the CPU capabilities the kernels depend on. The flags are
// x86 ones; on other architectures they are all false.
type Features struct {
	CLFLUSH    bool // CPUID.1:EDX[19]
	CLFLUSHOPT bool // CPUID.(EAX=7,ECX=0):EBX[23]
	CLWB       bool // CPUID.(EAX=7,ECX=0):EBX[24]
	SSE2       bool
	AVX        bool // and enabled by the OS (XGETBV)
	AVX2       bool // and enabled by the OS (XGETBV)
	AVX512F    bool // and enabled by the OS (XGETBV)

	CacheLineSize int // bytes; 64 when the CPU does not say
}

// defaultCacheLine is the line size assumed when the CPU does not report
// one; it is the size of every x86 CPU with persistent-memory support.
const defaultCacheLine = 64

// cpu detects the features on first use: CPUID where the build has
// assembly, /proc/cpuinfo where it has not, so importing hal reads no file.
var cpu = sync.OnceValue(detectCPU)

// CPU returns the features of the CPU this process runs on, detected once,
// on first use.
func CPU() Features { return cpu() }

// String lists the flags that are set and the cache-line size, e.g.
// "clflush clflushopt clwb sse2 avx avx2 avx512f, cache line 64 B".
func (f Features) String() string {
	var names []string
	for _, fl := range []struct {
		on   bool
		name string
	}{
		{f.CLFLUSH, "clflush"}, {f.CLFLUSHOPT, "clflushopt"}, {f.CLWB, "clwb"},
		{f.SSE2, "sse2"}, {f.AVX, "avx"}, {f.AVX2, "avx2"}, {f.AVX512F, "avx512f"},
	} {
		if fl.on {
			names = append(names, fl.name)
		}
	}
	list := strings.Join(names, " ")
	if list == "" {
		list = "no flush or vector features"
	}
	return list + ", cache line " + strconv.Itoa(f.CacheLineSize) + " B"
}
