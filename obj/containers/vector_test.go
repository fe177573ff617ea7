package containers_test

import (
	"errors"
	"iter"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// seqRoot is the root object of the tests: one head of each container.
type seqRoot struct {
	Vec  containers.VectorHead[uint64]
	Str  containers.StringHead
	Arr  [16]int32
	Seg  containers.SegmentVectorHead[uint64]
	Pair containers.VectorHead[pair]
}

type pair struct {
	A uint32
	B [3]byte
}

const poolSize = 16 << 20

func openPool(t testing.TB, path string) *obj.Pool {
	t.Helper()
	p, err := obj.Open(path, &obj.Options{Layout: "containers"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newPool creates a pool and returns it with its path and root.
func newPool(t testing.TB) (*obj.Pool, string, *seqRoot) {
	t.Helper()
	path := pmemtest.Path(t, "pool")
	p, err := obj.Create(path, poolSize, 0o600, &obj.Options{Layout: "containers"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, path, root(t, p)
}

func root(t testing.TB, p *obj.Pool) *seqRoot {
	t.Helper()
	rp, err := obj.RootPtr[seqRoot](p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rp.Get(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func check(t testing.TB, p *obj.Pool) {
	t.Helper()
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
}

func countObjects(p *obj.Pool) int {
	n := 0
	for range p.Objects() {
		n++
	}
	return n
}

func vectorOf[T any](t testing.TB, p *obj.Pool, h *containers.VectorHead[T]) *containers.Vector[T] {
	t.Helper()
	v, err := containers.OpenVector(p, h)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func collect[T any](seq func(func(int, T) bool)) []T {
	var out []T
	for _, x := range seq {
		out = append(out, x)
	}
	return out
}

// step is one change of a container test and what it does to the model.
type step[T any] struct {
	name string
	do   func() error
	next func([]T) []T
}

// runSteps makes the changes, checking the container's elements (all)
// against the model after each; it returns the model.
func runSteps[T comparable](t *testing.T, want []T, steps []step[T], all func() iter.Seq2[int, T]) []T {
	t.Helper()
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want = st.next(want)
		if got := collect(all()); !slices.Equal(got, want) {
			t.Fatalf("after %s: %v, want %v", st.name, got, want)
		}
	}
	return want
}

func TestVectorOps(t *testing.T) {
	p, path, r := newPool(t)
	v := vectorOf(t, p, &r.Vec)
	var want []uint64
	for i := range uint64(100) {
		if err := v.PushBack(i * 3); err != nil {
			t.Fatal(err)
		}
		want = append(want, i*3)
	}
	if v.Len() != 100 || v.Cap() != 128 {
		t.Fatalf("len %d cap %d", v.Len(), v.Cap())
	}
	steps := []step[uint64]{
		{"insert", func() error { return v.Insert(10, 7, 8, 9) }, func(s []uint64) []uint64 { return slices.Insert(s, 10, 7, 8, 9) }},
		{"insert end", func() error { return v.Insert(v.Len(), 1) }, func(s []uint64) []uint64 { return append(s, 1) }},
		{"erase", func() error { return v.Erase(5, 20) }, func(s []uint64) []uint64 { return slices.Delete(s, 5, 20) }},
		{"set", func() error { return v.Set(3, 42) }, func(s []uint64) []uint64 { s[3] = 42; return s }},
		{"pop", func() error { _, err := v.PopBack(); return err }, func(s []uint64) []uint64 { return s[:len(s)-1] }},
		{"resize up", func() error { return v.Resize(200) }, func(s []uint64) []uint64 { return append(s, make([]uint64, 200-len(s))...) }},
		{"resize down", func() error { return v.Resize(50) }, func(s []uint64) []uint64 { return s[:50] }},
		{"shrink", v.ShrinkToFit, func(s []uint64) []uint64 { return s }},
		{"append", func() error { return v.Append(5, 6) }, func(s []uint64) []uint64 { return append(s, 5, 6) }},
		{"update", func() error {
			return v.Update(0, 2, func(s []uint64) { s[0], s[1] = s[1], s[0] })
		}, func(s []uint64) []uint64 { s[0], s[1] = s[1], s[0]; return s }},
		{"assign", func() error { return v.Assign([]uint64{9, 8, 7}) }, func([]uint64) []uint64 { return []uint64{9, 8, 7} }},
		{"reserve", func() error { return v.Reserve(1000) }, func(s []uint64) []uint64 { return s }},
	}
	want = runSteps(t, want, steps, v.All)
	if v.Cap() != 1000 {
		t.Fatalf("cap %d after reserve", v.Cap())
	}
	if got := collect(v.Range(1, 99)); !slices.Equal(got, want[1:]) {
		t.Fatalf("range: %v", got)
	}
	// Errors leave the vector alone.
	for _, err := range []error{
		func() error { _, err := v.Get(3); return err }(),
		v.Set(-1, 0), v.Insert(4, 1), v.Erase(2, 1), v.Erase(0, 4),
	} {
		if !errors.Is(err, containers.ErrOutOfRange) {
			t.Fatalf("err %v, want ErrOutOfRange", err)
		}
	}
	p.Close()
	p = openPool(t, path)
	defer p.Close()
	v = vectorOf(t, p, &root(t, p).Vec)
	if got := collect(v.All()); !slices.Equal(got, want) || v.Cap() != 1000 {
		t.Fatalf("after reopen: %v cap %d, want %v", got, v.Cap(), want)
	}
	check(t, p)
	if n := countObjects(p); n != 1 {
		t.Fatalf("%d objects, want 1", n)
	}
	if err := v.Free(); err != nil {
		t.Fatal(err)
	}
	if n := countObjects(p); n != 0 || v.Len() != 0 || v.Cap() != 0 {
		t.Fatalf("%d objects, len %d cap %d after Free", n, v.Len(), v.Cap())
	}
	for range 3 {
		if _, err := v.PopBack(); !errors.Is(err, containers.ErrOutOfRange) {
			t.Fatalf("pop of empty: %v", err)
		}
	}
}

// In a caller's transaction: many pushes (several reallocations) commit
// at once, or abort leaving nothing.
func TestVectorInTx(t *testing.T) {
	p, _, r := newPool(t)
	v := vectorOf(t, p, &r.Pair)
	errAbort := errors.New("abort")
	err := p.Tx(func(tx *obj.Tx) error {
		vt := v.In(tx)
		for i := range 40 {
			if err := vt.PushBack(pair{A: uint32(i)}); err != nil {
				return err
			}
		}
		if err := vt.Erase(0, 10); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) || v.Len() != 0 || v.Cap() != 0 || countObjects(p) != 0 {
		t.Fatalf("abort: %v, len %d cap %d, %d objects", err, v.Len(), v.Cap(), countObjects(p))
	}
	err = p.Tx(func(tx *obj.Tx) error {
		vt := v.In(tx)
		for i := range 40 {
			if err := vt.PushBack(pair{A: uint32(i)}); err != nil {
				return err
			}
		}
		if _, err := vt.Get(40); !errors.Is(err, containers.ErrOutOfRange) {
			t.Errorf("get past the end in tx: %v", err)
		}
		return vt.Erase(0, 10)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(v.All())
	if len(got) != 30 || got[0].A != 10 || got[29].A != 39 || countObjects(p) != 1 {
		t.Fatalf("commit: %v, %d objects", got, countObjects(p))
	}
	check(t, p)
}

func TestPointerFree(t *testing.T) {
	p, _, _ := newPool(t)
	var h containers.VectorHead[*int]
	if _, err := containers.OpenVector(p, &h); !errors.Is(err, obj.ErrNotPointerFree) {
		t.Fatalf("vector of pointers: %v", err)
	}
}
