package containers

import (
	"github.com/gopmdk/pmdk/obj"
)

// VectorHead is the persistent part of a [Vector] of Ts: 32 bytes (the
// elements' object, the length, the capacity), pointer-free, to embed in
// a persistent struct or allocate as an object of its own. Its zero value
// is an empty vector. Its fields are the vector's: change them only
// through a Vector.
type VectorHead[T any] struct {
	data obj.OID
	n    uint64
	cap  uint64
}

// vcore is the machinery of a contiguous array of Ts whose capacity grows
// by reallocation: a Vector's, and a String's once it outgrows its inline
// bytes.
type vcore[T any] struct {
	p       *obj.Pool
	h       *VectorHead[T]
	typeNum uint64
	// The elements' object, as last looked up: its OID and capacity, and
	// the cap Ts it holds.
	cOID obj.OID
	cCap uint64
	cs   []T
}

// elems returns the cap elements of the vector (nil when it has no
// object), checking what the head says against the heap. tx, if not nil,
// sees the objects it allocated.
func (c *vcore[T]) elems(tx *obj.Tx) ([]T, error) {
	h := c.h
	if h.n > h.cap {
		return nil, corrupt("length %d beyond capacity %d", h.n, h.cap)
	}
	if h.data.IsNull() {
		if h.cap != 0 {
			return nil, corrupt("capacity %d without an object", h.cap)
		}
		return nil, nil
	}
	if h.data == c.cOID && h.cap == c.cCap {
		return c.cs, nil
	}
	b := bytesOf(c.p, tx, h.data)
	if b == nil {
		return nil, corrupt("elements at %v: not an object", h.data)
	}
	s, ok := slab[T](b, h.cap)
	if !ok {
		return nil, corrupt("%d elements in a %d-byte object", h.cap, len(b))
	}
	c.cOID, c.cCap, c.cs = h.data, h.cap, s
	return s, nil
}

func (c *vcore[T]) length() uint64 { return c.h.n }

// view returns the elements [0, length).
func (c *vcore[T]) view() ([]T, error) {
	s, err := c.elems(nil)
	if err != nil {
		return nil, err
	}
	return s[:c.h.n], nil
}

// realloc moves the elements to a new object of capacity newCap (none
// when 0), in tx: the old object is freed at commit.
func (c *vcore[T]) realloc(tx *obj.Tx, newCap uint64) error {
	old, err := c.elems(tx)
	if err != nil {
		return err
	}
	n := min(c.h.n, newCap)
	var oid obj.OID
	if newCap > 0 {
		var s []T
		if oid, s, err = allocElems[T](tx, newCap, c.typeNum); err != nil {
			return err
		}
		copy(s, old[:n])
	}
	if !c.h.data.IsNull() {
		if err := tx.Free(c.h.data); err != nil {
			return err
		}
	}
	return obj.TxUpdate(tx, c.h, func(h *VectorHead[T]) { h.data, h.n, h.cap = oid, n, newCap })
}

// ensure makes room for need elements, growing by the policy.
func (c *vcore[T]) ensure(tx *obj.Tx, need uint64) error {
	if need <= c.h.cap {
		return nil
	}
	return c.realloc(tx, growCap(need))
}

// touch returns the elements [lo, hi), hi at most the capacity,
// registered in tx: those below the length snapshotted, those past it
// only flushed at commit.
func (c *vcore[T]) touch(tx *obj.Tx, lo, hi uint64) ([]T, error) {
	s, err := c.elems(tx)
	if err != nil {
		return nil, err
	}
	s = s[:hi]
	mid := min(max(c.h.n, lo), hi)
	if err := snapshot(tx, s[lo:mid], false); err != nil {
		return nil, err
	}
	if err := snapshot(tx, s[mid:hi], true); err != nil {
		return nil, err
	}
	return s[lo:hi], nil
}

func (c *vcore[T]) setLen(tx *obj.Tx, n uint64) error { return obj.TxSet(tx, &c.h.n, n) }

// contiguous is a sequence stored in one array: a Vector's elements or a
// String's bytes, inline or not. The algorithms below work on either.
type contiguous[T any] interface {
	length() uint64
	// ensure makes room for need elements.
	ensure(tx *obj.Tx, need uint64) error
	// touch returns [lo, hi) (hi within the room) registered in tx.
	touch(tx *obj.Tx, lo, hi uint64) ([]T, error)
	setLen(tx *obj.Tx, n uint64) error
}

// insertElems inserts xs before element i.
func insertElems[T any](c contiguous[T], tx *obj.Tx, i uint64, xs []T) error {
	n, k := c.length(), uint64(len(xs))
	if i > n {
		return outOfRange("insert at", i, n)
	}
	if k == 0 {
		return nil
	}
	if err := c.ensure(tx, n+k); err != nil {
		return err
	}
	s, err := c.touch(tx, i, n+k)
	if err != nil {
		return err
	}
	copy(s[k:], s[:n-i])
	copy(s, xs)
	return c.setLen(tx, n+k)
}

// eraseElems removes [lo, hi).
func eraseElems[T any](c contiguous[T], tx *obj.Tx, lo, hi uint64) error {
	n := c.length()
	if lo > hi || hi > n {
		return outOfRange("erase to", hi, n)
	}
	if lo == hi {
		return nil
	}
	s, err := c.touch(tx, lo, n)
	if err != nil {
		return err
	}
	copy(s, s[hi-lo:])
	return c.setLen(tx, n-(hi-lo))
}

// assignElems replaces the contents with xs.
func assignElems[T any](c contiguous[T], tx *obj.Tx, xs []T) error {
	k := uint64(len(xs))
	if err := c.ensure(tx, k); err != nil {
		return err
	}
	s, err := c.touch(tx, 0, k)
	if err != nil {
		return err
	}
	copy(s, xs)
	return c.setLen(tx, k)
}

// resizeElems sets the length to n, zeroing the elements added.
func resizeElems[T any](c contiguous[T], tx *obj.Tx, n uint64) error {
	old := c.length()
	if n > old {
		if err := c.ensure(tx, n); err != nil {
			return err
		}
		s, err := c.touch(tx, old, n)
		if err != nil {
			return err
		}
		clear(s)
	}
	if n == old {
		return nil
	}
	return c.setLen(tx, n)
}
