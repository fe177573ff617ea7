package containers

import (
	"bytes"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// StringInline is the number of bytes a [String] keeps in its head: a
// string that fits needs no object (small string optimization).
const StringInline = 32

// StringHead is the persistent part of a [String]: 64 bytes, pointer-free,
// to embed in a persistent struct or allocate as an object of its own. Its
// zero value is the empty string. Change it only through a String.
type StringHead struct {
	v   VectorHead[byte] // the object of a long string; length of either
	inl [StringInline]byte
}

// String is a persistent byte string (libpmemobj-cpp's
// pmem::obj::string): up to [StringInline] bytes inline in its head,
// longer ones in an object that grows as a [Vector]'s does. A String is a
// handle on a [StringHead] the caller keeps in the pool, made again by
// [OpenString] after a restart. Every change is one transaction, the
// handle's own or the caller's ([String.In]). Not safe for concurrent
// use.
type String struct {
	c *vcore[byte] // over h.v, when the string is not inline
	h *StringHead
	r txRunner
}

// OpenString returns a handle on the string h, which must lie in p.
func OpenString(p *obj.Pool, h *StringHead) (*String, error) {
	s := &String{c: &vcore[byte]{p: p, h: &h.v, typeNum: TypeStringData}, h: h, r: txRunner{p: p}}
	if _, err := s.Bytes(); err != nil {
		return nil, err
	}
	return s, nil
}

// In returns the string bound to tx (as [Vector.In]).
func (s *String) In(tx *obj.Tx) *String {
	return &String{c: s.c, h: s.h, r: txRunner{p: s.r.p, tx: tx}}
}

// Head returns the string's persistent part.
func (s *String) Head() *StringHead { return s.h }

func (s *String) inline() bool { return s.h.v.data.IsNull() }

// Len returns the length in bytes.
func (s *String) Len() int { return int(s.h.v.n) }

// Cap returns the bytes the string holds without growing.
func (s *String) Cap() int {
	if s.inline() {
		return StringInline
	}
	return int(s.h.v.cap)
}

// Bytes returns the string's bytes in the pool's memory, valid until the
// next change. It is for reading: a store through it is neither logged
// nor persisted.
func (s *String) Bytes() ([]byte, error) {
	if s.inline() {
		if s.h.v.n > StringInline || s.h.v.cap != 0 {
			return nil, corrupt("inline string of length %d, capacity %d", s.h.v.n, s.h.v.cap)
		}
		return s.h.inl[:s.h.v.n], nil
	}
	b, err := s.c.elems(s.r.tx)
	if err != nil {
		return nil, err
	}
	return b[:s.h.v.n], nil
}

// String returns a copy of the string ("" if its head is damaged: Bytes
// says how).
func (s *String) String() string {
	b, _ := s.Bytes()
	return string(b)
}

// Compare compares the string with t as strings.Compare does.
func (s *String) Compare(t string) int {
	b, _ := s.Bytes()
	return bytes.Compare(b, stringBytes(t))
}

// Equal reports whether the string is t.
func (s *String) Equal(t string) bool { return s.Compare(t) == 0 }

func stringBytes(t string) []byte { return unsafe.Slice(unsafe.StringData(t), len(t)) }

// Assign replaces the string with t. A string that fits inline leaves the
// object of a longer one, which is freed.
func (s *String) Assign(t string) error { return s.AssignBytes(stringBytes(t)) }

// AssignBytes replaces the string with b (not the string's own bytes).
func (s *String) AssignBytes(b []byte) error {
	return s.r.run(func(tx *obj.Tx) error {
		if len(b) <= StringInline && !s.inline() {
			if err := s.toInline(tx, 0); err != nil {
				return err
			}
		}
		return assignElems[byte](s, tx, b)
	})
}

// Append appends t.
func (s *String) Append(t string) error { return s.AppendBytes(stringBytes(t)) }

// AppendBytes appends b (not the string's own bytes).
func (s *String) AppendBytes(b []byte) error {
	return s.r.run(func(tx *obj.Tx) error { return insertElems[byte](s, tx, s.h.v.n, b) })
}

// Insert inserts t before byte i.
func (s *String) Insert(i int, t string) error {
	if i < 0 {
		return outOfRange("insert at", uint64(i), s.h.v.n)
	}
	return s.r.run(func(tx *obj.Tx) error { return insertElems[byte](s, tx, uint64(i), stringBytes(t)) })
}

// Erase removes bytes [lo, hi).
func (s *String) Erase(lo, hi int) error {
	if err := span(lo, hi, s.Len()); err != nil {
		return err
	}
	return s.r.run(func(tx *obj.Tx) error { return eraseElems[byte](s, tx, uint64(lo), uint64(hi)) })
}

// Clear empties the string, keeping its capacity.
func (s *String) Clear() error {
	if s.h.v.n == 0 {
		return nil
	}
	return s.r.run(func(tx *obj.Tx) error { return s.setLen(tx, 0) })
}

// Reserve makes the capacity at least n bytes.
func (s *String) Reserve(n int) error {
	if n < 0 {
		return outOfRange("reserve", uint64(n), s.h.v.n)
	}
	if n <= s.Cap() {
		return nil
	}
	return s.r.run(func(tx *obj.Tx) error {
		if s.inline() {
			return s.fromInline(tx, uint64(n))
		}
		return s.c.realloc(tx, uint64(n))
	})
}

// ShrinkToFit moves the bytes to an object of the length's size, or
// inline when they fit.
func (s *String) ShrinkToFit() error {
	if s.inline() || s.h.v.n == s.h.v.cap {
		return nil
	}
	return s.r.run(func(tx *obj.Tx) error {
		if s.h.v.n <= StringInline {
			return s.toInline(tx, s.h.v.n)
		}
		return s.c.realloc(tx, s.h.v.n)
	})
}

// Free empties the string and frees its object if it has one.
func (s *String) Free() error {
	if s.inline() {
		return s.Clear()
	}
	return s.r.run(func(tx *obj.Tx) error { return s.toInline(tx, 0) })
}

// toInline moves the first n bytes of a string that has an object inline
// and frees the object.
func (s *String) toInline(tx *obj.Tx, n uint64) error {
	b, err := s.c.elems(tx)
	if err != nil {
		return err
	}
	if err := obj.TxAdd(tx, s.h); err != nil {
		return err
	}
	copy(s.h.inl[:], b[:n])
	if err := tx.Free(s.h.v.data); err != nil {
		return err
	}
	s.h.v = VectorHead[byte]{n: n}
	return nil
}

// fromInline moves an inline string to an object of capacity c.
func (s *String) fromInline(tx *obj.Tx, c uint64) error {
	oid, b, err := allocElems[byte](tx, c, TypeStringData)
	if err != nil {
		return err
	}
	copy(b, s.h.inl[:s.h.v.n])
	return obj.TxUpdate(tx, &s.h.v, func(v *VectorHead[byte]) { v.data, v.cap = oid, c })
}

// The contiguous methods, inline or not.

func (s *String) length() uint64 { return s.h.v.n }

func (s *String) ensure(tx *obj.Tx, need uint64) error {
	if !s.inline() {
		return s.c.ensure(tx, need)
	}
	if need <= StringInline {
		return nil
	}
	return s.fromInline(tx, growCap(need))
}

func (s *String) touch(tx *obj.Tx, lo, hi uint64) ([]byte, error) {
	if !s.inline() {
		return s.c.touch(tx, lo, hi)
	}
	b := s.h.inl[lo:hi]
	return b, snapshot(tx, b, false)
}

func (s *String) setLen(tx *obj.Tx, n uint64) error { return obj.TxSet(tx, &s.h.v.n, n) }
