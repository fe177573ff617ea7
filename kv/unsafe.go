package kv

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// mem is an obj pool's mapping as one slice, so that the engines turn the
// offsets they store into bytes with one bounds check, not a heap lookup
// per node (obj's Pool.Bytes validates its OID against the heap). Every
// offset read from the pool is checked against len(b) before use.
type mem struct {
	b    []byte
	uuid uint64
}

// poolMem is p's mapping.
func poolMem(p *obj.Pool) (mem, error) {
	b := p.Mapping()
	if len(b) == 0 {
		return mem{}, ErrClosed
	}
	return mem{b: b, uuid: p.UUIDLo()}, nil
}

// contains reports whether x lies inside the mapping.
func (m mem) contains(x []byte) bool {
	if len(m.b) == 0 || len(x) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(m.b)))
	a := uintptr(unsafe.Pointer(unsafe.SliceData(x)))
	return a >= lo && a-lo+uintptr(len(x)) <= uintptr(len(m.b))
}

// offsetOf is the offset of x (inside the mapping) from the base.
func (m mem) offsetOf(x []byte) uint64 {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(m.b)))
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(x))) - lo)
}

// at returns size bytes at off, or an error if they are not all inside
// the mapping.
func (m mem) at(off, size uint64) ([]byte, error) {
	end, carry := bits.Add64(off, size, 0)
	if off == 0 || carry != 0 || end > uint64(len(m.b)) {
		return nil, fmt.Errorf("%w: %d bytes at offset %#x, pool of %d", ErrCorrupt, size, off, len(m.b))
	}
	return m.b[off:end:end], nil
}

// view returns a *T over the pool's bytes at off (8-aligned, in bounds).
func view[T any](m mem, off uint64) (*T, error) {
	var z T
	if off%8 != 0 {
		return nil, fmt.Errorf("%w: unaligned offset %#x", ErrCorrupt, off)
	}
	b, err := m.at(off, uint64(unsafe.Sizeof(z)))
	if err != nil {
		return nil, err
	}
	return (*T)(unsafe.Pointer(unsafe.SliceData(b))), nil
}

// bytesOf is the memory of *v as a slice (v in the mapping), for
// snapshots and persists.
func bytesOf[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// oidAt views the 16 bytes of b as an OID.
func oidAt(b []byte) *obj.OID {
	if len(b) < int(unsafe.Sizeof(obj.OID{})) || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 != 0 {
		return nil
	}
	return (*obj.OID)(unsafe.Pointer(unsafe.SliceData(b)))
}

// inPool reports whether the OID field *o lies in p's mapping.
func inPool(p *obj.Pool, o *obj.OID) bool {
	m, err := poolMem(p)
	return err == nil && m.contains(bytesOf(o))
}
