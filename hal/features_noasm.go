//go:build !amd64 || !gc || purego

package hal

import (
	"os"
	"runtime"
)

// flushFeatures reads the cache flush flags from the kernel's view of the
// CPU, since a build without assembly cannot execute CPUID itself. No
// kernel of such a build uses them; they are reported so that printing
// [CPU] tells the truth about the machine.
func flushFeatures() (clflush, clflushopt, clwb bool) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "386" {
		return false, false, false
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false, false, false
	}
	return cpuinfoFlushFlags(string(b))
}
