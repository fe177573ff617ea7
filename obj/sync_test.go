package obj

import (
	"errors"
	"sync"
	"testing"
	"time"
)

type locked struct {
	Mu    Mutex
	RW    RWMutex
	Cond  Cond
	Count int64
	Ready uint64
}

func lockedRoot(t *testing.T, p *Pool) *locked {
	t.Helper()
	r, err := RootPtr[locked](p)
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Get(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLocksManyGoroutines: counters kept by a pmem mutex, an rwlock and a
// transaction that takes the mutex, with many goroutines (run with -race).
func TestLocksManyGoroutines(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	v := lockedRoot(t, p)
	const workers, n = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range n {
				switch (w + i) % 3 {
				case 0:
					if err := v.Mu.Lock(p); err != nil {
						t.Error(err)
						return
					}
					v.Count++
					v.Mu.Unlock(p)
				case 1:
					if err := p.Tx(func(tx *Tx) error { return TxSet(tx, &v.Count, v.Count+1) }, WithMutex(&v.Mu)); err != nil {
						t.Error(err)
						return
					}
				case 2:
					v.RW.RLock(p)
					v.RW.RUnlock(p)
					v.Mu.Lock(p)
					v.Count++
					v.Mu.Unlock(p)
				}
			}
		})
	}
	wg.Wait()
	if v.Count != workers*n {
		t.Fatalf("count %d, want %d", v.Count, workers*n)
	}
}

func TestLockErrorsAndTimeouts(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	v := lockedRoot(t, p)
	if err := v.Mu.Unlock(p); !errors.Is(err, ErrNotLocked) {
		t.Errorf("unlock of a free mutex: %v", err)
	}
	var outside Mutex
	if err := outside.Lock(p); !errors.Is(err, ErrLockOutsidePool) {
		t.Errorf("mutex in Go memory: %v", err)
	}
	v.Mu.Lock(p)
	if err := v.Mu.TryLock(p); !errors.Is(err, ErrBusy) {
		t.Errorf("trylock of a locked mutex: %v", err)
	}
	start := time.Now()
	if err := v.Mu.TimedLock(p, time.Now().Add(20*time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Errorf("timed lock: %v", err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Error("timed lock returned before its deadline")
	}
	v.Mu.Unlock(p)
	v.RW.RLock(p)
	v.RW.RLock(p)
	if err := v.RW.TryLock(p); !errors.Is(err, ErrBusy) {
		t.Errorf("write trylock under readers: %v", err)
	}
	if err := v.RW.TimedLock(p, time.Now().Add(5*time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Errorf("timed write lock: %v", err)
	}
	v.RW.RUnlock(p)
	v.RW.RUnlock(p)
	if err := v.RW.TryLock(p); err != nil {
		t.Errorf("write trylock of a free lock: %v", err)
	}
	if err := v.RW.TryRLock(p); !errors.Is(err, ErrBusy) {
		t.Errorf("read trylock under a writer: %v", err)
	}
	v.RW.Unlock(p)

	// Cond: a waiter woken by Signal, a timed wait that times out.
	done := make(chan error)
	go func() {
		v.Mu.Lock(p)
		for v.Ready == 0 {
			if err := v.Cond.Wait(p, &v.Mu); err != nil {
				done <- err
				return
			}
		}
		v.Mu.Unlock(p)
		done <- nil
	}()
	time.Sleep(5 * time.Millisecond)
	v.Mu.Lock(p)
	v.Ready = 1
	v.Cond.Signal(p)
	v.Mu.Unlock(p)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	v.Mu.Lock(p)
	if err := v.Cond.TimedWait(p, &v.Mu, time.Now().Add(5*time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Errorf("timed wait: %v", err)
	}
	if err := v.Mu.Unlock(p); err != nil {
		t.Errorf("mutex not relocked after a timed-out wait: %v", err)
	}
	v.Cond.Broadcast(p)
}

// TestLockLeftLockedIsFreeAfterReopen: a mutex held when the pool closed
// (or the process died) is free in the next run.
func TestLockLeftLockedIsFreeAfterReopen(t *testing.T) {
	p, path := newPool(t, 16<<20)
	v := lockedRoot(t, p)
	v.Mu.Lock(p)
	v.RW.Lock(p)
	p.Persist(p.m.B[:0])
	p.Close()
	p, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	v = lockedRoot(t, p)
	if err := v.Mu.TryLock(p); err != nil {
		t.Fatalf("mutex of an earlier run: %v", err)
	}
	if err := v.RW.TryLock(p); err != nil {
		t.Fatalf("rwlock of an earlier run: %v", err)
	}
}

// TestTxAbortKeepsHeldLocks: an abort restores snapshots but not the
// bytes of the locks the transaction holds (tx_restore_range).
func TestTxAbortKeepsHeldLocks(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	v := lockedRoot(t, p)
	err := p.Tx(func(tx *Tx) error {
		if err := TxAdd(tx, v); err != nil { // the lock's bytes too
			return err
		}
		v.Count = 42
		return errors.New("abort")
	}, WithMutex(&v.Mu))
	if err == nil || v.Count != 0 {
		t.Fatalf("abort: %v, count %d", err, v.Count)
	}
	if err := v.Mu.TryLock(p); err != nil {
		t.Fatalf("mutex after the aborted transaction: %v", err)
	}
	v.Mu.Unlock(p)
}
