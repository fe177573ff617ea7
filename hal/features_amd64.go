//go:build amd64 && gc && !purego

package hal

// cpuidex executes CPUID with EAX=leaf, ECX=sub (cpuid_amd64.s).
func cpuidex(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func flushFeatures() (clflush, clflushopt, clwb bool) { return decodeFlushLeaves(cpuidex) }
