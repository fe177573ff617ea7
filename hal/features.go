package hal

// Features are the CPU capabilities the kernels depend on.
type Features struct {
	CLFLUSH    bool // CPUID.1:EDX[19]
	CLFLUSHOPT bool // CPUID.(EAX=7,ECX=0):EBX[23]
	CLWB       bool // CPUID.(EAX=7,ECX=0):EBX[24]
	SSE2       bool
	AVX        bool // and enabled by the OS (XGETBV)
	AVX2       bool
	AVX512F    bool // and enabled by the OS (XGETBV)

	CacheLineSize int // bytes; 64 when the CPU does not say
}

var cpu = detectCPU()

// CPU returns the features of the CPU this process runs on, detected once at
// init.
func CPU() Features { return cpu }
