package containers_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

func newConcHashMap(t testing.TB, p *obj.Pool, root *concRoot) *containers.BytesHashMap {
	t.Helper()
	return makeIn(t, p, &root.Map, func(tx *obj.Tx) (*containers.BytesHashMap, error) {
		return containers.NewBytesHashMap(tx, p)
	})
}

// TestHashMapConcurrent has goroutines insert, replace (with values of
// other sizes) and delete disjoint key sets through several splits, then
// checks the result, reopens and checks again.
func TestHashMapConcurrent(t *testing.T) {
	p, root, path := newConcPool(t)
	m := newConcHashMap(t, p, root)
	const workers = 4
	per := 1500 // several growths
	if testing.Short() {
		per = 300
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				k := fmt.Appendf(nil, "w%d-%d", w, i)
				if err := m.Put(k, k); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					if err := m.Put(k, append(k, "-longer"...)); err != nil {
						t.Error(err)
						return
					}
				}
				if i%5 == 0 {
					if found, err := m.Delete(k); err != nil || !found {
						t.Errorf("Delete(%s) = %v, %v", k, found, err)
						return
					}
				}
				if _, err := m.Get(nil, k); (i%5 == 0) != errors.Is(err, containers.ErrNotFound) {
					t.Errorf("Get(%s) after its changes: %v", k, err)
					return
				}
			}
		})
	}
	// A reader meanwhile.
	wg.Go(func() {
		for range 20 {
			for k, v := range m.All() {
				if len(k) == 0 || len(v) < len(k) {
					t.Errorf("All yielded %q: %q", k, v)
					return
				}
			}
		}
	})
	wg.Wait()
	verify := func(m *containers.BytesHashMap) {
		t.Helper()
		if err := m.Check(); err != nil {
			t.Fatal(err)
		}
		want := workers * (per - per/5)
		if m.Len() != want {
			t.Fatalf("Len %d, want %d", m.Len(), want)
		}
		n := 0
		for k, v := range m.All() {
			var w, i int
			if _, err := fmt.Sscanf(string(k), "w%d-%d", &w, &i); err != nil {
				t.Fatal(err)
			}
			want := string(k)
			if i%3 == 0 {
				want += "-longer"
			}
			if string(v) != want || i%5 == 0 {
				t.Fatalf("%q: %q", k, v)
			}
			n++
		}
		if n != m.Len() {
			t.Fatalf("All yielded %d, Len %d", n, m.Len())
		}
	}
	verify(m)
	p, root = concReopen(t, p, path)
	m, err := containers.OpenBytesHashMap(p, root.Map)
	if err != nil {
		t.Fatal(err)
	}
	verify(m)
	concCheckPool(t, p)
	if err := p.Tx(func(tx *obj.Tx) error {
		if err := m.Destroy(tx); err != nil {
			return err
		}
		return obj.TxSet(tx, &root.Map, obj.OID{})
	}); err != nil {
		t.Fatal(err)
	}
	for oid := range p.Objects() {
		t.Fatalf("object %v left after Destroy", oid)
	}
}

func TestHashMapTyped(t *testing.T) {
	p, root, _ := newConcPool(t)
	type key struct{ A, B uint32 }
	m := makeIn(t, p, &root.Map, func(tx *obj.Tx) (*containers.ConcurrentHashMap[key, [3]uint64], error) {
		return containers.NewConcurrentHashMap[key, [3]uint64](tx, p)
	})
	for i := range uint32(3000) {
		if ok, err := m.Insert(key{i, ^i}, [3]uint64{uint64(i)}); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	if ok, err := m.Insert(key{7, ^uint32(7)}, [3]uint64{}); err != nil || ok {
		t.Fatalf("Insert of a present key: %v, %v", ok, err)
	}
	for i := range uint32(3000) {
		v, err := m.Get(key{i, ^i})
		if err != nil || v[0] != uint64(i) {
			t.Fatalf("Get(%d) = %v, %v", i, v, err)
		}
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := containers.OpenConcurrentHashMap[key, uint64](p, root.Map); !errors.Is(err, containers.ErrWrongKind) {
		t.Fatalf("Open with another value type: %v", err)
	}
	if _, err := containers.OpenBytesRadix(p, root.Map); !errors.Is(err, containers.ErrWrongKind) {
		t.Fatalf("Open as a tree: %v", err)
	}
	err := p.Tx(func(tx *obj.Tx) error {
		_, err := containers.NewConcurrentHashMap[*int, int](tx, p)
		return err
	})
	if !errors.Is(err, obj.ErrNotPointerFree) {
		t.Fatalf("a pointer key type: %v", err)
	}
	_ = binary.LittleEndian
}
