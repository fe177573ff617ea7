//go:build race

package vmem

import (
	"sync"

	"github.com/gopmdk/pmdk/hal"
)

// In race builds a per-P cache is guarded by a mutex instead of pinning:
// the mutex shows the race detector the order pinning gives, and Stats
// reads the caches under it. A goroutine must not block on a mutex while
// pinned (the scheduler aborts), so the "pin" here only names the P: a
// goroutine that moves meanwhile uses the cache of the P it started on,
// which its mutex makes safe.
type raceLock struct{ mu sync.Mutex }

func (l *raceLock) lock()   { l.mu.Lock() }
func (l *raceLock) unlock() { l.mu.Unlock() }

func procPin() int { return hal.CurrentP() }
func procUnpin()   {}
