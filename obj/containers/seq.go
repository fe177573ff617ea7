package containers

import (
	"errors"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj"
)

// Errors of the sequence containers (Vector, String, Array,
// SegmentVector). Damage found on the media (an element object that is
// not one, a length beyond the capacity) is an error wrapping
// core.ErrCorrupt.
var (
	// ErrOutOfRange: an index or a range outside the container's length
	// (std::out_of_range in libpmemobj-cpp), or a pop of an empty one.
	ErrOutOfRange = errors.New("containers: index out of range")
	// ErrLength: a length or capacity beyond what one object holds
	// (std::length_error).
	ErrLength = errors.New("containers: length beyond the maximum")
)

// Type numbers of the objects the sequence containers allocate for their
// elements (the heads are the caller's objects, with the caller's type
// numbers).
const (
	TypeVectorData  uint64 = 0x7063_0000_0001 // a Vector's elements
	TypeStringData  uint64 = 0x7063_0000_0002 // a String's bytes, when not inline
	TypeSegmentData uint64 = 0x7063_0000_0003 // one segment of a SegmentVector
)

// txRunner runs a change in the caller's transaction, if the handle is
// bound to one, or in a transaction of its own.
type txRunner struct {
	p  *obj.Pool
	tx *obj.Tx
}

func (r txRunner) run(fn func(tx *obj.Tx) error) error {
	if r.tx != nil {
		return fn(r.tx)
	}
	return r.p.Tx(fn)
}

// outOfRange is ErrOutOfRange with the index and length.
func outOfRange(what string, i, n uint64) error {
	return fmt.Errorf("%w: %s %d, length %d", ErrOutOfRange, what, i, n)
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: containers: "+format, append([]any{core.ErrCorrupt}, args...)...)
}

// elemSize is the size of a T in the pool (at least 1, so that objects
// of zero-sized elements still exist).
func elemSize[T any]() uint64 {
	var zero T
	return max(uint64(unsafe.Sizeof(zero)), 1)
}

// slab returns an object's bytes as n Ts, checking that they fit.
func slab[T any](b []byte, n uint64) ([]T, bool) {
	if n == 0 {
		return nil, true
	}
	if hi, lo := bits.Mul64(n, elemSize[T]()); hi != 0 || lo > uint64(len(b)) {
		return nil, false
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n), true
}

// allocElems allocates room for n Ts in tx: the new object needs no
// snapshot (an abort or a crash before the commit frees it).
func allocElems[T any](tx *obj.Tx, n, typeNum uint64) (obj.OID, []T, error) {
	hi, size := bits.Mul64(n, elemSize[T]())
	if hi != 0 || size > obj.MaxAllocSize {
		return obj.OID{}, nil, fmt.Errorf("%w: %d elements of %d bytes", ErrLength, n, elemSize[T]())
	}
	oid, err := tx.Alloc(int(size), typeNum)
	if err != nil {
		return obj.OID{}, nil, err
	}
	b, err := tx.Bytes(oid)
	if err != nil {
		return obj.OID{}, nil, err
	}
	s, _ := slab[T](b, n)
	return oid, s, nil
}

// bytesOf returns the bytes of an object seen from tx (which sees the
// objects it allocated) or, without tx or once it ended, from the pool.
func bytesOf(p *obj.Pool, tx *obj.Tx, oid obj.OID) []byte {
	if tx != nil {
		if b, err := tx.Bytes(oid); err == nil {
			return b
		}
	}
	return p.Bytes(oid)
}

// elemBytes returns s as bytes, for snapshots.
func elemBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), uintptr(len(s))*unsafe.Sizeof(zero))
}

// snapshot registers s (elements in the pool) in tx: their old values are
// logged, or only flushed at commit when fresh (their old values do not
// matter: slots past the length).
func snapshot[T any](tx *obj.Tx, s []T, fresh bool) error {
	b := elemBytes(s)
	if len(b) == 0 {
		return nil
	}
	if fresh {
		return tx.XAddRangeDirect(b, obj.TxNoSnapshot)
	}
	return tx.AddRangeDirect(b)
}

// growCap is the capacity a vector grows to when it needs room for need
// elements: the next power of two (libpmemobj-cpp's vector), at least 8.
func growCap(need uint64) uint64 {
	if need <= 8 {
		return 8
	}
	if need > 1<<62 {
		return need
	}
	return 1 << bits.Len64(need-1)
}

// span checks that [lo, hi) lies in [0, n].
func span(lo, hi, n int) error {
	if lo < 0 || hi < lo || hi > n {
		return fmt.Errorf("%w: [%d, %d) of length %d", ErrOutOfRange, lo, hi, n)
	}
	return nil
}

// clampRange clamps [lo, hi) into [0, n] for the Range iterators.
func clampRange(lo, hi, n int) (int, int) {
	lo = min(max(lo, 0), n)
	hi = min(max(hi, lo), n)
	return lo, hi
}
