package containers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

func TestStringOps(t *testing.T) {
	p, path, r := newPool(t)
	s, err := containers.OpenString(p, &r.Str)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	steps := []struct {
		name string
		do   func() error
		next func(string) string
		objs int // objects the string has after the step
	}{
		{"assign short", func() error { return s.Assign("hello") }, func(string) string { return "hello" }, 0},
		{"append inline", func() error { return s.Append(", world") }, func(w string) string { return w + ", world" }, 0},
		{"append out", func() error { return s.Append(strings.Repeat("x", 30)) }, func(w string) string { return w + strings.Repeat("x", 30) }, 1},
		{"insert", func() error { return s.Insert(5, "!!") }, func(w string) string { return w[:5] + "!!" + w[5:] }, 1},
		{"erase", func() error { return s.Erase(0, 20) }, func(w string) string { return w[20:] }, 1},
		{"shrink inline", s.ShrinkToFit, func(w string) string { return w }, 0},
		{"reserve", func() error { return s.Reserve(100) }, func(w string) string { return w }, 1},
		{"assign long", func() error { return s.Assign(strings.Repeat("ab", 300)) }, func(string) string { return strings.Repeat("ab", 300) }, 1},
		{"assign short again", func() error { return s.Assign("tiny") }, func(string) string { return "tiny" }, 0},
		{"clear", s.Clear, func(string) string { return "" }, 0},
		{"long", func() error { return s.AppendBytes([]byte(strings.Repeat("z", 40))) }, func(string) string { return strings.Repeat("z", 40) }, 1},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want = st.next(want)
		if s.String() != want || s.Len() != len(want) || !s.Equal(want) || countObjects(p) != st.objs {
			t.Fatalf("after %s: %q (len %d, %d objects), want %q (%d objects)", st.name, s.String(), s.Len(), countObjects(p), want, st.objs)
		}
	}
	if s.Compare(want+"a") != -1 || s.Compare("") != 1 || s.Compare(want) != 0 {
		t.Fatal("compare")
	}
	if err := s.Erase(3, 2); !errors.Is(err, containers.ErrOutOfRange) {
		t.Fatalf("erase: %v", err)
	}
	if err := s.Insert(41, "a"); !errors.Is(err, containers.ErrOutOfRange) {
		t.Fatalf("insert: %v", err)
	}
	p.Close()
	p = openPool(t, path)
	defer p.Close()
	if s, err = containers.OpenString(p, &root(t, p).Str); err != nil || s.String() != want {
		t.Fatalf("after reopen: %q, %v", s.String(), err)
	}
	check(t, p)
	if err := s.Free(); err != nil || countObjects(p) != 0 || s.Len() != 0 {
		t.Fatalf("free: %v, %d objects", err, countObjects(p))
	}
}

func TestStringInTxAbort(t *testing.T) {
	p, _, r := newPool(t)
	s, _ := containers.OpenString(p, &r.Str)
	if err := s.Assign("keep"); err != nil {
		t.Fatal(err)
	}
	errAbort := errors.New("abort")
	err := p.Tx(func(tx *obj.Tx) error {
		st := s.In(tx)
		if err := st.Append(strings.Repeat("q", 100)); err != nil {
			return err
		}
		if err := st.Assign("x"); err != nil {
			return err
		}
		if err := st.Append(strings.Repeat("w", 1000)); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) || s.String() != "keep" || countObjects(p) != 0 {
		t.Fatalf("%v: %q, %d objects", err, s.String(), countObjects(p))
	}
	check(t, p)
}
