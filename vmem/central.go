package vmem

import (
	"math/bits"
	"sync"
)

// A central holds the slabs of one class: the slow path of the per-P
// caches, which take and give objects in batches.
type central struct {
	mu      sync.Mutex
	partial *span // slabs with free objects
	nslabs  int
	nempty  int // slabs on partial with every object free
	corrupt int // frees of objects whose slab was gone (double frees)
	_       [64]byte
}

// refill takes up to len(buf) free objects of class c, allocating a slab
// when none is left, and returns how many it took (0: out of memory).
func (p *Pool) refill(c int, buf []uintptr) int {
	ct := &p.centrals[c]
	ct.mu.Lock()
	defer ct.mu.Unlock()
	n := 0
	for n < len(buf) {
		s := ct.partial
		if s == nil {
			if s = p.newSlab(c); s == nil {
				break
			}
			ct.nslabs++
			ct.nempty++
			ct.push(s)
		}
		if s.nfree == s.nelems {
			ct.nempty--
		}
		n += s.take(buf[n:], p.base+uintptr(s.start)<<pageShift)
		if s.nfree == 0 {
			ct.remove(s)
		}
	}
	return n
}

// flush returns objects of class c to their slabs; a slab whose objects
// are all free goes back to the page heap unless it is the class's only
// empty one.
func (p *Pool) flush(c int, objs []uintptr) {
	ct := &p.centrals[c]
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, a := range objs {
		off := a - p.base
		s := p.heap.pagemap[off>>pageShift].Load()
		if s == nil || s.state != spanSlab || int(s.class) != c {
			ct.corrupt++ // freed twice, its slab gone meanwhile
			continue
		}
		i := uint32(uint64(uint32(off-uintptr(s.start)<<pageShift)) * uint64(classDivMul[c]) >> 32)
		w, b := i/64, uint64(1)<<(i%64)
		if s.free[w]&b != 0 {
			s.corrupt++
			continue
		}
		s.free[w] |= b
		s.nfree++
		s.hint = min(s.hint, int(w))
		if !s.inList {
			ct.push(s)
		}
		if s.nfree == s.nelems {
			if ct.nempty >= keepEmptySlabs && s.corrupt == 0 {
				ct.remove(s)
				ct.nslabs--
				p.heap.mu.Lock()
				p.heap.slabPages -= uint64(s.npages)
				p.heap.free(s)
				p.heap.mu.Unlock()
				continue
			}
			ct.nempty++
		}
	}
}

func (ct *central) push(s *span) {
	s.prev, s.next = nil, ct.partial
	if s.next != nil {
		s.next.prev = s
	}
	ct.partial = s
	s.inList = true
}

func (ct *central) remove(s *span) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		ct.partial = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
	s.inList = false
}

// take moves free objects of slab s (whose first byte is at addr) into
// buf and returns how many.
func (s *span) take(buf []uintptr, addr uintptr) int {
	size := uintptr(classSize[s.class])
	n := 0
	for w := s.hint; w < len(s.free) && n < len(buf); w++ {
		for m := s.free[w]; m != 0 && n < len(buf); m &= m - 1 {
			i := w*64 + bits.TrailingZeros64(m)
			buf[n] = addr + uintptr(i)*size
			n++
			s.free[w] &^= 1 << (i % 64)
		}
		if s.free[w] != 0 {
			s.hint = w
			break
		}
		s.hint = w + 1
	}
	s.nfree -= uint32(n)
	return n
}

// newSlab carves a slab of class c out of the page heap, or returns nil.
func (p *Pool) newSlab(c int) *span {
	h := &p.heap
	h.mu.Lock()
	s := h.alloc(classPages[c], 1, spanSlab)
	if s != nil {
		for pg := s.start + 1; pg+1 < s.end(); pg++ {
			h.pagemap[pg].Store(s)
		}
		h.slabPages += uint64(s.npages)
	}
	h.mu.Unlock()
	if s == nil {
		return nil
	}
	s.class = uint8(c)
	n := s.npages * pageSize / classSize[c]
	s.nelems = n
	s.free = make([]uint64, (n+63)/64)
	for i := range s.free {
		s.free[i] = ^uint64(0)
	}
	if n%64 != 0 {
		s.free[len(s.free)-1] = 1<<(n%64) - 1
	}
	s.nfree = n
	s.hint = 0
	return s
}

// trimEmptySlabs gives every slab whose objects are all free back to the
// page heap.
func (p *Pool) trimEmptySlabs() {
	for c := 1; c < nclass; c++ {
		ct := &p.centrals[c]
		ct.mu.Lock()
		for s := ct.partial; s != nil; {
			next := s.next
			if s.nfree == s.nelems && s.corrupt == 0 {
				ct.remove(s)
				ct.nslabs--
				ct.nempty--
				p.heap.mu.Lock()
				p.heap.slabPages -= uint64(s.npages)
				p.heap.free(s)
				p.heap.mu.Unlock()
			}
			s = next
		}
		ct.mu.Unlock()
	}
}
