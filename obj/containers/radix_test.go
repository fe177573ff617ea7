package containers_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// concRoot is the tests' root object: the containers' OIDs.
type concRoot struct {
	Tree, Map, Queue obj.OID
}

// newConcPool creates a pool and returns it with its root, closing it at
// the test's end.
func newConcPool(t testing.TB) (*obj.Pool, *concRoot, string) {
	t.Helper()
	path := pmemtest.Path(t, "pool")
	p, err := obj.Create(path, 32<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, concRootOf(t, p), path
}

func concRootOf(t testing.TB, p *obj.Pool) *concRoot {
	t.Helper()
	rp, err := obj.RootPtr[concRoot](p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rp.Get(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// reopen closes p and opens its file again.
func concReopen(t testing.TB, p *obj.Pool, path string) (*obj.Pool, *concRoot) {
	t.Helper()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := obj.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, concRootOf(t, p)
}

// makeIn creates a container with mk in a transaction that stores its
// OID in *dst.
func makeIn[C interface{ OID() obj.OID }](t testing.TB, p *obj.Pool, dst *obj.OID, mk func(tx *obj.Tx) (C, error)) C {
	t.Helper()
	var c C
	err := p.Tx(func(tx *obj.Tx) error {
		var err error
		if c, err = mk(tx); err != nil {
			return err
		}
		return obj.TxSet(tx, dst, c.OID())
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func concCheckPool(t testing.TB, p *obj.Pool) {
	t.Helper()
	for _, e := range p.Check() {
		t.Error(e)
	}
}

func TestRadixModel(t *testing.T) {
	p, root, path := newConcPool(t)
	tree := makeIn(t, p, &root.Tree, func(tx *obj.Tx) (*containers.BytesRadix, error) {
		return containers.NewBytesRadix(tx, p)
	})
	model := map[string]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() []byte {
		b := make([]byte, rng.IntN(5))
		for i := range b {
			b[i] = "ab\x00\xff"[rng.IntN(4)]
		}
		return b
	}
	// Odd steps in a transaction of the test's, even ones on their own.
	inTx := func(i int, fn func(tx *obj.Tx) error) error {
		if i%2 == 0 {
			return fn(nil)
		}
		return p.Tx(fn)
	}
	for i := range 3000 {
		k := key()
		switch rng.IntN(3) {
		case 0, 1:
			v := bytes.Repeat([]byte{byte(i)}, rng.IntN(3)*8)
			if err := inTx(i, func(tx *obj.Tx) error { return tree.Put(tx, k, v) }); err != nil {
				t.Fatal(err)
			}
			model[string(k)] = string(v)
		case 2:
			var found bool
			err := inTx(i, func(tx *obj.Tx) (err error) {
				found, err = tree.Delete(tx, k)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := model[string(k)]; ok != found {
				t.Fatalf("Delete(%q) = %v, model %v", k, found, ok)
			}
			delete(model, string(k))
		}
	}
	compareRadix(t, tree, model)
	p, root = concReopen(t, p, path)
	tree, err := containers.OpenBytesRadix(p, root.Tree)
	if err != nil {
		t.Fatal(err)
	}
	compareRadix(t, tree, model)
	concCheckPool(t, p)
}

// compareRadix checks tree against model: Check, Len, Get, All, and
// Range and Prefix on every key and a few others.
func compareRadix(t *testing.T, tree *containers.BytesRadix, model map[string]string) {
	t.Helper()
	if err := tree.Check(); err != nil {
		t.Fatal(err)
	}
	if tree.Len() != len(model) {
		t.Fatalf("Len %d, want %d", tree.Len(), len(model))
	}
	keys := make([]string, 0, len(model))
	for k := range model {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := tree.Get(nil, []byte(k))
		if err != nil || string(v) != model[k] {
			t.Fatalf("Get(%q) = %q, %v; want %q", k, v, err, model[k])
		}
	}
	if _, err := tree.Get(nil, []byte("zzz")); !errors.Is(err, containers.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v", err)
	}
	got := func(seq func(func([]byte, []byte) bool)) []string {
		var out []string
		for k, v := range seq {
			if string(v) != model[string(k)] {
				t.Fatalf("key %q yielded with %q, want %q", k, v, model[string(k)])
			}
			out = append(out, string(k))
		}
		return out
	}
	if g := got(tree.All()); !slices.Equal(g, keys) {
		t.Fatalf("All = %q, want %q", g, keys)
	}
	bounds := append(slices.Clone(keys), "", "\x00", "a\xff", "b", "\xff\xff\xff\xff\xff")
	for _, lo := range bounds {
		for _, hi := range []string{lo + "\x00", "b", "\xff"} {
			var want []string
			for _, k := range keys {
				if k >= lo && k < hi {
					want = append(want, k)
				}
			}
			if g := got(tree.Range([]byte(lo), []byte(hi))); !slices.Equal(g, want) {
				t.Fatalf("Range(%q, %q) = %q, want %q", lo, hi, g, want)
			}
		}
		var want []string
		for _, k := range keys {
			if len(k) >= len(lo) && k[:len(lo)] == lo {
				want = append(want, k)
			}
		}
		if g := got(tree.Prefix([]byte(lo))); !slices.Equal(g, want) {
			t.Fatalf("Prefix(%q) = %q, want %q", lo, g, want)
		}
	}
}

// atomicCounter hands out 0, 1, 2... to goroutines.
type atomicCounter struct{ n atomic.Uint64 }

func (c *atomicCounter) add() uint64 { return c.n.Add(1) - 1 }
