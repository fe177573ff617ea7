package obj

import (
	"iter"

	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Objects returns an iterator over every allocated object of the pool in
// C's order (pmemobj_first, pmemobj_next: zones, chunks, then units of a
// run), without the root object and the library's own objects. The body
// may allocate and free, the current object included; objects allocated
// or freed during the iteration may or may not be seen.
func (p *Pool) Objects() iter.Seq[OID] {
	return func(yield func(OID) bool) {
		var pos heap.Pos
		first := true
		for {
			oid, next, ok := p.next(pos, first)
			if !ok || !yield(oid) {
				return
			}
			pos, first = next, false
		}
	}
}

// First returns the first object in C's order (pmemobj_first), or the null
// OID if there is none.
func (p *Pool) First() OID {
	oid, _, _ := p.next(heap.Pos{}, true)
	return oid
}

// Next returns the object after oid (pmemobj_next), or the null OID. oid
// may have been freed meanwhile: the walk goes on from where it was.
func (p *Pool) Next(oid OID) OID {
	if oid.IsNull() || oid.PoolUUIDLo != p.uuidLo {
		return OID{}
	}
	l, err := p.enter()
	if err != nil {
		return OID{}
	}
	pos, ok := p.heap.PosOf(oid.Off)
	p.leave(l)
	if !ok {
		return OID{}
	}
	next, _, _ := p.next(pos, false)
	return next
}

// next returns the first user object after pos, skipping internal ones.
func (p *Pool) next(pos heap.Pos, first bool) (OID, heap.Pos, bool) {
	l, err := p.enter()
	if err != nil {
		return OID{}, heap.Pos{}, false
	}
	defer p.leave(l)
	for {
		b, np, ok := p.heap.Next(pos, first)
		if !ok {
			return OID{}, heap.Pos{}, false
		}
		if p.heap.Header(&b).Flags&layout.ObjInternal == 0 {
			return OID{p.uuidLo, b.Off}, np, true
		}
		pos, first = np, false
	}
}
