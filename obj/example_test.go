package obj_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopmdk/pmdk/obj"
)

// A persistent counter and a list of notes, typed, reopened.
func Example() {
	dir, _ := os.MkdirTemp("", "obj-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool")

	type note struct {
		Next obj.Ptr[note]
		Text [16]byte
	}
	type root struct {
		Count uint64
		Notes obj.Ptr[note]
	}

	p, err := obj.Create(path, obj.MinPoolSize, 0o600, &obj.Options{Layout: "notes"})
	if err != nil {
		fmt.Println(err)
		return
	}
	rootOID, _ := p.Root(64)
	r, _ := obj.PtrTo[root](rootOID).Get(p)
	for _, text := range []string{"first", "second"} {
		n, err := obj.New(p, 1, func(n *note) {
			copy(n.Text[:], text)
			n.Next = r.Notes // the new note links to the old head
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		r.Notes = n
		r.Count++
		p.Persist(p.Bytes(rootOID)) // a crash here would lose the link: use AllocTo or Publish to make it atomic
	}
	p.Close()

	p, err = obj.Open(path, &obj.Options{Layout: "notes"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	rootOID, _ = p.Root(0)
	r, _ = obj.PtrTo[root](rootOID).Get(p)
	fmt.Println("notes:", r.Count)
	for n := r.Notes; !n.IsNull(); {
		note, _ := n.Get(p)
		fmt.Printf("%s\n", bytes.TrimRight(note.Text[:], "\x00"))
		n = note.Next
	}
	// Output:
	// notes: 2
	// second
	// first
}

// Reserve two objects and publish them with the values that link them:
// after a crash, both or neither.
func ExamplePool_Publish() {
	dir, _ := os.MkdirTemp("", "obj-example")
	defer os.RemoveAll(dir)
	p, err := obj.Create(filepath.Join(dir, "pool"), obj.MinPoolSize, 0o600, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	rootOID, _ := p.Root(32)
	links, _ := obj.PtrTo[[2]obj.OID](rootOID).Get(p)

	a, actA, _ := p.Reserve(100, 1)
	b, actB, _ := p.Reserve(100, 1)
	copy(actA.Bytes(), "alpha")
	copy(actB.Bytes(), "beta")
	p.Flush(actA.Bytes()[:5])
	p.Flush(actB.Bytes()[:4])
	err = p.Publish(actA, actB,
		p.SetValue(&links[0].PoolUUIDLo, a.PoolUUIDLo), p.SetValue(&links[0].Off, a.Off),
		p.SetValue(&links[1].PoolUUIDLo, b.PoolUUIDLo), p.SetValue(&links[1].Off, b.Off))
	fmt.Println(err, string(p.Bytes(links[0])[:5]), string(p.Bytes(links[1])[:4]))
	// Output: <nil> alpha beta
}
