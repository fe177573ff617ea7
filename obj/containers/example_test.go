package containers_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// The root object of the examples: a vector, a string and a segment
// vector, found again after the pool is reopened.
type exampleRoot struct {
	Scores containers.VectorHead[int64]
	Name   containers.StringHead
	Log    containers.SegmentVectorHead[uint32]
	Slots  [4]uint16
}

// withPool creates a pool in a temporary directory, runs fn on it, then
// reopens it and runs again on the reopened pool.
func withPool(fn func(p *obj.Pool, r *exampleRoot, reopened bool) error) {
	dir, _ := os.MkdirTemp("", "containers-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool")
	opts := &obj.Options{Layout: "example"}
	p, err := obj.Create(path, obj.MinPoolSize, 0o600, opts)
	for _, reopened := range []bool{false, true} {
		if reopened {
			p, err = obj.Open(path, opts)
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		rp, err := obj.RootPtr[exampleRoot](p)
		if err != nil {
			fmt.Println(err)
			return
		}
		r, _ := rp.Get(p)
		if err := fn(p, r, reopened); err != nil {
			fmt.Println(err)
		}
		p.Close()
	}
}

// A vector in the root object: changes in their own transactions, then
// several in one, then read after a reopen.
func ExampleVector() {
	withPool(func(p *obj.Pool, r *exampleRoot, reopened bool) error {
		v, err := containers.OpenVector(p, &r.Scores)
		if err != nil {
			return err
		}
		if reopened {
			for i, x := range v.All() {
				fmt.Println(i, x)
			}
			_, err := v.Get(v.Len())
			fmt.Println(err)
			return nil
		}
		for _, x := range []int64{10, 20, 30} {
			if err := v.PushBack(x); err != nil {
				return err
			}
		}
		// Both changes commit together or not at all.
		return p.Tx(func(tx *obj.Tx) error {
			vt := v.In(tx)
			if err := vt.Erase(0, 1); err != nil {
				return err
			}
			return vt.Insert(1, 25)
		})
	})
	// Output:
	// 0 20
	// 1 25
	// 2 30
	// containers: index out of range: index 3, length 3
}

func ExampleString() {
	withPool(func(p *obj.Pool, r *exampleRoot, reopened bool) error {
		s, err := containers.OpenString(p, &r.Name)
		if err != nil {
			return err
		}
		if reopened {
			fmt.Printf("%q, %d bytes, equal: %v\n", s.String(), s.Len(), s.Equal("persistent memory development kit"))
			return nil
		}
		if err := s.Assign("persistent"); err != nil { // inline in the head
			return err
		}
		return s.Append(" memory development kit") // 33 bytes: moves to an object
	})
	// Output:
	// "persistent memory development kit", 33 bytes, equal: true
}

func ExampleArray() {
	withPool(func(p *obj.Pool, r *exampleRoot, reopened bool) error {
		a, err := containers.ArrayOf(p, r.Slots[:])
		if err != nil {
			return err
		}
		if reopened {
			fmt.Println(a.View())
			return nil
		}
		if err := a.Set(1, 7); err != nil { // snapshots element 1 only
			return err
		}
		return a.Swap(1, 3)
	})
	// Output:
	// [0 0 0 7]
}

func ExampleSegmentVector() {
	withPool(func(p *obj.Pool, r *exampleRoot, reopened bool) error {
		v, err := containers.OpenSegmentVector(p, &r.Log)
		if err != nil {
			return err
		}
		if reopened {
			fmt.Println(v.Len(), "elements in", v.Segments(), "segments")
			return nil
		}
		if err := v.PushBack(1); err != nil {
			return err
		}
		first, _ := v.At(0)
		for i := range uint32(99) {
			if err := v.PushBack(i); err != nil {
				return err
			}
		}
		again, _ := v.At(0)
		fmt.Println("element 0 stayed in place:", first == again)
		return nil
	})
	// Output:
	// element 0 stayed in place: true
	// 100 elements in 5 segments
}
