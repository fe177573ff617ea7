//go:build !race

package vmem

import "github.com/gopmdk/pmdk/hal"

// raceLock is empty outside race builds: pinning the P is the lock.
type raceLock struct{}

func (*raceLock) lock()   {}
func (*raceLock) unlock() {}

func procPin() int { return hal.ProcPin() }
func procUnpin()   { hal.ProcUnpin() }
