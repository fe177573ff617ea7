package objtest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj"
)

// Account is one account of the bank workload.
type Account struct {
	Balance int64
	ID      uint64
}

// Node is one node of the list workload.
type Node struct {
	Next  obj.Ptr[Node]
	Value uint64
}

// TxRoot is the root of the transaction workloads: a bank of accounts
// whose balances must sum to a constant, a linked list, and a blob that
// large transactions rewrite.
type TxRoot struct {
	Accounts [8]obj.Ptr[Account]
	Head     obj.Ptr[Node]
	Len      uint64
	Blob     obj.OID
	Gen      uint64
}

// Total is the sum of the bank's balances, which every transaction keeps.
const Total = 8 * 1000

// BlobSize is the size of the blob a large transaction snapshots whole:
// more than the lane's undo log, so the log continues in extensions.
const BlobSize = 40 << 10

func txSetup(m *core.Map) error {
	p, err := obj.CreateOnMap(View(m), crashOpts)
	if err != nil {
		return err
	}
	defer p.Close()
	root, err := obj.RootPtr[TxRoot](p)
	if err != nil {
		return err
	}
	r, err := root.Get(p)
	if err != nil {
		return err
	}
	return p.Tx(func(tx *obj.Tx) error {
		if err := obj.TxAdd(tx, r); err != nil {
			return err
		}
		for i := range r.Accounts {
			a, av, err := obj.TxNew[Account](tx, 1)
			if err != nil {
				return err
			}
			av.Balance, av.ID = Total/int64(len(r.Accounts)), uint64(i)
			r.Accounts[i] = a
		}
		blob, err := tx.Zalloc(BlobSize, 3)
		if err != nil {
			return err
		}
		r.Blob = blob
		return nil
	})
}

// txState is what the workload's transactions leave, for the check.
type txState struct {
	balances [8]int64
	list     []uint64 // values, head first
	blobGen  byte     // every byte of the blob
	gen      uint64
}

// txStep is one transaction of the workload and what it does to the state.
type txStep struct {
	name string
	do   func(p *obj.Pool, r *TxRoot) error
	next func(s txState) txState
}

func transfer(from, to int, amount int64) txStep {
	return txStep{
		name: fmt.Sprintf("transfer %d->%d", from, to),
		do: func(p *obj.Pool, r *TxRoot) error {
			a, _ := r.Accounts[from].Get(p)
			b, _ := r.Accounts[to].Get(p)
			return p.Tx(func(tx *obj.Tx) error {
				if err := obj.TxSet(tx, &a.Balance, a.Balance-amount); err != nil {
					return err
				}
				return obj.TxSet(tx, &b.Balance, b.Balance+amount)
			})
		},
		next: func(s txState) txState {
			s.balances[from] -= amount
			s.balances[to] += amount
			return s
		},
	}
}

func push(v uint64) txStep {
	return txStep{
		name: fmt.Sprintf("push %d", v),
		do: func(p *obj.Pool, r *TxRoot) error {
			return p.Tx(func(tx *obj.Tx) error {
				n, nv, err := obj.TxNew[Node](tx, 2)
				if err != nil {
					return err
				}
				nv.Value, nv.Next = v, r.Head
				return obj.TxUpdate(tx, r, func(r *TxRoot) { r.Head = n; r.Len++ })
			})
		},
		next: func(s txState) txState {
			s.list = append([]uint64{v}, s.list...)
			return s
		},
	}
}

func pop() txStep {
	return txStep{
		name: "pop",
		do: func(p *obj.Pool, r *TxRoot) error {
			return p.Tx(func(tx *obj.Tx) error {
				head := r.Head
				n, err := head.Get(p)
				if err != nil {
					return err
				}
				next := n.Next
				if err := obj.TxUpdate(tx, r, func(r *TxRoot) { r.Head = next; r.Len-- }); err != nil {
					return err
				}
				return tx.Free(head.OID())
			})
		},
		next: func(s txState) txState {
			s.list = slices.Clone(s.list[1:])
			return s
		},
	}
}

// aborted changes everything and aborts: nothing may remain of it.
func aborted() txStep {
	return txStep{
		name: "aborted",
		do: func(p *obj.Pool, r *TxRoot) error {
			a, _ := r.Accounts[0].Get(p)
			err := p.Tx(func(tx *obj.Tx) error {
				obj.TxSet(tx, &a.Balance, 0)
				n, _, err := obj.TxNew[Node](tx, 2)
				if err != nil {
					return err
				}
				obj.TxUpdate(tx, r, func(r *TxRoot) { r.Head = n; r.Len = 99 })
				return errAbort
			})
			if !errors.Is(err, errAbort) {
				return fmt.Errorf("aborted transaction: %v", err)
			}
			return nil
		},
		next: func(s txState) txState { return s },
	}
}

var errAbort = errors.New("abort on purpose")

// blob rewrites the whole blob (BlobSize bytes) and a balance pair in one
// transaction: its snapshots need undo log extensions.
func blob(g byte) txStep {
	return txStep{
		name: fmt.Sprintf("blob %d", g),
		do: func(p *obj.Pool, r *TxRoot) error {
			a, _ := r.Accounts[2].Get(p)
			b, _ := r.Accounts[3].Get(p)
			return p.Tx(func(tx *obj.Tx) error {
				bl := p.Bytes(r.Blob)
				if err := tx.AddRangeDirect(bl); err != nil {
					return err
				}
				for i := range bl {
					bl[i] = g
				}
				obj.TxSet(tx, &a.Balance, a.Balance-7)
				return obj.TxSet(tx, &b.Balance, b.Balance+7)
			})
		},
		next: func(s txState) txState {
			s.blobGen = g
			s.balances[2] -= 7
			s.balances[3] += 7
			return s
		},
	}
}

// nested moves money in a nested transaction and pushes in the outer one.
func nested(v uint64) txStep {
	return txStep{
		name: fmt.Sprintf("nested %d", v),
		do: func(p *obj.Pool, r *TxRoot) error {
			a, _ := r.Accounts[5].Get(p)
			b, _ := r.Accounts[6].Get(p)
			return p.Tx(func(tx *obj.Tx) error {
				err := tx.Tx(func(tx *obj.Tx) error {
					obj.TxSet(tx, &a.Balance, a.Balance-11)
					return obj.TxSet(tx, &b.Balance, b.Balance+11)
				})
				if err != nil {
					return err
				}
				n, nv, err := obj.TxNew[Node](tx, 2)
				if err != nil {
					return err
				}
				nv.Value, nv.Next = v, r.Head
				obj.TxUpdate(tx, r, func(r *TxRoot) { r.Head = n; r.Len++; r.Gen++ })
				return nil
			})
		},
		next: func(s txState) txState {
			s.balances[5] -= 11
			s.balances[6] += 11
			s.list = append([]uint64{v}, s.list...)
			s.gen++
			return s
		},
	}
}

func txSteps() []txStep {
	return []txStep{
		transfer(0, 1, 100),
		push(1),
		push(2),
		aborted(),
		blob(1),
		pop(),
		nested(3),
		transfer(1, 7, 250),
		blob(2),
		pop(),
	}
}

// readTxState reads the workload's state from a pool, checking the bank's
// invariant and the list's length field.
func readTxState(p *obj.Pool) (txState, error) {
	var s txState
	root, err := obj.RootPtr[TxRoot](p)
	if err != nil {
		return s, err
	}
	r, err := root.Get(p)
	if err != nil {
		return s, err
	}
	var sum int64
	for i, ap := range r.Accounts {
		a, err := ap.Get(p)
		if err != nil {
			return s, fmt.Errorf("account %d: %w", i, err)
		}
		s.balances[i] = a.Balance
		sum += a.Balance
	}
	if sum != Total {
		return s, fmt.Errorf("balances %v sum to %d, not %d", s.balances, sum, Total)
	}
	for n := r.Head; !n.IsNull(); {
		nv, err := n.Get(p)
		if err != nil {
			return s, fmt.Errorf("list node %v: %w", n.OID(), err)
		}
		s.list = append(s.list, nv.Value)
		if len(s.list) > 100 {
			return s, errors.New("list loops")
		}
		n = nv.Next
	}
	if uint64(len(s.list)) != r.Len {
		return s, fmt.Errorf("list of %d nodes, length field %d", len(s.list), r.Len)
	}
	bl := p.Bytes(r.Blob)
	if len(bl) < BlobSize {
		return s, fmt.Errorf("blob of %d bytes", len(bl))
	}
	s.blobGen = bl[0]
	for i, c := range bl[:BlobSize] {
		if c != s.blobGen {
			return s, fmt.Errorf("blob torn at byte %d: %d after %d", i, c, s.blobGen)
		}
	}
	s.gen = r.Gen
	return s, nil
}

func (s txState) equal(o txState) bool {
	return s.balances == o.balances && slices.Equal(s.list, o.list) && s.blobGen == o.blobGen && s.gen == o.gen
}

// Transactions is the crash workload of transactions: transfers between
// accounts (their sum must hold), list pushes and pops through
// transactional allocation and free, an aborted transaction, transactions
// that snapshot more than the lane's undo log holds, and a nested one.
// After reopen each transaction is wholly there or wholly absent, every
// one that returned is there, nothing is allocated that the list, the
// accounts or the blob do not hold, and the heap checker passes.
func Transactions() crashsim.Workload { return txWorkload(txSteps()) }

func txWorkload(steps []txStep) crashsim.Workload {
	states := []txState{{balances: [8]int64{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}}}
	for _, st := range steps {
		states = append(states, st.next(states[len(states)-1]))
	}
	acked := make([]int, len(steps))
	return crashsim.Workload{
		Size:  crashPoolSize,
		Setup: txSetup,
		Run: func(m *core.Map) error {
			dev, _ := m.Persister().(*crashsim.Device)
			p, err := obj.OpenOnMap(View(m), crashOpts)
			if err != nil {
				return err
			}
			root, err := obj.RootPtr[TxRoot](p)
			if err != nil {
				return err
			}
			r, err := root.Get(p)
			if err != nil {
				return err
			}
			for i, st := range steps {
				if err := st.do(p, r); err != nil {
					return fmt.Errorf("step %d (%s): %w", i, st.name, err)
				}
				if dev != nil {
					acked[i] = dev.Fences()
				}
			}
			return p.Close()
		},
		Recover: func(m *core.Map) error {
			p, err := obj.OpenOnMap(View(m), crashOpts)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := c.Acknowledged(acked)
			p, err := obj.OpenOnMap(View(m), crashOpts)
			if err != nil {
				return fmt.Errorf("reopen after %d transactions: %w", done, err)
			}
			defer p.Close()
			if probs := p.Check(); len(probs) > 0 {
				return fmt.Errorf("after %d transactions: heap check: %w", done, errors.Join(probs...))
			}
			got, err := readTxState(p)
			if err != nil {
				return fmt.Errorf("after %d transactions: %w", done, err)
			}
			if !got.equal(states[done]) && (done == len(steps) || !got.equal(states[done+1])) {
				return fmt.Errorf("after %d transactions the pool holds %+v: neither %+v nor the next", done, got, states[done])
			}
			// Objects: the accounts, the blob and the list nodes.
			if n := countObjects(p); n != 8+1+len(got.list) {
				return fmt.Errorf("after %d transactions: %d objects for %d list nodes (a leak or a lost object)", done, n, len(got.list))
			}
			// The pool keeps working.
			return p.Tx(func(tx *obj.Tx) error {
				_, err := tx.Alloc(64, 9)
				return err
			})
		},
	}
}

func countObjects(p *obj.Pool) int {
	n := 0
	for range p.Objects() {
		n++
	}
	return n
}
