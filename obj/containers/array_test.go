package containers_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

func TestArray(t *testing.T) {
	p, path, r := newPool(t)
	a, err := containers.ArrayOf(p, r.Arr[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Fill(7); err != nil {
		t.Fatal(err)
	}
	for i := range a.Len() {
		if err := a.Set(i, int32(i*i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Swap(0, 15); err != nil {
		t.Fatal(err)
	}
	if err := a.Update(1, 3, func(s []int32) { s[0], s[1] = -1, -2 }); err != nil {
		t.Fatal(err)
	}
	want := []int32{225, -1, -2, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 0}
	if got := collect(a.All()); !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
	if got := collect(a.Range(14, 99)); !slices.Equal(got, want[14:]) {
		t.Fatalf("range %v", got)
	}
	for _, err := range []error{a.Set(16, 0), a.Swap(-1, 2), a.Update(3, 2, nil), func() error { _, err := a.Get(16); return err }()} {
		if !errors.Is(err, containers.ErrOutOfRange) {
			t.Fatalf("%v, want ErrOutOfRange", err)
		}
	}

	// Only the elements changed are snapshotted: an abort restores
	// element 4 and leaves a store to element 5 that nothing logged.
	errAbort := errors.New("abort")
	err = p.Tx(func(tx *obj.Tx) error {
		if err := a.In(tx).Set(4, 1000); err != nil {
			return err
		}
		a.View()[5] = 2000
		return errAbort
	})
	if !errors.Is(err, errAbort) || r.Arr[4] != 16 || r.Arr[5] != 2000 {
		t.Fatalf("%v: %d %d", err, r.Arr[4], r.Arr[5])
	}
	if err := a.Set(5, 25); err != nil {
		t.Fatal(err)
	}

	// An array at an offset of an object of its own.
	oid, err := p.Zalloc(100, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := containers.OpenArray[uint64](p, oid, 8, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Set(3, 99); err != nil {
		t.Fatal(err)
	}
	if _, err := containers.OpenArray[uint64](p, oid, 8, 100); !errors.Is(err, containers.ErrOutOfRange) {
		t.Fatalf("array past the object: %v", err)
	}
	if _, err := containers.OpenArray[uint64](p, oid, 3, 1); !errors.Is(err, containers.ErrOutOfRange) {
		t.Fatalf("misaligned array: %v", err)
	}
	p.Close()
	p = openPool(t, path)
	defer p.Close()
	r = root(t, p)
	if !slices.Equal(r.Arr[:], want) {
		t.Fatalf("after reopen: %v", r.Arr)
	}
	if b, err = containers.OpenArray[uint64](p, oid, 8, 4); err != nil || b.View()[3] != 99 {
		t.Fatalf("object array after reopen: %v", err)
	}
	check(t, p)
}
