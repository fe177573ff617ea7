package obj

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

type account struct {
	Balance int64
	Name    [8]byte
}

type bank struct {
	A, B Ptr[account]
	N    uint64
}

func TestTxBasic(t *testing.T) {
	p, path := newPool(t, 16<<20)
	root, err := RootPtr[bank](p)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := root.Get(p)
	err = p.Tx(func(tx *Tx) error {
		a, av, err := TxNew[account](tx, 1)
		if err != nil {
			return err
		}
		av.Balance = 100
		b, bv, err := TxNew[account](tx, 1)
		if err != nil {
			return err
		}
		bv.Balance = 50
		if err := TxUpdate(tx, r, func(r *bank) { r.A, r.B = a, b }); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.A.Get(p)
	b, _ := r.B.Get(p)
	if a.Balance != 100 || b.Balance != 50 {
		t.Fatalf("balances %d %d", a.Balance, b.Balance)
	}
	// A transfer that fails half way is undone.
	boom := errors.New("boom")
	err = p.Tx(func(tx *Tx) error {
		if err := TxSet(tx, &a.Balance, a.Balance-30); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || a.Balance != 100 {
		t.Fatalf("aborted transfer: %v, balance %d", err, a.Balance)
	}
	// Nested: the inner abort aborts the outer.
	err = p.Tx(func(tx *Tx) error {
		TxSet(tx, &a.Balance, 1)
		return tx.Tx(func(tx *Tx) error {
			TxSet(tx, &b.Balance, 2)
			return boom
		})
	})
	if !errors.Is(err, boom) || a.Balance != 100 || b.Balance != 50 {
		t.Fatalf("nested abort: %v, balances %d %d", err, a.Balance, b.Balance)
	}
	// Free inside a transaction.
	err = p.Tx(func(tx *Tx) error {
		if err := tx.Free(r.B.OID()); err != nil {
			return err
		}
		return TxSet(tx, &r.B, Ptr[account]{})
	})
	if err != nil || !r.B.IsNull() {
		t.Fatalf("free: %v", err)
	}
	p.Close()
	p2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if probs := p2.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
	n := 0
	for range p2.Objects() {
		n++
	}
	if n != 1 {
		t.Fatalf("%d objects", n)
	}
}

func TestTxStagesAndCallbacks(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	var stages []Stage
	var order []string
	tx, err := p.Begin(WithCallback(func(_ *Tx, s Stage) { stages = append(stages, s) }))
	if err != nil {
		t.Fatal(err)
	}
	if tx.Stage() != StageWork {
		t.Fatalf("stage %v", tx.Stage())
	}
	tx.OnCommit(func() { order = append(order, "commit") })
	tx.OnAbort(func() { order = append(order, "abort") })
	tx.Finally(func() { order = append(order, "finally") })
	if _, err := tx.Alloc(100, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.End(); !errors.Is(err, ErrTxStage) {
		t.Fatalf("end in work stage: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, ErrTxStage) {
		t.Fatalf("second commit: %v", err)
	}
	if _, err := tx.Alloc(8, 1); !errors.Is(err, ErrTxStage) {
		t.Fatalf("alloc after commit: %v", err)
	}
	if err := tx.End(); err != nil {
		t.Fatal(err)
	}
	if err := tx.End(); !errors.Is(err, ErrTxStage) {
		t.Fatalf("end twice: %v", err)
	}
	want := []Stage{StageWork, StageOnCommit, StageFinally, StageNone}
	if !slices.Equal(stages, want) || !slices.Equal(order, []string{"commit", "finally"}) {
		t.Fatalf("stages %v, callbacks %v", stages, order)
	}

	// Process walks the stages as pmemobj_tx_process.
	tx, _ = p.Begin()
	tx.OnAbort(func() { order = append(order, "abort") })
	if err := tx.Abort(nil); err != nil {
		t.Fatal(err)
	}
	if tx.Stage() != StageOnAbort || !errors.Is(tx.Err(), ErrAborted) {
		t.Fatalf("after abort: %v %v", tx.Stage(), tx.Err())
	}
	if err := tx.End(); !errors.Is(err, ErrAborted) {
		t.Fatalf("end of an aborted tx: %v", err)
	}
}

func TestTxMisuse(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	o, _ := p.Alloc(64, 1, nil)
	err := p.Tx(func(tx *Tx) error {
		tx.SetFailureBehavior(FailureReturn)
		if err := tx.AddRange(o, 60, 100); !errors.Is(err, ErrRange) {
			t.Errorf("range past the object: %v", err)
		}
		if err := tx.AddRange(OID{p.UUIDLo() + 1, o.Off}, 0, 8); !errors.Is(err, ErrRange) {
			t.Errorf("other pool: %v", err)
		}
		if err := tx.AddRange(OID{p.UUIDLo(), o.Off + 8}, 0, 8); !errors.Is(err, ErrInvalidOID) {
			t.Errorf("not an object: %v", err)
		}
		outside := make([]byte, 8)
		if err := tx.AddRangeDirect(outside); !errors.Is(err, ErrRange) {
			t.Errorf("Go memory: %v", err)
		}
		if err := tx.AddRangeDirect(p.m.B[0:8]); !errors.Is(err, ErrRange) {
			t.Errorf("pool header: %v", err)
		}
		if err := tx.XAddRange(o, 0, 8, 1<<40); !errors.Is(err, ErrFlags) {
			t.Errorf("bad flags: %v", err)
		}
		if tx.Stage() != StageWork {
			t.Errorf("FailureReturn aborted: %v", tx.Stage())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// By default a failure aborts.
	err = p.Tx(func(tx *Tx) error {
		tx.AddRange(o, 0, 8)
		if err := tx.AddRange(o, 60, 100); !errors.Is(err, ErrRange) {
			t.Errorf("range past the object: %v", err)
		}
		if tx.Stage() != StageOnAbort {
			t.Errorf("not aborted: %v", tx.Stage())
		}
		return nil
	})
	if !errors.Is(err, ErrRange) {
		t.Fatalf("tx after a failed call: %v", err)
	}
	// NoAbort returns without aborting.
	err = p.Tx(func(tx *Tx) error {
		if err := tx.XAddRange(o, 60, 100, TxNoAbort); !errors.Is(err, ErrRange) {
			t.Errorf("no-abort range: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent use is refused.
	tx, _ := p.Begin()
	tx.s.busy.Store(true)
	if _, err := tx.Alloc(8, 1); !errors.Is(err, ErrTxBusy) {
		t.Errorf("concurrent call: %v", err)
	}
	tx.s.busy.Store(false)
	tx.Commit()
	tx.End()
	var nilTx *Tx
	if _, err := nilTx.Alloc(8, 1); !errors.Is(err, ErrTxStage) {
		t.Errorf("nil tx: %v", err)
	}
	// A panic aborts and goes on.
	b := p.Bytes(o)
	b[0] = 1
	p.Persist(b[:1])
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v", r)
			}
		}()
		p.Tx(func(tx *Tx) error {
			TxSet(tx, &b[0], 2)
			panic("boom")
		})
	}()
	if b[0] != 1 {
		t.Errorf("panic did not roll back: %d", b[0])
	}
}

func TestTxAllocFreeRealloc(t *testing.T) {
	p, path := newPool(t, 16<<20)
	keep, _ := p.Alloc(100, 1, func(b []byte) error { copy(b, "keep"); return nil })
	var grown, fresh OID
	err := p.Tx(func(tx *Tx) error {
		// Freed in the same transaction: given back at once.
		tmp, err := tx.Alloc(5000, 2)
		if err != nil {
			return err
		}
		if err := tx.Free(tmp); err != nil {
			return err
		}
		if err := tx.Free(tmp); err == nil {
			return errors.New("second free of a cancelled allocation accepted")
		}
		return nil
	})
	if !errors.Is(err, ErrInvalidOID) {
		t.Fatalf("double free: %v", err)
	}
	err = p.Tx(func(tx *Tx) error {
		var err error
		if grown, err = tx.Zrealloc(keep, 3000, 3); err != nil {
			return err
		}
		if fresh, err = tx.Strdup("hello", 4); err != nil {
			return err
		}
		o, a, err := p.Reserve(64, 5)
		if err != nil {
			return err
		}
		copy(a.Bytes(), "reserved")
		_ = o
		return tx.Publish(a)
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Bytes(grown); string(b[:4]) != "keep" || b[2999] != 0 {
		t.Fatal("realloc lost data")
	}
	if _, err := p.UsableSize(keep); !errors.Is(err, ErrInvalidOID) {
		t.Fatal("old object not freed")
	}
	// An aborted transaction's allocations and frees are undone.
	err = p.Tx(func(tx *Tx) error {
		tx.Alloc(100, 9)
		tx.Free(grown)
		tx.Free(fresh)
		return errors.New("no")
	})
	if err == nil {
		t.Fatal("abort")
	}
	count := 0
	for range p.Objects() {
		count++
	}
	if count != 3 {
		t.Fatalf("%d objects, want 3", count)
	}
	p.Close()
	p, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
}

// TestTxLargeAndUserBuffers snapshots more than the lane's undo log holds
// (extensions from the heap), then with the heap's growth turned off and
// user buffers instead.
func TestTxLargeAndUserBuffers(t *testing.T) {
	p, _ := newPool(t, 32<<20)
	big, _ := p.Zalloc(200<<10, 1)
	b := p.Bytes(big)
	fill := func(c byte) func(tx *Tx) error {
		return func(tx *Tx) error {
			if err := tx.AddRangeDirect(b); err != nil {
				return err
			}
			for i := range b {
				b[i] = c
			}
			return nil
		}
	}
	if err := p.Tx(fill(1)); err != nil {
		t.Fatal(err)
	}
	err := p.Tx(func(tx *Tx) error {
		if err := fill(2)(tx); err != nil {
			return err
		}
		return errors.New("undo it")
	})
	if err == nil || b[0] != 1 || b[len(b)-1] != 1 {
		t.Fatalf("abort of a large tx: %v %d %d", err, b[0], b[len(b)-1])
	}
	// Without automatic growth it fails...
	err = p.Tx(func(tx *Tx) error {
		tx.LogAutoAlloc(LogSnapshot, false)
		return fill(3)(tx)
	})
	if !errors.Is(err, ErrLogFull) || b[0] != 1 {
		t.Fatalf("tx without log growth: %v", err)
	}
	// ... unless user buffers give the room.
	need := TxLogSnapshotsMaxSize(len(b))
	buf, _ := p.Alloc(need+128, 7, nil)
	err = p.Tx(func(tx *Tx) error {
		tx.LogAutoAlloc(LogSnapshot, false)
		if err := tx.LogAppendBuffer(LogSnapshot, p.Bytes(buf)); err != nil {
			return err
		}
		return fill(4)(tx)
	})
	if err != nil || b[0] != 4 {
		t.Fatalf("tx with a user buffer: %v", err)
	}
	// The user buffer is the user's again: freeing it is fine, and the
	// lane's log no longer links it.
	if err := p.Free(buf); err != nil {
		t.Fatal(err)
	}
	if err := p.Tx(fill(5)); err != nil || b[100] != 5 {
		t.Fatalf("tx after the user buffer was freed: %v", err)
	}
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
	if TxLogIntentsMaxSize(40) != 64+640 {
		t.Errorf("intents size %d", TxLogIntentsMaxSize(40))
	}
}

// TestTxHandleAfterEnd: a transaction used after it ended fails, also
// when its lane runs a new transaction meanwhile.
func TestTxHandleAfterEnd(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	var kept *Tx
	if err := p.Tx(func(tx *Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Alloc(8, 1); !errors.Is(err, ErrTxStage) {
		t.Fatalf("alloc through an ended transaction: %v", err)
	}
	err := p.Tx(func(tx *Tx) error {
		if _, err := kept.Alloc(8, 1); !errors.Is(err, ErrTxStage) {
			t.Errorf("alloc through an ended transaction while another runs: %v", err)
		}
		if kept.Stage() != StageNone {
			t.Errorf("stage of an ended transaction: %v", kept.Stage())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var aborted *Tx
	p.Tx(func(tx *Tx) error { aborted = tx; return boom })
	if !errors.Is(aborted.Err(), boom) {
		t.Fatalf("Err after the end: %v", aborted.Err())
	}
}

// TestTxErrAfterEndConcurrent: goroutines share the lanes; each asks Err
// of its ended transactions while the others end theirs in the same
// lanes. Err answers the transaction's own outcome or, once its lane has
// ended another, ErrTxStage; never another transaction's (run with -race).
func TestTxErrAfterEndConcurrent(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				cause := fmt.Errorf("goroutine %d, transaction %d", g, i)
				abort := i%2 == 0
				var h *Tx
				p.Tx(func(tx *Tx) error {
					h = tx
					if abort {
						return cause
					}
					return nil
				})
				err := h.Err()
				switch {
				case errors.Is(err, ErrTxStage):
				case abort && err != cause:
					t.Errorf("Err of an aborted transaction: %v, want %v", err, cause)
					return
				case !abort && err != nil:
					t.Errorf("Err of a committed transaction: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestTxAbortCause: Abort's cause is what the transaction reports.
func TestTxAbortCause(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	cause := errors.New("cause")
	err := p.Tx(func(tx *Tx) error {
		if err := tx.Abort(cause); err != nil {
			t.Errorf("abort: %v", err)
		}
		return nil
	})
	if err != cause {
		t.Fatalf("transaction aborted with %v: got %v", cause, err)
	}
}
