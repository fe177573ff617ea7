package containers

import (
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
)

// TestDamageIsAnError damages links of each container in the pool (out of
// the pool, misaligned, pointing at the wrong kind of node) and checks
// that lookups, iterations, Check and Open report ErrDamaged (wrapping
// core.ErrCorrupt) or stop, and never panic.
func TestDamageIsAnError(t *testing.T) {
	p, err := obj.Create(pmemtest.Path(t, "pool"), 16<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var tree *BytesRadix
	var hm *BytesHashMap
	var q *MPSCQueue
	err = p.Tx(func(tx *obj.Tx) error {
		if tree, err = NewBytesRadix(tx, p); err != nil {
			return err
		}
		if hm, err = NewBytesHashMap(tx, p); err != nil {
			return err
		}
		q, err = NewMPSCQueue(tx, p, 256)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := tree.Put(nil, []byte(k), []byte(k)); err != nil {
			t.Fatal(err)
		}
		if err := hm.Put([]byte(k), []byte(k)); err != nil {
			t.Fatal(err)
		}
		if err := q.Produce([]byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	damaged := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrDamaged) || !errors.Is(err, core.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrDamaged", what, err)
		}
	}
	leaf := tree.r.h.root
	for leaf&leafTag == 0 {
		in, err := tree.r.inner(leaf)
		if err != nil {
			t.Fatal(err)
		}
		leaf = in.child[0]
	}
	for i, bad := range []uint64{1 << 50, 12, 4096 + 3, leaf &^ leafTag} { // the last: a leaf read as an inner node
		saved := tree.r.h.root
		tree.r.h.root = bad
		if _, err := tree.Get(nil, []byte("a")); i < 3 {
			damaged("radix Get", err)
		}
		damaged("radix Check", tree.Check())
		for range tree.All() {
		}
		for range tree.Range([]byte("b"), nil) {
		}
		tree.r.h.root = saved
	}
	if err := tree.Check(); err != nil {
		t.Fatal(err)
	}

	for b := range hm.m.h.base {
		head, _ := hm.m.bucket(b)
		if *head == 0 {
			continue
		}
		saved := *head
		*head = 1 << 50
		damaged("hash map Check", hm.Check())
		for _, k := range []string{"a", "b", "c"} {
			if _, err := hm.Get(nil, []byte(k)); err != nil && !errors.Is(err, ErrNotFound) {
				damaged("hash map Get", err)
			}
		}
		for range hm.All() {
		}
		*head = saved
	}
	hm.m.h.level = 60
	_, err = OpenBytesHashMap(p, hm.OID())
	damaged("hash map Open", err)

	q.h.tail += 8 // past the last record: a half record
	_, err = OpenMPSCQueue(p, q.OID())
	damaged("queue Open", err)
	q.h.tail -= 8
	if _, err = OpenMPSCQueue(p, q.OID()); err != nil {
		t.Fatal(err)
	}
	q.h.ring = 1 << 50
	_, err = OpenMPSCQueue(p, q.OID())
	damaged("queue Open (ring)", err)
}
