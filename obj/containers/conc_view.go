package containers

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj"
)

// Errors of RadixTree, BytesRadix, ConcurrentHashMap, BytesHashMap and
// MPSCQueue. Test them with errors.Is.
var (
	// ErrNotFound: a Get, View or Delete of a key the container does not
	// hold.
	ErrNotFound = errors.New("containers: key not found")
	// ErrQueueFull: a Produce whose record does not fit in the free space
	// of the queue's ring (the consumer has not caught up).
	ErrQueueFull = errors.New("containers: queue full")
	// ErrRecordSize: an empty record, or one larger than the queue can
	// ever hold, given to Produce.
	ErrRecordSize = errors.New("containers: record size")
	// ErrKeySize: a key or value longer than a container stores (4 GiB).
	ErrKeySize = errors.New("containers: key or value too long")
	// ErrWrongKind: Open of an OID that names no container of the kind
	// (or element size) asked for.
	ErrWrongKind = errors.New("containers: object is not a container of this kind")
	// ErrDamaged: a link read from the pool that points outside it or to
	// something that cannot be a node; the container is damaged. It wraps
	// core.ErrCorrupt.
	ErrDamaged = fmt.Errorf("containers: container damaged: %w", core.ErrCorrupt)
)

// Type numbers of the objects of these containers (what Pool.TypeNum
// reports of them).
const (
	typeRadixHeader uint64 = 0x52_58_00_01 + iota
	typeRadixInner
	typeRadixLeaf
	typeHashHeader
	typeHashSegment
	typeHashNode
	typeQueue
	typeQueueRing
)

// poolView reaches a pool's objects by offset without a lookup per
// access: the containers follow links they wrote themselves, and every
// offset is bounds-checked against the pool before use.
type poolView struct {
	p    *obj.Pool
	base unsafe.Pointer // the pool's offset 0
	size uint64         // the pool's size
	uuid uint64
}

// newPoolView maps the pool through the object oid, which must be an
// allocated object of p of type typeNum.
func newPoolView(p *obj.Pool, oid obj.OID, typeNum uint64) (poolView, []byte, error) {
	if oid.IsNull() {
		return poolView{}, nil, fmt.Errorf("%w: null OID", ErrWrongKind)
	}
	tn, err := p.TypeNum(oid)
	if err != nil {
		return poolView{}, nil, err
	}
	if tn != typeNum {
		return poolView{}, nil, fmt.Errorf("%w: %v has type number %#x, not %#x", ErrWrongKind, oid, tn, typeNum)
	}
	b := p.Bytes(oid)
	if len(b) == 0 {
		return poolView{}, nil, fmt.Errorf("%w: %v", obj.ErrInvalidOID, oid)
	}
	return viewAt(p, oid, unsafe.Pointer(unsafe.SliceData(b))), b, nil
}

// viewAt maps the pool through the object oid found at ptr.
func viewAt(p *obj.Pool, oid obj.OID, ptr unsafe.Pointer) poolView {
	return poolView{p: p, base: unsafe.Add(ptr, -int(oid.Off)), size: uint64(p.Size()), uuid: oid.PoolUUIDLo}
}

// ok reports whether [off, off+n) lies in the pool, past its first page.
func (v *poolView) ok(off, n uint64) bool {
	return off >= 4096 && n <= v.size && off <= v.size-n
}

// bytes returns [off, off+n) of the pool.
func (v *poolView) bytes(off, n uint64) ([]byte, error) {
	if !v.ok(off, n) {
		return nil, fmt.Errorf("%w: range %#x+%d outside the pool", ErrDamaged, off, n)
	}
	return unsafe.Slice((*byte)(unsafe.Add(v.base, off)), n), nil
}

// oid returns the OID of the object at off.
func (v *poolView) oid(off uint64) obj.OID { return obj.OID{PoolUUIDLo: v.uuid, Off: off} }

// at returns the T at off, which must be 8-byte aligned.
func at[T any](v *poolView, off uint64) (*T, error) {
	var zero T
	if off%8 != 0 || !v.ok(off, uint64(unsafe.Sizeof(zero))) {
		return nil, fmt.Errorf("%w: %T at %#x", ErrDamaged, zero, off)
	}
	return (*T)(unsafe.Add(v.base, off)), nil
}

// words returns *w as the 8 bytes a transaction snapshots.
func words(w *uint64) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(w)), 8) }

// inTx runs fn in tx, or in a transaction of its own when tx is nil.
func inTx(p *obj.Pool, tx *obj.Tx, fn func(*obj.Tx) error) error {
	if tx != nil {
		return fn(tx)
	}
	return p.Tx(fn)
}

// pointerFree refuses a T the pool cannot hold (ErrNotPointerFree).
func pointerFree[T any](p *obj.Pool) error {
	if _, err := obj.PtrTo[T](obj.OID{}).Get(p); errors.Is(err, obj.ErrNotPointerFree) {
		return err
	}
	return nil
}

// valueBytes is v's memory.
func valueBytes[T any](v *T) []byte {
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(zero))
}

// sizeOf is the size of a T.
func sizeOf[T any]() uint64 {
	var zero T
	return uint64(unsafe.Sizeof(zero))
}

// fromBytes copies b (len(b) >= sizeof(T)) into a T.
func fromBytes[T any](b []byte) T {
	var v T
	copy(valueBytes(&v), b)
	return v
}

// hashKey is the containers' fixed 64-bit hash of a byte string: stored
// in the pool, so it never changes between runs (unlike hash/maphash).
func hashKey(b []byte) uint64 {
	const m1, m2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	h := uint64(len(b)) * m1
	for len(b) >= 8 {
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		hi, lo := bits.Mul64(h^w, m2)
		h = hi ^ lo
		b = b[8:]
	}
	var w uint64
	for i, c := range b {
		w |= uint64(c) << (8 * i)
	}
	hi, lo := bits.Mul64(h^w^m1, m2)
	h = hi ^ lo
	h ^= h >> 29
	h *= m1
	return h ^ h>>32
}

// mutator makes a container's changes crash-atomic in one of two ways:
// in the caller's transaction (stores under snapshots, visible at once),
// or, without one, as actions published together (reservations, deferred
// frees and 8-byte stores in one redo log: no undo log, fewer fences),
// whose stores are made only at the publication. A change through a
// mutator therefore never reads back what it set.
type mutator struct {
	v     *poolView
	tx    *obj.Tx
	acts  []obj.Action
	fresh [][]byte // reserved objects, persisted before the publication
}

// mutators keeps action mutators for reuse: their slices are the only
// allocations of a change.
var mutators = sync.Pool{New: func() any { return new(mutator) }}

// mutate runs fn with a mutator of tx or, with a nil tx, of actions it
// publishes when fn returns nil and cancels otherwise.
func mutate(v *poolView, tx *obj.Tx, fn func(m *mutator) error) error {
	if tx != nil {
		return fn(&mutator{v: v, tx: tx})
	}
	m := mutators.Get().(*mutator)
	m.v = v
	defer func() {
		clear(m.fresh)
		clear(m.acts)
		*m = mutator{acts: m.acts[:0], fresh: m.fresh[:0]}
		mutators.Put(m)
	}()
	if err := fn(m); err != nil {
		v.p.Cancel(m.acts...)
		return err
	}
	if len(m.acts) == 0 {
		return nil
	}
	// Publish drains before its log: the reserved objects' stores are
	// durable before they are allocated.
	for _, b := range m.fresh {
		v.p.Flush(b)
	}
	if err := v.p.Publish(m.acts...); err != nil {
		v.p.Cancel(m.acts...)
		return err
	}
	return nil
}

// alloc allocates an object of size bytes and returns its offset and
// bytes, to be filled before the change ends.
func (m *mutator) alloc(size uint64, typeNum uint64) (uint64, []byte, error) {
	var oid obj.OID
	var err error
	if m.tx != nil {
		oid, err = m.tx.Alloc(int(size), typeNum)
	} else {
		var a obj.Action
		oid, a, err = m.v.p.Reserve(int(size), typeNum)
		if err == nil {
			m.acts = append(m.acts, a)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	b, err := m.v.bytes(oid.Off, size)
	if err != nil {
		return 0, nil, err
	}
	if m.tx == nil {
		m.fresh = append(m.fresh, b)
	}
	return oid.Off, b, nil
}

// set stores val into *w.
func (m *mutator) set(w *uint64, val uint64) error {
	if m.tx != nil {
		if err := m.tx.AddRangeDirect(words(w)); err != nil {
			return err
		}
		*w = val
		return nil
	}
	m.acts = append(m.acts, m.v.p.SetValue(w, val))
	return nil
}

// free frees the object at off.
func (m *mutator) free(off uint64) error {
	if m.tx != nil {
		return m.tx.Free(m.v.oid(off))
	}
	a, err := m.v.p.DeferFree(m.v.oid(off))
	if err != nil {
		return err
	}
	m.acts = append(m.acts, a)
	return nil
}

// overwrite reports whether b may be overwritten in place (under a
// snapshot, in a transaction): false for actions, which allocate anew.
func (m *mutator) overwrite(b []byte) (bool, error) {
	if m.tx == nil {
		return false, nil
	}
	return true, m.tx.AddRangeDirect(b)
}
