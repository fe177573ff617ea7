package obj

import (
	"fmt"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

// AllocFlags are the flags of Xalloc and Xreserve, with C's values
// (POBJ_XALLOC_*): FlagZero, FlagNoFlush, and a class and an arena id in
// the high bits.
type AllocFlags uint64

const (
	// FlagZero zeroes the object (POBJ_XALLOC_ZERO).
	FlagZero AllocFlags = 1 << 0
	// FlagNoFlush is accepted for transactional allocations
	// (POBJ_XALLOC_NO_FLUSH); atomic allocations refuse it, as C does.
	FlagNoFlush AllocFlags = 1 << 1

	classMask AllocFlags = 0xFFFF << 48
	arenaMask AllocFlags = 0xFFFF << 32
)

// ClassID returns the flag that allocates from allocation class id
// (POBJ_CLASS_ID).
func ClassID(id uint8) AllocFlags { return AllocFlags(id) << 48 }

// ArenaID returns the flag that allocates through arena id, 1-based
// (POBJ_ARENA_ID); 0 is the calling goroutine's lane's arena.
func ArenaID(id uint16) AllocFlags { return AllocFlags(id) << 32 }

func (f AllocFlags) class() uint16 { return uint16(f >> 48) }
func (f AllocFlags) arena() uint16 { return uint16(f >> 32) }

// request builds the heap request of an allocation of size bytes.
func request(size int, typeNum uint64, flags AllocFlags, ctor func([]byte) error) (heap.Request, error) {
	if size <= 0 || uint64(size) > MaxAllocSize {
		return heap.Request{}, fmt.Errorf("%w: %d bytes", ErrSize, size)
	}
	if flags.class() > 254 {
		return heap.Request{}, fmt.Errorf("%w: class %d", ErrClass, flags.class())
	}
	return heap.Request{Size: uint64(size), TypeNum: typeNum, ClassID: uint8(flags.class()),
		Zero: flags&FlagZero != 0, Ctor: ctor}, nil
}

// arena returns the arena flags name, or the lane's.
func (p *Pool) arena(l *lane, flags AllocFlags) (*heap.Arena, error) {
	id := flags.arena()
	if id == 0 {
		return l.arena, nil
	}
	if int(id) > p.heap.NArenas() {
		return nil, fmt.Errorf("%w: %d of %d", ErrArena, id, p.heap.NArenas())
	}
	return p.heap.Arena(int(id) - 1), nil
}

// Alloc allocates an object of at least size bytes with type number
// typeNum (pmemobj_alloc with a NULL oidp) and returns its OID. If ctor
// is not nil it initializes the object's usable bytes first; its error
// cancels the allocation and is returned. Alloc flushes what ctor wrote
// and makes the allocation durable before it returns: after a crash the
// object is either absent or allocated and constructed. An object nothing
// refers to can still be found by iteration ([Pool.Objects]).
func (p *Pool) Alloc(size int, typeNum uint64, ctor func([]byte) error) (OID, error) {
	return p.xalloc(size, typeNum, 0, ctor)
}

// Zalloc allocates a zeroed object (pmemobj_zalloc).
func (p *Pool) Zalloc(size int, typeNum uint64) (OID, error) {
	return p.xalloc(size, typeNum, FlagZero, nil)
}

// Xalloc is Alloc with flags (pmemobj_xalloc): FlagZero, ClassID,
// ArenaID.
func (p *Pool) Xalloc(size int, typeNum uint64, flags AllocFlags, ctor func([]byte) error) (OID, error) {
	if flags&^(FlagZero|classMask|arenaMask) != 0 {
		return OID{}, fmt.Errorf("%w: %#x", ErrFlags, uint64(flags))
	}
	return p.xalloc(size, typeNum, flags, ctor)
}

func (p *Pool) xalloc(size int, typeNum uint64, flags AllocFlags, ctor func([]byte) error) (OID, error) {
	return p.operate(OID{}, size, typeNum, 0, flags, ctor, nil, opAlloc)
}

// AllocTo is Alloc that also stores the new OID into *dst, atomically
// with the allocation when dst lies in the pool (pmemobj_alloc with
// oidp): after a crash either the object is allocated and *dst names it,
// or neither.
func (p *Pool) AllocTo(dst *OID, size int, typeNum uint64, ctor func([]byte) error) error {
	_, err := p.operate(OID{}, size, typeNum, 0, 0, ctor, dst, opAlloc)
	return err
}

// ZallocTo is Zalloc that stores the OID into *dst (pmemobj_zalloc).
func (p *Pool) ZallocTo(dst *OID, size int, typeNum uint64) error {
	_, err := p.operate(OID{}, size, typeNum, 0, FlagZero, nil, dst, opAlloc)
	return err
}

// Strdup allocates a copy of s with its NUL terminator (pmemobj_strdup).
func (p *Pool) Strdup(s string, typeNum uint64) (OID, error) {
	return p.operate(OID{}, len(s)+1, typeNum, 0, 0, strCtor(s), nil, opAlloc)
}

// StrdupTo is Strdup that stores the OID into *dst.
func (p *Pool) StrdupTo(dst *OID, s string, typeNum uint64) error {
	_, err := p.operate(OID{}, len(s)+1, typeNum, 0, 0, strCtor(s), dst, opAlloc)
	return err
}

func strCtor(s string) func([]byte) error {
	return func(b []byte) error {
		copy(b, s)
		b[len(s)] = 0
		return nil
	}
}

// Free frees the object oid names (pmemobj_free). A null OID is a no-op;
// an OID that is not an allocated object of the pool is refused with
// [ErrInvalidOID] (C would corrupt its heap).
func (p *Pool) Free(oid OID) error {
	if oid.IsNull() {
		return nil
	}
	_, err := p.operate(oid, 0, 0, 0, 0, nil, nil, opFree)
	return err
}

// FreeOID frees the object *dst names and sets *dst to the null OID,
// atomically when dst lies in the pool (pmemobj_free(&oid)).
func (p *Pool) FreeOID(dst *OID) error {
	if dst.IsNull() {
		return nil
	}
	_, err := p.operate(*dst, 0, 0, 0, 0, nil, dst, opFree)
	return err
}

// Realloc resizes the object oid names to size bytes with type number
// typeNum (pmemobj_realloc): the contents up to the smaller size are kept,
// the rest is undefined. A null oid allocates (zeroed, as C); size 0
// frees and returns the null OID. It returns the object's new OID, oid
// itself when its usable size is exactly size; the old one is freed in
// the same atomic operation.
func (p *Pool) Realloc(oid OID, size int, typeNum uint64) (OID, error) {
	return p.realloc(oid, size, typeNum, false, nil)
}

// Zrealloc is Realloc that zeroes the bytes past the old usable size
// (pmemobj_zrealloc).
func (p *Pool) Zrealloc(oid OID, size int, typeNum uint64) (OID, error) {
	return p.realloc(oid, size, typeNum, true, nil)
}

// ReallocTo is Realloc of *dst that stores the new OID into *dst,
// atomically when dst lies in the pool.
func (p *Pool) ReallocTo(dst *OID, size int, typeNum uint64) error {
	_, err := p.realloc(*dst, size, typeNum, false, dst)
	return err
}

// ZreallocTo is Zrealloc of *dst that stores the new OID into *dst.
func (p *Pool) ZreallocTo(dst *OID, size int, typeNum uint64) error {
	_, err := p.realloc(*dst, size, typeNum, true, dst)
	return err
}

func (p *Pool) realloc(oid OID, size int, typeNum uint64, zero bool, dst *OID) (OID, error) {
	switch {
	case oid.IsNull() && size == 0:
		return OID{}, nil
	case oid.IsNull():
		return p.operate(OID{}, size, typeNum, 0, FlagZero, nil, dst, opAlloc)
	case size == 0:
		return OID{}, p.freeMaybeTo(oid, dst)
	}
	return p.operate(oid, size, typeNum, 0, 0, nil, dst, opRealloc(zero))
}

func (p *Pool) freeMaybeTo(oid OID, dst *OID) error {
	if dst != nil {
		return p.FreeOID(dst)
	}
	return p.Free(oid)
}

// opKind selects what operate does with the old object and the new one.
type opKind uint8

const (
	opAlloc       opKind = iota + 1 // new object
	opFree                          // free the old one
	opReallocKeep                   // resize: copy, grown part undefined
	opReallocZero                   // resize: copy, grown part zeroed
)

func opRealloc(zero bool) opKind {
	if zero {
		return opReallocZero
	}
	return opReallocKeep
}

// operate runs one atomic heap operation in a lane (palloc_operation):
// free old (if not null), reserve a new object of size bytes (if size > 0),
// copy old into new for a resize, set *dst (if not nil) to the new OID,
// and publish all of it at once.
func (p *Pool) operate(old OID, size int, typeNum uint64, objFlags uint16, flags AllocFlags,
	ctor func([]byte) error, dst *OID, kind opKind) (OID, error) {
	l, err := p.enterWrite()
	if err != nil {
		return OID{}, err
	}
	defer p.leave(l)
	acts := l.acts[:0]
	defer func() { l.acts = acts[:0] }()

	var oldBlk heap.Block
	if kind != opAlloc {
		var err error
		if oldBlk, err = p.block(old); err != nil {
			return OID{}, err
		}
		if kind != opFree && oldBlk.Size == uint64(size) {
			return old, nil
		}
		acts = append(acts, heap.Action{Kind: heap.ActFree, Block: oldBlk})
	}
	newOID := OID{}
	if kind != opFree {
		if kind == opReallocZero {
			ctor = zeroFrom(oldBlk.Size)
		}
		req, err := request(size, typeNum, flags, ctor)
		if err != nil {
			return OID{}, err
		}
		req.Flags = objFlags
		a, err := p.arena(l, flags)
		if err != nil {
			return OID{}, err
		}
		act, err := p.heap.Reserve(a, req)
		if err != nil {
			return OID{}, err
		}
		if kind != opAlloc {
			n := min(oldBlk.Size, act.Block.Size)
			p.m.Copy(act.Block.Off, p.m.Slice(oldBlk.Off, n), core.MemNoDrain)
		}
		acts = append(acts, act)
		newOID = OID{p.uuidLo, act.Block.Off}
	}
	if dst != nil {
		// C sets both halves on alloc and free, only the offset on a
		// resize (the pool stays the same).
		acts = p.setOID(acts, dst, newOID, kind == opAlloc || kind == opFree)
	}
	if err := p.heap.Publish(acts, &l.redo, l.externalLog(), layout.LaneExternalCapacity, l); err != nil {
		p.heap.Cancel(acts)
		return OID{}, err
	}
	return newOID, nil
}

// zeroFrom returns a constructor that zeroes the usable bytes from off on.
func zeroFrom(off uint64) func([]byte) error {
	return func(b []byte) error {
		if off < uint64(len(b)) {
			clear(b[off:])
		}
		return nil
	}
}

// setOID appends the actions that store oid into *dst: persistent entries
// when dst lies in the pool, transient ones otherwise.
func (p *Pool) setOID(acts []heap.Action, dst *OID, oid OID, uuid bool) []heap.Action {
	if off, ok := p.m.Offset(unsafe.Pointer(dst)); ok && off%8 == 0 && off+16 <= p.m.Size() {
		if uuid {
			acts = append(acts, heap.Action{Kind: heap.ActSet, Dst: off, Val: oid.PoolUUIDLo})
		}
		return append(acts, heap.Action{Kind: heap.ActSet, Dst: off + 8, Val: oid.Off})
	}
	if uuid {
		acts = append(acts, heap.Action{Kind: heap.ActSet, Ptr: &dst.PoolUUIDLo, Val: oid.PoolUUIDLo})
	}
	return append(acts, heap.Action{Kind: heap.ActSet, Ptr: &dst.Off, Val: oid.Off})
}

// block returns the allocated object oid names.
func (p *Pool) block(oid OID) (heap.Block, error) {
	if oid.IsNull() || oid.PoolUUIDLo != p.uuidLo {
		return heap.Block{}, fmt.Errorf("%w: %v", ErrInvalidOID, oid)
	}
	b, err := p.heap.BlockAt(oid.Off)
	if err != nil {
		return heap.Block{}, fmt.Errorf("%w: %v", err, oid)
	}
	return b, nil
}

// Root returns the root object, creating it with size zeroed bytes if the
// pool has none, or growing it to size if it is smaller (pmemobj_root):
// a larger root is a new object holding the old contents, the rest
// zeroed; the old one is freed in the same atomic operation. size 0
// returns the existing root (an error if there is none). The root has
// type number 0 and is not listed by Objects.
func (p *Pool) Root(size int) (OID, error) {
	if size < 0 || uint64(size) > MaxAllocSize {
		return OID{}, fmt.Errorf("%w: %d bytes", ErrSize, size)
	}
	if r := p.root.Load(); r != nil && r[0] != 0 && uint64(size) <= r[1] {
		// The common case, a lookup: no lane, no lock.
		if p.closed.Load() {
			return OID{}, ErrClosed
		}
		return OID{p.uuidLo, r[0]}, nil
	}
	l, err := p.enter()
	if err != nil {
		return OID{}, err
	}
	defer p.leave(l)
	p.rootMu.Lock()
	defer p.rootMu.Unlock()
	off := p.m.Load(layout.RootOffsetAt)
	rsize := p.m.Load(layout.RootSizeAt)
	if size == 0 && off == 0 {
		return OID{}, fmt.Errorf("%w: root of 0 bytes", ErrSize)
	}
	if uint64(size) <= rsize && off != 0 {
		return OID{p.uuidLo, off}, nil
	}
	if p.readOnly {
		return OID{}, ErrReadOnly
	}
	old := OID{}
	if off != 0 {
		old = OID{p.uuidLo, off}
	}
	return p.rootOperate(l, old, size)
}

// rootOperate allocates or resizes the root: the new object's offset goes
// to root_offset and size to root_size with the heap updates, in one redo
// log (obj_alloc_root). The caller has entered and holds rootMu.
func (p *Pool) rootOperate(l *lane, old OID, size int) (OID, error) {
	if err := p.m.Err(); err != nil {
		return OID{}, err
	}
	var acts []heap.Action
	var oldBlk heap.Block
	if !old.IsNull() {
		var err error
		if oldBlk, err = p.block(old); err != nil {
			return OID{}, fmt.Errorf("obj: root object: %w", err)
		}
		acts = append(acts, heap.Action{Kind: heap.ActFree, Block: oldBlk})
	}
	req, err := request(size, layout.RootTypeNum, 0, zeroFrom(p.m.Load(layout.RootSizeAt)))
	if err != nil {
		return OID{}, err
	}
	req.Flags = layout.ObjInternal
	act, err := p.heap.Reserve(l.arena, req)
	if err != nil {
		return OID{}, err
	}
	if !old.IsNull() {
		p.m.Copy(act.Block.Off, p.m.Slice(oldBlk.Off, min(oldBlk.Size, act.Block.Size)), core.MemNoDrain)
	}
	acts = append(acts, act,
		heap.Action{Kind: heap.ActSet, Dst: layout.RootOffsetAt, Val: act.Block.Off},
		heap.Action{Kind: heap.ActSet, Dst: layout.RootSizeAt, Val: uint64(size)})
	if err := p.heap.Publish(acts, &l.redo, l.externalLog(), layout.LaneExternalCapacity, l); err != nil {
		p.heap.Cancel(acts)
		return OID{}, err
	}
	p.root.Store(&[2]uint64{act.Block.Off, uint64(size)})
	return OID{p.uuidLo, act.Block.Off}, nil
}

// RootSize returns the root object's size as requested (pmemobj_root_size),
// 0 if there is none.
func (p *Pool) RootSize() int {
	if r := p.root.Load(); r != nil && r[0] != 0 && !p.closed.Load() {
		return int(r[1])
	}
	return 0
}

// UsableSize returns the usable size of the object oid names
// (pmemobj_alloc_usable_size): at least what was asked for. It returns 0
// for the null OID and an error for an OID that is not an object.
func (p *Pool) UsableSize(oid OID) (int, error) {
	if oid.IsNull() {
		return 0, nil
	}
	l, err := p.enter()
	if err != nil {
		return 0, err
	}
	defer p.leave(l)
	b, err := p.block(oid)
	return int(b.Size), err
}

// TypeNum returns the type number of the object oid names
// (pmemobj_type_num).
func (p *Pool) TypeNum(oid OID) (uint64, error) {
	l, err := p.enter()
	if err != nil {
		return 0, err
	}
	defer p.leave(l)
	b, err := p.block(oid)
	if err != nil {
		return 0, err
	}
	return p.heap.Header(&b).TypeNum, nil
}

// Bytes returns the usable bytes of the object oid names, in the mapping
// (pmemobj_direct and pmemobj_alloc_usable_size in one), or nil if oid is
// not an allocated object of the pool. The slice is valid until the object
// is freed or the pool closed; stores to it are persistent once persisted
// ([Pool.Persist]).
func (p *Pool) Bytes(oid OID) []byte {
	b, _ := p.object(oid)
	return b
}

func (p *Pool) object(oid OID) ([]byte, error) {
	l, err := p.enter()
	if err != nil {
		return nil, err
	}
	defer p.leave(l)
	b, err := p.block(oid)
	if err != nil {
		return nil, err
	}
	return p.m.Slice(b.Off, b.Size), nil
}
