package bench

import (
	"os"
	"strconv"
	"strings"
)

// threadRunqueue returns how long the calling OS thread has been runnable
// but waiting for a CPU, in nanoseconds: the second field of
// /proc/thread-self/schedstat (see the kernel's sched-stats document). ok
// is false where the kernel does not keep it (no CONFIG_SCHED_INFO).
func threadRunqueue() (ns int64, ok bool) {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	ns, err = strconv.ParseInt(f[1], 10, 64)
	return ns, err == nil && ns >= 0
}
