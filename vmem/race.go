//go:build race

package vmem

import "sync"

// raceLock, in race builds, is a mutex around a per-P cache: never
// contended (its P is pinned while it is held), it only tells the race
// detector what pinning guarantees.
type raceLock struct{ mu sync.Mutex }

func (l *raceLock) lock()   { l.mu.Lock() }
func (l *raceLock) unlock() { l.mu.Unlock() }
