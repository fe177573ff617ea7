package vmem

import (
	"fmt"
	"math/bits"
)

// Check verifies the allocator's structures, as vmem_check: spans tile the
// pool, free extents are coalesced and listed once, the page map names
// every span's ends, slabs' free counts match their bitmaps, the
// counters add up, and no object was freed twice into its slab. It holds
// the page heap's and the classes' locks meanwhile; the per-P caches keep
// running, so their contents are counted but not cross-checked. err is
// ErrClosed on a closed pool; problems lists what is wrong (none: the pool
// is consistent).
func (p *Pool) Check() (problems []error, err error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	for c := range p.centrals {
		p.centrals[c].mu.Lock()
		defer p.centrals[c].mu.Unlock()
	}
	h := &p.heap
	h.mu.Lock()
	defer h.mu.Unlock()
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("vmem: check: "+format, args...))
	}
	listed := map[*span]bool{}
	for k := range h.bins {
		if (h.bins[k] != nil) != (h.binMask[k/64]&(1<<(k%64)) != 0) {
			bad("free bin %d: mask bit disagrees with the list", k)
		}
		for s := h.bins[k]; s != nil; s = s.next {
			if s.npages != uint32(k) || s.state != spanFree || listed[s] {
				bad("free bin %d: extent of %d pages at page %d (state %d)", k, s.npages, s.start, s.state)
			}
			listed[s] = true
		}
	}
	for i, s := range h.large {
		if s.npages < nbins || s.state != spanFree || s.binIdx != i || listed[s] {
			bad("large free extent %d: %d pages at page %d", i, s.npages, s.start)
		}
		listed[s] = true
	}
	var free, dirty, slab, large uint64
	var prevFree bool
	slabs := make([]int, nclass)
	for pg := uint32(0); pg < h.npages; {
		s := h.pagemap[pg].Load()
		if s == nil || s.start != pg || s.npages == 0 || s.end() > h.npages {
			bad("page %d starts no span", pg)
			return problems, nil
		}
		if last := h.pagemap[s.end()-1].Load(); last != s {
			bad("span at page %d: its last page maps elsewhere", pg)
		}
		switch s.state {
		case spanFree:
			if prevFree {
				bad("free extents at page %d and before it not coalesced", pg)
			}
			if !listed[s] {
				bad("free extent at page %d is on no list", pg)
			}
			delete(listed, s)
			free += uint64(s.npages)
			for q := s.start; q < s.end(); q++ {
				if !h.isReleased(q) {
					dirty++
				}
			}
		case spanLarge:
			large += uint64(s.npages)
		case spanSlab:
			slab += uint64(s.npages)
			slabs[s.class]++
			for q := s.start; q < s.end(); q++ {
				if h.pagemap[q].Load() != s {
					bad("slab at page %d: page %d maps elsewhere", pg, q)
				}
			}
			n := 0
			for _, w := range s.free {
				n += bits.OnesCount64(w)
			}
			if uint32(n) != s.nfree || s.nfree > s.nelems {
				bad("slab at page %d (class %d): %d free objects, bitmap says %d", pg, s.class, s.nfree, n)
			}
			if (s.nfree > 0) != s.inList {
				bad("slab at page %d: %d free objects, listed %v", pg, s.nfree, s.inList)
			}
			if s.corrupt > 0 {
				bad("slab at page %d (class %d): %d objects freed twice", pg, s.class, s.corrupt)
			}
		default:
			bad("span at page %d in state %d", pg, s.state)
		}
		if s.state != spanFree {
			for q := s.start; q < s.end(); q++ {
				if h.isReleased(q) {
					bad("page %d in use is marked released", q)
					break
				}
			}
		}
		prevFree = s.state == spanFree
		pg = s.end()
	}
	if len(listed) != 0 {
		bad("%d listed free extents are not in the pool's tiling", len(listed))
	}
	if free != h.freePages || dirty != h.dirtyPages || slab != h.slabPages || large != h.largePages {
		bad("page counts: free %d/%d, backed free %d/%d, slab %d/%d, large %d/%d (walked/counted)",
			free, h.freePages, dirty, h.dirtyPages, slab, h.slabPages, large, h.largePages)
	}
	for c := 1; c < nclass; c++ {
		ct := &p.centrals[c]
		if slabs[c] != ct.nslabs {
			bad("class %d: %d slabs, counted %d", c, slabs[c], ct.nslabs)
		}
		if ct.corrupt > 0 {
			bad("class %d: %d objects freed twice", c, ct.corrupt)
		}
		empty := 0
		for s := ct.partial; s != nil; s = s.next {
			if s.state != spanSlab || int(s.class) != c || !s.inList {
				bad("class %d: listed slab at page %d is not one of its slabs", c, s.start)
				break
			}
			if s.nfree == s.nelems {
				empty++
			}
		}
		if empty != ct.nempty {
			bad("class %d: %d empty slabs, counted %d", c, empty, ct.nempty)
		}
	}
	return problems, nil
}
