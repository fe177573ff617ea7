package obj

import (
	"fmt"
	"unsafe"

	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Action is a change prepared but not yet made (struct pobj_action): a
// reserved object, a deferred free or a value to set. Publish makes a set
// of actions durable at once; Cancel drops them. An Action belongs to the
// pool that made it.
type Action struct {
	a heap.Action
	p *Pool
}

// Reserve reserves an object of size bytes with type number typeNum
// (pmemobj_reserve) and returns its OID: the caller may fill it, and it
// becomes allocated only when its action is published. Until then a crash
// leaves it free.
func (p *Pool) Reserve(size int, typeNum uint64) (OID, Action, error) {
	return p.Xreserve(size, typeNum, 0)
}

// Xreserve is Reserve with flags (pmemobj_xreserve): FlagZero, ClassID,
// ArenaID.
func (p *Pool) Xreserve(size int, typeNum uint64, flags AllocFlags) (OID, Action, error) {
	if flags&^(FlagZero|classMask|arenaMask) != 0 {
		return OID{}, Action{}, fmt.Errorf("%w: %#x", ErrFlags, uint64(flags))
	}
	l, err := p.enterWrite()
	if err != nil {
		return OID{}, Action{}, err
	}
	defer p.leave(l)
	req, err := request(size, typeNum, flags, nil)
	if err != nil {
		return OID{}, Action{}, err
	}
	a, err := p.arena(l, flags)
	if err != nil {
		return OID{}, Action{}, err
	}
	act, err := p.heap.Reserve(a, req)
	if err != nil {
		return OID{}, Action{}, err
	}
	return OID{p.uuidLo, act.Block.Off}, Action{act, p}, nil
}

// DeferFree prepares the free of the object oid names
// (pmemobj_defer_free): it is freed when the action is published.
func (p *Pool) DeferFree(oid OID) (Action, error) {
	l, err := p.enter()
	if err != nil {
		return Action{}, err
	}
	defer p.leave(l)
	b, err := p.block(oid)
	if err != nil {
		return Action{}, err
	}
	return Action{heap.Action{Kind: heap.ActFree, Block: b}, p}, nil
}

// SetValue prepares storing value into *dst when the action is published
// (pmemobj_set_value). When dst lies in the pool the store is part of the
// publication's redo log: durable with it, atomically; otherwise it is
// made after.
func (p *Pool) SetValue(dst *uint64, value uint64) Action {
	if off, ok := p.m.Offset(unsafe.Pointer(dst)); ok && off%8 == 0 {
		return Action{heap.Action{Kind: heap.ActSet, Dst: off, Val: value}, p}
	}
	return Action{heap.Action{Kind: heap.ActSet, Ptr: dst, Val: value}, p}
}

// Publish makes the actions durable at once (pmemobj_publish): after a
// crash either every reserved object is allocated, every deferred free
// done and every value set, or none. On error nothing changed and the
// actions may still be published or cancelled.
func (p *Pool) Publish(acts ...Action) error {
	l, err := p.enterWrite()
	if err != nil {
		return err
	}
	defer p.leave(l)
	hacts := l.acts[:0]
	for _, a := range acts {
		if a.p != p {
			return fmt.Errorf("obj: publish: an action of another pool")
		}
		hacts = append(hacts, a.a)
	}
	l.acts = hacts[:0]
	return p.heap.Publish(hacts, &l.redo, l.externalLog(), layout.LaneExternalCapacity, l)
}

// Cancel drops the actions (pmemobj_cancel): reserved objects return to
// the free space; deferred frees and values are forgotten.
func (p *Pool) Cancel(acts ...Action) {
	l, err := p.enter()
	if err != nil {
		return
	}
	defer p.leave(l)
	hacts := make([]heap.Action, 0, len(acts))
	for _, a := range acts {
		if a.p == p {
			hacts = append(hacts, a.a)
		}
	}
	p.heap.Cancel(hacts)
}

// OID returns the object of a reservation (the null OID for other actions).
func (a Action) OID() OID {
	if a.a.Kind != heap.ActAlloc {
		return OID{}
	}
	return OID{a.p.uuidLo, a.a.Block.Off}
}

// Bytes returns the usable bytes of a reserved object, to fill before the
// action is published (nil for other actions). Stores to them should be
// persisted before Publish (Publish orders them only with a drain: flush
// them, [Pool.Flush] or [Pool.Persist]). The slice is valid until the
// reservation is cancelled, or, once published, until the object is
// freed or the pool closed.
func (a Action) Bytes() []byte {
	if a.a.Kind != heap.ActAlloc {
		return nil
	}
	return a.p.m.Slice(a.a.Block.Off, a.a.Block.Size)
}
