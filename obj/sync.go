package obj

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Errors of the pmem-resident locks.
var (
	// ErrTimeout: a timed lock or wait reached its deadline (ETIMEDOUT).
	ErrTimeout = errors.New("obj: lock timed out")
	// ErrBusy: a try-lock found the lock taken (EBUSY).
	ErrBusy = errors.New("obj: lock busy")
	// ErrNotLocked: an unlock of a lock the caller does not hold (EPERM).
	ErrNotLocked = errors.New("obj: unlock of a lock not held")
	// ErrLockOutsidePool: a lock that does not lie in the pool's mapping.
	ErrLockOutsidePool = errors.New("obj: lock outside the pool")
)

// Mutex is C's PMEMmutex: 64 bytes that live in a persistent object,
// usable from C and Go (never at once: a pool is open in one process).
// Its state is not persistent: a mutex locked when the pool was closed or
// the process died is unlocked in the next run, because the run id the
// pool bumps at every open no longer matches the one the mutex recorded
// (C's scheme). The Go state lives outside the pool, keyed by the mutex's
// offset: no Go pointer is ever stored in persistent memory.
type Mutex struct {
	runID uint64
	_     [56]byte
}

// RWMutex is C's PMEMrwlock (64 bytes), reinitialized per run as Mutex.
type RWMutex struct {
	runID uint64
	_     [56]byte
}

// Cond is C's PMEMcond (64 bytes), reinitialized per run as Mutex.
type Cond struct {
	runID uint64
	_     [56]byte
}

// lockState is the run-time state of one pmem lock.
type lockState struct {
	mu      sync.Mutex
	writer  bool            // a mutex or a write lock is held
	readers int             // read locks held
	wake    chan struct{}   // closed when the lock is released
	waiters []chan struct{} // condition variable waiters, in order
}

// released returns the channel closed at the next release. st.mu is held.
func (st *lockState) released() chan struct{} {
	if st.wake == nil {
		st.wake = make(chan struct{})
	}
	return st.wake
}

// release wakes the waiters. st.mu is held.
func (st *lockState) release() {
	if st.wake != nil {
		close(st.wake)
		st.wake = nil
	}
}

// state returns the run-time state of the lock whose run id word is at
// runID: the one of this run, or a fresh one if the word names an earlier
// run (or none: a zeroed lock), as C's pmemobj_mutex_lock reinitializes
// the pthread object in place. Odd values mean "being initialized".
func (p *Pool) lockState(runID *uint64) (*lockState, error) {
	off, ok := p.m.Offset(unsafe.Pointer(runID))
	if !ok || off+64 > p.m.Size() {
		return nil, ErrLockOutsidePool
	}
	for {
		switch v := atomic.LoadUint64(runID); v {
		case p.runID:
			st, _ := p.locks.LoadOrStore(off, &lockState{})
			return st.(*lockState), nil
		case p.runID - 1:
			runtime.Gosched() // another goroutine initializes it
		default:
			if atomic.CompareAndSwapUint64(runID, v, p.runID-1) {
				st := &lockState{}
				p.locks.Store(off, st)
				atomic.StoreUint64(runID, p.runID)
				return st, nil
			}
		}
	}
}

// acquire waits until try succeeds (under st.mu), the deadline passes
// (zero: none) or, for a try-lock, at once.
func (st *lockState) acquire(try func() bool, deadline time.Time, once bool) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		st.mu.Lock()
		if try() {
			st.mu.Unlock()
			return nil
		}
		if once {
			st.mu.Unlock()
			return ErrBusy
		}
		ch := st.released()
		st.mu.Unlock()
		if deadline.IsZero() {
			<-ch
			continue
		}
		d := time.Until(deadline)
		if d <= 0 {
			return ErrTimeout
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ch:
		case <-timer.C:
			return ErrTimeout
		}
	}
}

func (m *Mutex) lock(p *Pool, deadline time.Time, once bool) error {
	st, err := p.lockState(&m.runID)
	if err != nil {
		return err
	}
	return st.acquire(func() bool {
		if st.writer {
			return false
		}
		st.writer = true
		return true
	}, deadline, once)
}

// Lock locks the mutex (pmemobj_mutex_lock).
func (m *Mutex) Lock(p *Pool) error { return m.lock(p, time.Time{}, false) }

// TryLock locks the mutex if it is free, or fails with ErrBusy
// (pmemobj_mutex_trylock).
func (m *Mutex) TryLock(p *Pool) error { return m.lock(p, time.Time{}, true) }

// TimedLock locks the mutex, waiting until deadline at most
// (pmemobj_mutex_timedlock): ErrTimeout then.
func (m *Mutex) TimedLock(p *Pool, deadline time.Time) error {
	if deadline.IsZero() {
		deadline = time.Unix(0, 1)
	}
	return m.lock(p, deadline, false)
}

// Unlock unlocks the mutex (pmemobj_mutex_unlock); ErrNotLocked if it is
// not locked.
func (m *Mutex) Unlock(p *Pool) error {
	st, err := p.lockState(&m.runID)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.writer {
		return ErrNotLocked
	}
	st.writer = false
	st.release()
	return nil
}

// Zero makes the mutex free for the next use and persists that
// (pmemobj_mutex_zero): for a mutex in new memory outside a transaction.
func (m *Mutex) Zero(p *Pool) { zeroLock(p, &m.runID) }

func zeroLock(p *Pool, runID *uint64) {
	atomic.StoreUint64(runID, 0)
	if off, ok := p.m.Offset(unsafe.Pointer(runID)); ok && off+8 <= p.m.Size() {
		p.m.Persist(off, 8)
		p.locks.Delete(off)
	}
}

func (m *RWMutex) lock(p *Pool, write bool, deadline time.Time, once bool) error {
	st, err := p.lockState(&m.runID)
	if err != nil {
		return err
	}
	return st.acquire(func() bool {
		switch {
		case st.writer, write && st.readers > 0:
			return false
		case write:
			st.writer = true
		default:
			st.readers++
		}
		return true
	}, deadline, once)
}

// Lock takes the write lock (pmemobj_rwlock_wrlock).
func (m *RWMutex) Lock(p *Pool) error { return m.lock(p, true, time.Time{}, false) }

// RLock takes a read lock (pmemobj_rwlock_rdlock).
func (m *RWMutex) RLock(p *Pool) error { return m.lock(p, false, time.Time{}, false) }

// TryLock takes the write lock if it is free, or fails with ErrBusy.
func (m *RWMutex) TryLock(p *Pool) error { return m.lock(p, true, time.Time{}, true) }

// TryRLock takes a read lock unless a writer holds the lock (ErrBusy).
func (m *RWMutex) TryRLock(p *Pool) error { return m.lock(p, false, time.Time{}, true) }

// TimedLock takes the write lock, waiting until deadline at most.
func (m *RWMutex) TimedLock(p *Pool, deadline time.Time) error {
	return m.lock(p, true, nonZero(deadline), false)
}

// TimedRLock takes a read lock, waiting until deadline at most.
func (m *RWMutex) TimedRLock(p *Pool, deadline time.Time) error {
	return m.lock(p, false, nonZero(deadline), false)
}

func nonZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 1)
	}
	return t
}

// Unlock releases the write lock or one read lock
// (pmemobj_rwlock_unlock).
func (m *RWMutex) Unlock(p *Pool) error {
	st, err := p.lockState(&m.runID)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.writer:
		st.writer = false
	case st.readers > 0:
		st.readers--
	default:
		return ErrNotLocked
	}
	st.release()
	return nil
}

// RUnlock releases a read lock.
func (m *RWMutex) RUnlock(p *Pool) error { return m.Unlock(p) }

// Zero makes the lock free for the next use and persists that
// (pmemobj_rwlock_zero).
func (m *RWMutex) Zero(p *Pool) { zeroLock(p, &m.runID) }

// Wait unlocks mu, waits for Signal or Broadcast and locks mu again
// (pmemobj_cond_wait). mu must be locked.
func (c *Cond) Wait(p *Pool, mu *Mutex) error { return c.wait(p, mu, time.Time{}) }

// TimedWait is Wait with a deadline (pmemobj_cond_timedwait): ErrTimeout
// when it passes, with mu locked again.
func (c *Cond) TimedWait(p *Pool, mu *Mutex, deadline time.Time) error {
	return c.wait(p, mu, nonZero(deadline))
}

func (c *Cond) wait(p *Pool, mu *Mutex, deadline time.Time) error {
	st, err := p.lockState(&c.runID)
	if err != nil {
		return err
	}
	ch := make(chan struct{})
	st.mu.Lock()
	st.waiters = append(st.waiters, ch)
	st.mu.Unlock()
	if err := mu.Unlock(p); err != nil {
		st.mu.Lock()
		st.remove(ch)
		st.mu.Unlock()
		return fmt.Errorf("obj: cond wait: %w", err)
	}
	var waitErr error
	if deadline.IsZero() {
		<-ch
	} else {
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-timer.C:
			st.mu.Lock()
			if st.remove(ch) {
				waitErr = ErrTimeout
			}
			st.mu.Unlock()
		}
		timer.Stop()
	}
	if err := mu.Lock(p); err != nil {
		return err
	}
	return waitErr
}

// remove drops waiter ch; it reports whether ch was still waiting.
func (st *lockState) remove(ch chan struct{}) bool {
	for i, w := range st.waiters {
		if w == ch {
			st.waiters = append(st.waiters[:i], st.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// Signal wakes one waiter (pmemobj_cond_signal).
func (c *Cond) Signal(p *Pool) error {
	st, err := p.lockState(&c.runID)
	if err != nil {
		return err
	}
	st.mu.Lock()
	if len(st.waiters) > 0 {
		close(st.waiters[0])
		st.waiters = st.waiters[1:]
	}
	st.mu.Unlock()
	return nil
}

// Broadcast wakes every waiter (pmemobj_cond_broadcast).
func (c *Cond) Broadcast(p *Pool) error {
	st, err := p.lockState(&c.runID)
	if err != nil {
		return err
	}
	st.mu.Lock()
	for _, w := range st.waiters {
		close(w)
	}
	st.waiters = nil
	st.mu.Unlock()
	return nil
}

// Zero resets the condition variable and persists that
// (pmemobj_cond_zero).
func (c *Cond) Zero(p *Pool) { zeroLock(p, &c.runID) }
