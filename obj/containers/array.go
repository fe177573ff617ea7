package containers

import (
	"fmt"
	"iter"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// Array is a fixed-length array of Ts inside a persistent object
// (libpmemobj-cpp's pmem::obj::array): a handle whose changes snapshot
// only the elements they change, in one transaction (the handle's own or
// the caller's, [Array.In]). The elements are the caller's: a [N]T field
// of a persistent struct ([ArrayOf]) or a run of Ts in an object
// ([OpenArray]). Not safe for concurrent use.
type Array[T any] struct {
	s []T
	r txRunner
}

// ArrayOf returns a handle on elems, which must lie in p: a [N]T field of
// a persistent struct (ArrayOf(p, r.Items[:])), say. A slice outside the
// pool is refused at its first change (obj.ErrRange).
func ArrayOf[T any](p *obj.Pool, elems []T) (*Array[T], error) {
	if err := obj.PointerFree[T](); err != nil {
		return nil, err
	}
	return &Array[T]{s: elems, r: txRunner{p: p}}, nil
}

// OpenArray returns a handle on the n Ts at byte off of the object oid.
func OpenArray[T any](p *obj.Pool, oid obj.OID, off, n int) (*Array[T], error) {
	if err := obj.PointerFree[T](); err != nil {
		return nil, err
	}
	b := p.Bytes(oid)
	if b == nil {
		return nil, fmt.Errorf("%w: %v", obj.ErrInvalidOID, oid)
	}
	var zero T
	if off < 0 || n < 0 || off > len(b) || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%unsafe.Alignof(zero) != 0 || uintptr(off)%unsafe.Alignof(zero) != 0 {
		return nil, fmt.Errorf("%w: %d elements at %d of a %d-byte object", ErrOutOfRange, n, off, len(b))
	}
	s, ok := slab[T](b[off:], uint64(n))
	if !ok {
		return nil, fmt.Errorf("%w: %d elements at %d of a %d-byte object", ErrOutOfRange, n, off, len(b))
	}
	return &Array[T]{s: s, r: txRunner{p: p}}, nil
}

// In returns the array bound to tx (as [Vector.In]).
func (a *Array[T]) In(tx *obj.Tx) *Array[T] {
	return &Array[T]{s: a.s, r: txRunner{p: a.r.p, tx: tx}}
}

// Len returns the number of elements.
func (a *Array[T]) Len() int { return len(a.s) }

// Get returns element i.
func (a *Array[T]) Get(i int) (T, error) {
	if i < 0 || i >= len(a.s) {
		var zero T
		return zero, outOfRange("index", uint64(i), uint64(len(a.s)))
	}
	return a.s[i], nil
}

// View returns the elements in the pool's memory, for reading: a store
// through it is neither logged nor persisted (use Set or Update).
func (a *Array[T]) View() []T { return a.s }

// All returns an iterator over the indexes and elements.
func (a *Array[T]) All() iter.Seq2[int, T] { return a.Range(0, len(a.s)) }

// Range returns an iterator over elements [lo, hi), clamped to the
// length.
func (a *Array[T]) Range(lo, hi int) iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		lo, hi := clampRange(lo, hi, len(a.s))
		for i := lo; i < hi; i++ {
			if !yield(i, a.s[i]) {
				return
			}
		}
	}
}

// Set stores x in element i, snapshotting that element only.
func (a *Array[T]) Set(i int, x T) error {
	return a.Update(i, i+1, func(s []T) { s[0] = x })
}

// Update snapshots elements [lo, hi) and calls fn on them: what fn
// stores commits with the transaction or is undone.
func (a *Array[T]) Update(lo, hi int, fn func([]T)) error {
	if err := span(lo, hi, len(a.s)); err != nil {
		return err
	}
	return a.r.run(func(tx *obj.Tx) error {
		s := a.s[lo:hi]
		if err := snapshot(tx, s, false); err != nil {
			return err
		}
		fn(s)
		return nil
	})
}

// Fill stores x in every element.
func (a *Array[T]) Fill(x T) error {
	return a.Update(0, len(a.s), func(s []T) {
		for i := range s {
			s[i] = x
		}
	})
}

// Swap exchanges elements i and j, snapshotting those two only.
func (a *Array[T]) Swap(i, j int) error {
	if err := span(i, i+1, len(a.s)); err != nil {
		return err
	}
	if err := span(j, j+1, len(a.s)); err != nil {
		return err
	}
	return a.r.run(func(tx *obj.Tx) error {
		if err := snapshot(tx, a.s[i:i+1], false); err != nil {
			return err
		}
		if err := snapshot(tx, a.s[j:j+1], false); err != nil {
			return err
		}
		a.s[i], a.s[j] = a.s[j], a.s[i]
		return nil
	})
}
