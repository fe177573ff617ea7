package containers_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

func TestSegmentVector(t *testing.T) {
	p, path, r := newPool(t)
	v, err := containers.OpenSegmentVector(p, &r.Seg)
	if err != nil {
		t.Fatal(err)
	}
	var want []uint64
	var first, ninth *uint64
	for i := range uint64(1000) {
		if err := v.PushBack(i); err != nil {
			t.Fatal(err)
		}
		want = append(want, i)
		if i == 9 {
			first, _ = v.At(0)
			ninth, _ = v.At(9)
		}
	}
	// 1000 elements: 8<<7 = 1024 in 8 segments; the early pointers hold.
	if v.Len() != 1000 || v.Cap() != 1024 || v.Segments() != 8 || *first != 0 || *ninth != 9 {
		t.Fatalf("len %d cap %d segments %d, %d %d", v.Len(), v.Cap(), v.Segments(), *first, *ninth)
	}
	if p0, _ := v.At(0); p0 != first {
		t.Fatal("element 0 moved")
	}
	steps := []step[uint64]{
		{"set", func() error { return v.Set(500, 7) }, func(s []uint64) []uint64 { s[500] = 7; return s }},
		{"update", func() error { return v.Update(9, func(x *uint64) { *x *= 100 }) }, func(s []uint64) []uint64 { s[9] *= 100; return s }},
		{"pop", func() error { _, err := v.PopBack(); return err }, func(s []uint64) []uint64 { return s[:len(s)-1] }},
		{"append", func() error {
			return v.Append(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30)
		}, func(s []uint64) []uint64 {
			for i := range uint64(30) {
				s = append(s, i+1)
			}
			return s
		}},
		{"insert", func() error { return v.Insert(5, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79) }, func(s []uint64) []uint64 {
			return slices.Insert(s, 5, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79)
		}},
		{"erase", func() error { return v.Erase(3, 30) }, func(s []uint64) []uint64 { return slices.Delete(s, 3, 30) }},
		{"resize down", func() error { return v.Resize(100) }, func(s []uint64) []uint64 { return s[:100] }},
		{"shrink", v.ShrinkToFit, func(s []uint64) []uint64 { return s }},
		{"resize up", func() error { return v.Resize(300) }, func(s []uint64) []uint64 { return append(s, make([]uint64, 200)...) }},
		{"reserve", func() error { return v.Reserve(5000) }, func(s []uint64) []uint64 { return s }},
	}
	want = runSteps(t, want, steps, v.All)
	if v.Cap() != 8192 || v.Segments() != 11 {
		t.Fatalf("cap %d segments %d after reserve", v.Cap(), v.Segments())
	}
	if got := collect(v.Range(5, 20)); !slices.Equal(got, want[5:20]) {
		t.Fatalf("range %v", got)
	}
	for _, err := range []error{v.Set(300, 1), v.Update(-1, nil), func() error { _, err := v.Get(300); return err }(),
		v.Insert(301, 1), v.Erase(5, 301), v.Erase(3, 2)} {
		if !errors.Is(err, containers.ErrOutOfRange) {
			t.Fatalf("%v, want ErrOutOfRange", err)
		}
	}
	p.Close()
	p = openPool(t, path)
	defer p.Close()
	if v, err = containers.OpenSegmentVector(p, &root(t, p).Seg); err != nil {
		t.Fatal(err)
	}
	if got := collect(v.All()); !slices.Equal(got, want) || countObjects(p) != 11 {
		t.Fatalf("after reopen: %d elements, %d objects", len(got), countObjects(p))
	}
	check(t, p)
	errAbort := errors.New("abort")
	err = p.Tx(func(tx *obj.Tx) error {
		vt := v.In(tx)
		if err := vt.Free(); err != nil {
			return err
		}
		for i := range uint64(3000) {
			if err := vt.PushBack(i); err != nil {
				return err
			}
		}
		return errAbort
	})
	if got := collect(v.All()); !errors.Is(err, errAbort) || !slices.Equal(got, want) || countObjects(p) != 11 {
		t.Fatalf("abort: %v, %d elements, %d objects", err, len(got), countObjects(p))
	}
	if err := v.Free(); err != nil || countObjects(p) != 0 || v.Len() != 0 || v.Segments() != 0 {
		t.Fatalf("free: %v, %d objects", err, countObjects(p))
	}
	if _, err := v.PopBack(); !errors.Is(err, containers.ErrOutOfRange) {
		t.Fatalf("pop of empty: %v", err)
	}
	check(t, p)
}
