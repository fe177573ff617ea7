//go:build amd64 && gc && !purego

package hal

// cpuidex executes CPUID with EAX=leaf, ECX=sub (cpuid_amd64.s).
func cpuidex(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// flushFeatures decodes the cache flush instructions from CPUID leaves 1
// and 7, as the Intel SDM (vol. 2A, CPUID) defines them.
func flushFeatures() (clflush, clflushopt, clwb bool) {
	maxLeaf, _, _, _ := cpuidex(0, 0)
	if maxLeaf < 1 {
		return false, false, false
	}
	_, _, _, edx1 := cpuidex(1, 0)
	clflush = edx1&(1<<19) != 0
	if maxLeaf < 7 {
		return clflush, false, false
	}
	_, ebx7, _, _ := cpuidex(7, 0)
	return clflush, ebx7&(1<<23) != 0, ebx7&(1<<24) != 0
}
