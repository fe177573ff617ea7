//go:build unix

package bench

import "golang.org/x/sys/unix"

// threadCPU returns the CPU time (user + system) the calling OS thread has
// used, in nanoseconds; ok is false where the clock is missing.
func threadCPU() (ns int64, ok bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return ts.Nano(), true
}
