//go:build !race

package vmem

// raceLock is empty outside race builds: pinning the P is the lock.
type raceLock struct{}

func (*raceLock) lock()   {}
func (*raceLock) unlock() {}
