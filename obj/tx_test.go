package obj

import (
	"errors"
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
