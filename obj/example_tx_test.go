package obj_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/obj"
)

// A counter that survives restarts: each increment is one transaction,
// whole after a crash or not there at all.
func ExamplePool_Tx() {
	dir, _ := os.MkdirTemp("", "obj-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool")
	opts := &obj.Options{Layout: "counter"}

	type counter struct{ N uint64 }
	for run := 0; run < 3; run++ { // three runs of a program
		p, err := obj.Open(path, opts)
		if errors.Is(err, os.ErrNotExist) {
			p, err = obj.Create(path, obj.MinPoolSize, 0o600, opts)
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		root, _ := obj.RootPtr[counter](p)
		c, _ := root.Get(p)
		err = p.Tx(func(tx *obj.Tx) error {
			return obj.TxUpdate(tx, c, func(c *counter) { c.N++ })
		})
		fmt.Println("run", run, "count", c.N, err)
		p.Close()
	}
	// Output:
	// run 0 count 1 <nil>
	// run 1 count 2 <nil>
	// run 2 count 3 <nil>
}

// A bank transfer: both balances change, or (the error aborts the
// transaction) neither does.
func ExamplePool_Tx_transfer() {
	dir, _ := os.MkdirTemp("", "obj-example")
	defer os.RemoveAll(dir)
	p, err := obj.Create(filepath.Join(dir, "pool"), obj.MinPoolSize, 0o600, &obj.Options{Layout: "bank"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	type bank struct{ Balance [2]int64 }
	root, _ := obj.RootPtr[bank](p)
	b, _ := root.Get(p)
	p.Tx(func(tx *obj.Tx) error { return obj.TxSet(tx, &b.Balance, [2]int64{100, 0}) })

	errShort := errors.New("insufficient funds")
	transfer := func(from, to int, amount int64) error {
		return p.Tx(func(tx *obj.Tx) error {
			if err := obj.TxAdd(tx, &b.Balance); err != nil {
				return err
			}
			b.Balance[from] -= amount
			b.Balance[to] += amount
			if b.Balance[from] < 0 {
				return errShort // the abort restores both balances
			}
			return nil
		})
	}
	fmt.Println(transfer(0, 1, 30), b.Balance)
	fmt.Println(transfer(0, 1, 500), b.Balance)
	// Output:
	// <nil> [70 30]
	// insufficient funds [70 30]
}

// A persistent linked list: a push allocates the node and links it in one
// transaction, a pop unlinks and frees it in another.
func ExampleTxNew() {
	dir, _ := os.MkdirTemp("", "obj-example")
	defer os.RemoveAll(dir)
	p, err := obj.Create(filepath.Join(dir, "pool"), obj.MinPoolSize, 0o600, &obj.Options{Layout: "list"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	type node struct {
		Next  obj.Ptr[node]
		Value uint64
	}
	type list struct {
		Head obj.Ptr[node]
		Len  uint64
	}
	root, _ := obj.RootPtr[list](p)
	l, _ := root.Get(p)

	push := func(v uint64) error {
		return p.Tx(func(tx *obj.Tx) error {
			n, nv, err := obj.TxNew[node](tx, 1)
			if err != nil {
				return err
			}
			nv.Next, nv.Value = l.Head, v // new: no snapshot needed
			return obj.TxUpdate(tx, l, func(l *list) { l.Head, l.Len = n, l.Len+1 })
		})
	}
	pop := func() (v uint64, err error) {
		err = p.Tx(func(tx *obj.Tx) error {
			head := l.Head
			n, err := head.Get(p)
			if err != nil {
				return err
			}
			v = n.Value
			if err := obj.TxUpdate(tx, l, func(l *list) { l.Head, l.Len = n.Next, l.Len-1 }); err != nil {
				return err
			}
			return tx.Free(head.OID())
		})
		return v, err
	}

	for v := range uint64(3) {
		push(v * 10)
	}
	v, err := pop()
	fmt.Println("popped", v, err, "length", l.Len)
	for n := l.Head; !n.IsNull(); {
		nv, _ := n.Get(p)
		fmt.Println(nv.Value)
		n = nv.Next
	}
	// Output:
	// popped 20 <nil> length 2
	// 10
	// 0
}
