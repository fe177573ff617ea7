package containers

import (
	"fmt"
	"iter"
	"math/bits"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// The segment policy of a SegmentVector (libpmemobj-cpp's exponential
// segments): segment 0 holds segFirst elements, segment k > 0 holds
// segFirst<<(k-1), so k+1 segments hold segFirst<<k elements and the
// segment of an index is a bit length.
const (
	segFirst     = 8
	segFirstLog  = 3
	SegmentCount = 40 // segments a SegmentVector may have: up to 8<<39 elements
)

// segSize returns the elements of segment k.
func segSize(k int) uint64 {
	if k == 0 {
		return segFirst
	}
	return segFirst << (k - 1)
}

// segCap returns the elements of the first nseg segments.
func segCap(nseg uint64) uint64 {
	if nseg == 0 {
		return 0
	}
	return segFirst << (nseg - 1)
}

// segOf returns the segment of element i and its index in it.
func segOf(i uint64) (int, uint64) {
	if i < segFirst {
		return 0, i
	}
	k := bits.Len64(i >> segFirstLog)
	return k, i - segCap(uint64(k))
}

// SegmentVectorHead is the persistent part of a [SegmentVector]: the
// length, the number of segments and their objects (656 bytes),
// pointer-free, to embed in a persistent struct or allocate as an object
// of its own. Its zero value is an empty vector. Change it only through a
// SegmentVector.
type SegmentVectorHead[T any] struct {
	n    uint64
	nseg uint64
	segs [SegmentCount]obj.OID
}

// SegmentVector is a persistent growable array of Ts whose elements never
// move (libpmemobj-cpp's pmem::obj::segment_vector with exponential
// segments): it grows by adding a segment, each twice the one before, so
// a pointer to an element ([SegmentVector.At]) stays valid as it grows,
// until the element's segment is freed (ShrinkToFit, Free). Every change
// is one transaction, the handle's own or the caller's
// ([SegmentVector.In]). Not safe for concurrent use.
type SegmentVector[T any] struct {
	c *segCore[T]
	r txRunner
}

// segCore is a SegmentVector's head and the segments as last looked up.
type segCore[T any] struct {
	p     *obj.Pool
	h     *SegmentVectorHead[T]
	cache [SegmentCount]struct {
		oid obj.OID
		s   []T
	}
}

// OpenSegmentVector returns a handle on the vector h, which must lie in
// p. T must be pointer-free.
func OpenSegmentVector[T any](p *obj.Pool, h *SegmentVectorHead[T]) (*SegmentVector[T], error) {
	if err := obj.PointerFree[T](); err != nil {
		return nil, err
	}
	c := &segCore[T]{p: p, h: h}
	if h.nseg > SegmentCount || h.n > segCap(h.nseg) {
		return nil, corrupt("segment vector of length %d in %d segments", h.n, h.nseg)
	}
	for k := range SegmentCount {
		if h.segs[k].IsNull() != (uint64(k) >= h.nseg) {
			return nil, corrupt("segment %d of %d: %v", k, h.nseg, h.segs[k])
		}
		if uint64(k) < h.nseg {
			if _, err := c.seg(nil, k); err != nil {
				return nil, err
			}
		}
	}
	return &SegmentVector[T]{c: c, r: txRunner{p: p}}, nil
}

// seg returns segment k, which must be below nseg.
func (c *segCore[T]) seg(tx *obj.Tx, k int) ([]T, error) {
	oid := c.h.segs[k]
	e := &c.cache[k]
	if e.oid == oid && e.s != nil {
		return e.s, nil
	}
	b := bytesOf(c.p, tx, oid)
	if b == nil {
		return nil, corrupt("segment %d at %v: not an object", k, oid)
	}
	s, ok := slab[T](b, segSize(k))
	if !ok {
		return nil, corrupt("segment %d: %d elements in a %d-byte object", k, segSize(k), len(b))
	}
	e.oid, e.s = oid, s
	return s, nil
}

// ptr returns element i, which must be below the capacity.
func (c *segCore[T]) ptr(tx *obj.Tx, i uint64) (*T, error) {
	k, off := segOf(i)
	s, err := c.seg(tx, k)
	if err != nil {
		return nil, err
	}
	return &s[off], nil
}

// reserve adds segments until they hold n elements.
func (c *segCore[T]) reserve(tx *obj.Tx, n uint64) error {
	for segCap(c.h.nseg) < n {
		k := c.h.nseg
		if k == SegmentCount {
			return fmt.Errorf("%w: %d elements", ErrLength, n)
		}
		oid, s, err := allocElems[T](tx, segSize(int(k)), TypeSegmentData)
		if err != nil {
			return err
		}
		if err := obj.TxSet(tx, &c.h.segs[k], oid); err != nil {
			return err
		}
		if err := obj.TxSet(tx, &c.h.nseg, k+1); err != nil {
			return err
		}
		c.cache[k].oid, c.cache[k].s = oid, s
	}
	return nil
}

// spans calls fn on the runs of elements [lo, hi) (below the capacity),
// one per segment, registered in tx: snapshotted below the length, only
// flushed at commit past it.
func (c *segCore[T]) spans(tx *obj.Tx, lo, hi uint64, fn func(first uint64, s []T)) error {
	for lo < hi {
		k, off := segOf(lo)
		s, err := c.seg(tx, k)
		if err != nil {
			return err
		}
		s = s[off:min(uint64(len(s)), off+hi-lo)]
		mid := min(max(c.h.n, lo), lo+uint64(len(s))) - lo
		if err := snapshot(tx, s[:mid], false); err != nil {
			return err
		}
		if err := snapshot(tx, s[mid:], true); err != nil {
			return err
		}
		fn(lo, s)
		lo += uint64(len(s))
	}
	return nil
}

// shrink frees the segments past those that hold n elements.
func (c *segCore[T]) shrink(tx *obj.Tx, n uint64) error {
	keep := uint64(0)
	if n > 0 {
		k, _ := segOf(n - 1)
		keep = uint64(k) + 1
	}
	for k := c.h.nseg; k > keep; k-- {
		if err := tx.Free(c.h.segs[k-1]); err != nil {
			return err
		}
		if err := obj.TxSet(tx, &c.h.segs[k-1], obj.OID{}); err != nil {
			return err
		}
	}
	if keep == c.h.nseg {
		return nil
	}
	return obj.TxSet(tx, &c.h.nseg, keep)
}

// In returns the vector bound to tx (as [Vector.In]).
func (v *SegmentVector[T]) In(tx *obj.Tx) *SegmentVector[T] {
	return &SegmentVector[T]{c: v.c, r: txRunner{p: v.r.p, tx: tx}}
}

// Head returns the vector's persistent part.
func (v *SegmentVector[T]) Head() *SegmentVectorHead[T] { return v.c.h }

// Len returns the number of elements.
func (v *SegmentVector[T]) Len() int { return int(v.c.h.n) }

// Cap returns the elements the segments hold.
func (v *SegmentVector[T]) Cap() int { return int(segCap(v.c.h.nseg)) }

// Segments returns the number of segments.
func (v *SegmentVector[T]) Segments() int { return int(v.c.h.nseg) }

// At returns a pointer to element i in the pool's memory. It stays valid
// while the vector grows, until the element's segment is freed. Stores
// through it must be snapshotted first (obj.TxAdd) or be persisted.
func (v *SegmentVector[T]) At(i int) (*T, error) {
	if i < 0 || uint64(i) >= v.c.h.n {
		return nil, outOfRange("index", uint64(i), v.c.h.n)
	}
	return v.c.ptr(v.r.tx, uint64(i))
}

// Get returns element i.
func (v *SegmentVector[T]) Get(i int) (T, error) {
	x, err := v.At(i)
	if err != nil {
		var zero T
		return zero, err
	}
	return *x, nil
}

// All returns an iterator over the indexes and elements.
func (v *SegmentVector[T]) All() iter.Seq2[int, T] { return v.Range(0, v.Len()) }

// Range returns an iterator over elements [lo, hi), clamped to the
// length.
func (v *SegmentVector[T]) Range(lo, hi int) iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		lo, hi := clampRange(lo, hi, v.Len())
		for i := lo; i < hi; {
			k, off := segOf(uint64(i))
			s, err := v.c.seg(v.r.tx, k)
			if err != nil {
				return
			}
			for _, x := range s[off:min(uint64(len(s)), off+uint64(hi-i))] {
				if i >= v.Len() || !yield(i, x) {
					return
				}
				i++
			}
		}
	}
}

// Set stores x in element i, snapshotting that element only.
func (v *SegmentVector[T]) Set(i int, x T) error {
	return v.Update(i, func(e *T) { *e = x })
}

// Update snapshots element i and calls fn on it.
func (v *SegmentVector[T]) Update(i int, fn func(*T)) error {
	e, err := v.At(i)
	if err != nil {
		return err
	}
	return v.r.run(func(tx *obj.Tx) error { return obj.TxUpdate(tx, e, fn) })
}

// PushBack appends x, adding a segment when the vector is full.
func (v *SegmentVector[T]) PushBack(x T) error {
	return v.r.run(func(tx *obj.Tx) error {
		n := v.c.h.n
		if err := v.c.reserve(tx, n+1); err != nil {
			return err
		}
		e, err := v.c.ptr(tx, n)
		if err != nil {
			return err
		}
		if err := snapshot(tx, unsafe.Slice(e, 1), true); err != nil {
			return err
		}
		*e = x
		return obj.TxSet(tx, &v.c.h.n, n+1)
	})
}

// Append appends xs at once.
func (v *SegmentVector[T]) Append(xs ...T) error {
	return v.r.run(func(tx *obj.Tx) error {
		n := v.c.h.n
		if err := v.c.reserve(tx, n+uint64(len(xs))); err != nil {
			return err
		}
		err := v.c.spans(tx, n, n+uint64(len(xs)), func(first uint64, s []T) { copy(s, xs[first-n:]) })
		if err != nil {
			return err
		}
		return obj.TxSet(tx, &v.c.h.n, n+uint64(len(xs)))
	})
}

// PopBack removes the last element and returns it; ErrOutOfRange if the
// vector is empty. The segments stay.
func (v *SegmentVector[T]) PopBack() (T, error) {
	n := v.c.h.n
	x, err := v.Get(int(n) - 1)
	if err != nil {
		return x, err
	}
	return x, v.r.run(func(tx *obj.Tx) error { return obj.TxSet(tx, &v.c.h.n, n-1) })
}

// Resize sets the length to n: elements past n are dropped, new ones are
// zero.
func (v *SegmentVector[T]) Resize(n int) error {
	if n < 0 {
		return outOfRange("resize to", uint64(n), v.c.h.n)
	}
	return v.r.run(func(tx *obj.Tx) error {
		old, m := v.c.h.n, uint64(n)
		if m > old {
			if err := v.c.reserve(tx, m); err != nil {
				return err
			}
			if err := v.c.spans(tx, old, m, func(_ uint64, s []T) { clear(s) }); err != nil {
				return err
			}
		}
		if m == old {
			return nil
		}
		return obj.TxSet(tx, &v.c.h.n, m)
	})
}

// Reserve adds segments until they hold n elements.
func (v *SegmentVector[T]) Reserve(n int) error {
	if n < 0 {
		return outOfRange("reserve", uint64(n), v.c.h.n)
	}
	if uint64(n) <= segCap(v.c.h.nseg) {
		return nil
	}
	return v.r.run(func(tx *obj.Tx) error { return v.c.reserve(tx, uint64(n)) })
}

// ShrinkToFit frees the segments past those the elements need.
func (v *SegmentVector[T]) ShrinkToFit() error {
	return v.r.run(func(tx *obj.Tx) error { return v.c.shrink(tx, v.c.h.n) })
}

// Clear sets the length to 0, keeping the segments.
func (v *SegmentVector[T]) Clear() error {
	if v.c.h.n == 0 {
		return nil
	}
	return v.r.run(func(tx *obj.Tx) error { return obj.TxSet(tx, &v.c.h.n, 0) })
}

// Free empties the vector and frees every segment.
func (v *SegmentVector[T]) Free() error {
	return v.r.run(func(tx *obj.Tx) error {
		if v.c.h.n != 0 {
			if err := obj.TxSet(tx, &v.c.h.n, 0); err != nil {
				return err
			}
		}
		return v.c.shrink(tx, 0)
	})
}

// Insert inserts xs before element i (i may be the length), moving the
// elements after it one by one (they stay in their segments' places:
// pointers to them name other elements after the move).
func (v *SegmentVector[T]) Insert(i int, xs ...T) error {
	n, k := v.c.h.n, uint64(len(xs))
	if i < 0 || uint64(i) > n {
		return outOfRange("insert at", uint64(i), n)
	}
	if k == 0 {
		return nil
	}
	return v.r.run(func(tx *obj.Tx) error {
		if err := v.c.reserve(tx, n+k); err != nil {
			return err
		}
		if err := v.c.spans(tx, uint64(i), n+k, func(uint64, []T) {}); err != nil {
			return err
		}
		for j := n; j > uint64(i); j-- {
			if err := v.c.move(tx, j-1+k, j-1); err != nil {
				return err
			}
		}
		if err := v.c.spans(tx, uint64(i), uint64(i)+k, func(first uint64, s []T) { copy(s, xs[first-uint64(i):]) }); err != nil {
			return err
		}
		return obj.TxSet(tx, &v.c.h.n, n+k)
	})
}

// Erase removes elements [lo, hi), moving the elements after them one by
// one.
func (v *SegmentVector[T]) Erase(lo, hi int) error {
	if err := span(lo, hi, v.Len()); err != nil {
		return err
	}
	if lo == hi {
		return nil
	}
	n, d := v.c.h.n, uint64(hi-lo)
	return v.r.run(func(tx *obj.Tx) error {
		if err := v.c.spans(tx, uint64(lo), n, func(uint64, []T) {}); err != nil {
			return err
		}
		for j := uint64(lo); j+d < n; j++ {
			if err := v.c.move(tx, j, j+d); err != nil {
				return err
			}
		}
		return obj.TxSet(tx, &v.c.h.n, n-d)
	})
}

// move copies element from to element to (both registered in tx).
func (c *segCore[T]) move(tx *obj.Tx, to, from uint64) error {
	dst, err := c.ptr(tx, to)
	if err != nil {
		return err
	}
	src, err := c.ptr(tx, from)
	if err != nil {
		return err
	}
	*dst = *src
	return nil
}
