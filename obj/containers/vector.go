package containers

import (
	"iter"

	"github.com/gopmdk/pmdk/obj"
)

// Vector is a persistent growable array of Ts (libpmemobj-cpp's
// pmem::obj::vector): its elements live in one object of the pool, which
// is reallocated, inside a transaction, when it must grow. The vector
// itself is its [VectorHead], which the caller keeps in the pool; a
// Vector is a handle on it, made again by [OpenVector] after a restart.
//
// Every change is one transaction: the handle's own, or the caller's when
// the handle is bound to it with [Vector.In]. A Vector is not safe for
// concurrent use; readers need the writers excluded (an [obj.RWMutex] in
// the pool, say).
type Vector[T any] struct {
	c *vcore[T]
	r txRunner
}

// OpenVector returns a handle on the vector h, which must lie in p (an
// object of its own or a field of one). T must be pointer-free
// ([obj.PointerFree]); the head must be one the vector's calls left.
func OpenVector[T any](p *obj.Pool, h *VectorHead[T]) (*Vector[T], error) {
	if err := obj.PointerFree[T](); err != nil {
		return nil, err
	}
	c := &vcore[T]{p: p, h: h, typeNum: TypeVectorData}
	if _, err := c.elems(nil); err != nil {
		return nil, err
	}
	return &Vector[T]{c: c, r: txRunner{p: p}}, nil
}

// In returns the vector bound to tx: its changes are made in tx, and
// commit or abort with it (a handle used after tx ended fails with
// obj.ErrTxStage). An error of a change (ErrOutOfRange, a failed
// allocation) leaves the vector as it was; whether tx goes on is the
// caller's choice, unless obj aborted it (a failed allocation does).
func (v *Vector[T]) In(tx *obj.Tx) *Vector[T] {
	return &Vector[T]{c: v.c, r: txRunner{p: v.r.p, tx: tx}}
}

// Head returns the vector's persistent part.
func (v *Vector[T]) Head() *VectorHead[T] { return v.c.h }

// Len returns the number of elements.
func (v *Vector[T]) Len() int { return int(v.c.h.n) }

// Cap returns the number of elements the vector holds without growing.
func (v *Vector[T]) Cap() int { return int(v.c.h.cap) }

// Get returns element i (at(i) in C++).
func (v *Vector[T]) Get(i int) (T, error) {
	c := v.c
	if h := c.h; uint64(i) < h.n && h.data == c.cOID && h.cap == c.cCap && uint64(i) < uint64(len(c.cs)) {
		return c.cs[i], nil // the elements as last looked up
	}
	return v.get(i)
}

func (v *Vector[T]) get(i int) (T, error) {
	var zero T
	if i < 0 || uint64(i) >= v.c.h.n {
		return zero, outOfRange("index", uint64(i), v.c.h.n)
	}
	s, err := v.c.elems(v.r.tx)
	if err != nil {
		return zero, err
	}
	return s[i], nil
}

// View returns the elements as a slice of the pool's memory, valid until
// the next change of the vector. It is for reading: a store through it is
// neither logged nor persisted (use Set or Update).
func (v *Vector[T]) View() ([]T, error) {
	s, err := v.c.elems(v.r.tx)
	if err != nil {
		return nil, err
	}
	return s[:v.c.h.n], nil
}

// All returns an iterator over the indexes and elements. The vector may
// change while it runs: each step reads the element at its index then.
func (v *Vector[T]) All() iter.Seq2[int, T] { return v.Range(0, v.Len()) }

// Range returns an iterator over elements [lo, hi), clamped to the
// length.
func (v *Vector[T]) Range(lo, hi int) iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		lo, hi := clampRange(lo, hi, v.Len())
		for i := lo; i < hi; i++ {
			x, err := v.Get(i)
			if err != nil || !yield(i, x) {
				return
			}
		}
	}
}

// Set stores x in element i, snapshotting that element only.
func (v *Vector[T]) Set(i int, x T) error {
	return v.Update(i, i+1, func(s []T) { s[0] = x })
}

// Update snapshots elements [lo, hi) and calls fn on them: what fn
// stores commits with the transaction or is undone.
func (v *Vector[T]) Update(lo, hi int, fn func([]T)) error {
	if err := span(lo, hi, v.Len()); err != nil {
		return err
	}
	return v.r.run(func(tx *obj.Tx) error {
		s, err := v.c.touch(tx, uint64(lo), uint64(hi))
		if err != nil {
			return err
		}
		fn(s)
		return nil
	})
}

// PushBack appends x, growing the vector (to the next power of two of
// elements) when it is full.
func (v *Vector[T]) PushBack(x T) error {
	return v.r.run(func(tx *obj.Tx) error {
		n := v.c.h.n
		if err := v.c.ensure(tx, n+1); err != nil {
			return err
		}
		s, err := v.c.touch(tx, n, n+1)
		if err != nil {
			return err
		}
		s[0] = x
		return v.c.setLen(tx, n+1)
	})
}

// Append appends xs (which must not be the vector's own memory) at once.
func (v *Vector[T]) Append(xs ...T) error {
	return v.r.run(func(tx *obj.Tx) error { return insertElems(v.c, tx, v.c.h.n, xs) })
}

// PopBack removes the last element and returns it; ErrOutOfRange if the
// vector is empty. The capacity stays.
func (v *Vector[T]) PopBack() (T, error) {
	var x T
	n := v.c.h.n
	if n == 0 {
		return x, outOfRange("pop of length", 0, 0)
	}
	x, err := v.Get(int(n - 1))
	if err != nil {
		return x, err
	}
	return x, v.r.run(func(tx *obj.Tx) error { return v.c.setLen(tx, n-1) })
}

// Insert inserts xs before element i (i may be the length), moving the
// elements after it.
func (v *Vector[T]) Insert(i int, xs ...T) error {
	if i < 0 {
		return outOfRange("insert at", uint64(i), v.c.h.n)
	}
	return v.r.run(func(tx *obj.Tx) error { return insertElems(v.c, tx, uint64(i), xs) })
}

// Erase removes elements [lo, hi), moving the elements after them.
func (v *Vector[T]) Erase(lo, hi int) error {
	if err := span(lo, hi, v.Len()); err != nil {
		return err
	}
	return v.r.run(func(tx *obj.Tx) error { return eraseElems(v.c, tx, uint64(lo), uint64(hi)) })
}

// Assign replaces the elements with xs (which must not be the vector's
// own memory).
func (v *Vector[T]) Assign(xs []T) error {
	return v.r.run(func(tx *obj.Tx) error { return assignElems(v.c, tx, xs) })
}

// Resize sets the length to n: elements past n are dropped, new ones are
// zero.
func (v *Vector[T]) Resize(n int) error {
	if n < 0 {
		return outOfRange("resize to", uint64(n), v.c.h.n)
	}
	return v.r.run(func(tx *obj.Tx) error { return resizeElems(v.c, tx, uint64(n)) })
}

// Reserve makes the capacity at least n, reallocating to exactly n
// elements if it is less.
func (v *Vector[T]) Reserve(n int) error {
	if n < 0 {
		return outOfRange("reserve", uint64(n), v.c.h.n)
	}
	if uint64(n) <= v.c.h.cap {
		return nil
	}
	return v.r.run(func(tx *obj.Tx) error { return v.c.realloc(tx, uint64(n)) })
}

// ShrinkToFit reallocates the elements to an object of the length's size
// (none for an empty vector).
func (v *Vector[T]) ShrinkToFit() error {
	if v.c.h.cap == v.c.h.n {
		return nil
	}
	return v.r.run(func(tx *obj.Tx) error { return v.c.realloc(tx, v.c.h.n) })
}

// Clear sets the length to 0, keeping the capacity.
func (v *Vector[T]) Clear() error {
	if v.c.h.n == 0 {
		return nil
	}
	return v.r.run(func(tx *obj.Tx) error { return v.c.setLen(tx, 0) })
}

// Free empties the vector and frees its elements' object: what the
// caller does before freeing the object that holds the head.
func (v *Vector[T]) Free() error {
	if v.c.h.data.IsNull() {
		return nil
	}
	return v.r.run(func(tx *obj.Tx) error { return v.c.realloc(tx, 0) })
}
