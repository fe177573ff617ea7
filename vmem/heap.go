package vmem

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// Span states.
const (
	spanDead  = iota // merged into a neighbour or split away: no range
	spanFree         // a free extent in the page heap
	spanLarge        // one allocation of whole pages
	spanSlab         // a slab of small objects of one class
)

// A span is a run of pages of the pool: a free extent, a large
// allocation, or a slab. Spans tile the pool. Its fields change only under
// the page heap's lock, except the slab fields, which belong to the
// class's central lock while the span is a slab.
type span struct {
	start  uint32 // first page
	npages uint32
	state  uint8
	class  uint8

	prev, next *span // free bin list, or the class's list of slabs with free objects
	binIdx     int   // index in heap.large while a large free extent, else -1

	// Slab fields.
	nelems  uint32   // objects in the slab
	nfree   uint32   // objects free in the slab (neither allocated nor cached)
	free    []uint64 // bit i set: object i is free in the slab
	hint    int      // first word of free that may have a set bit
	inList  bool     // on the class's list
	corrupt int      // frees of objects already free (double frees)
}

func (s *span) end() uint32 { return s.start + s.npages }

// nbins: free extents under nbins pages sit in exact-size lists; larger
// ones in one slice searched best-fit.
const nbins = 256

// A pageHeap manages the pool's pages as extents: allocation best fit
// (exact-size lists, then the smallest large extent, lowest address on a
// tie), freeing with coalescing of both neighbours, and release of free
// pages to the file once too many free pages are still backed.
type pageHeap struct {
	mu       sync.Mutex
	npages   uint32
	basePage uint32                 // the pool's first address in pages (alignment is absolute)
	pagemap  []atomic.Pointer[span] // first and last page of every span; every page of a slab

	bins    [nbins]*span
	binMask [nbins / 64]uint64
	large   []*span

	freePages               uint64 // pages in free extents
	dirtyPages              uint64 // free pages still backed by the file (not released)
	released                []uint64
	largePages              uint64 // pages of large allocations
	largeLive               uint64 // large allocations
	largeAllocs, largeFrees uint64
	slabPages               uint64
	nextSweep               uint64 // dirtyPages that triggers the next release sweep
	dirtyLimit              uint64
	release                 func(page, n uint32) bool // returns false once releasing is unsupported
	releases                uint64                    // pages released so far (a counter)
	noRelease               bool
	spare                   *span // dead spans for reuse (linked by next): a split allocates nothing
}

// newSpan returns a span for n pages from page start, reusing a dead one.
// A stale page-map entry may still name a reused span: lookups check that
// the page lies in the span's current range, and spans tile the pool, so
// such an entry is either right or rejected.
func (h *pageHeap) newSpan(start, n uint32) *span {
	s := h.spare
	if s == nil {
		return &span{start: start, npages: n, binIdx: -1}
	}
	h.spare = s.next
	*s = span{start: start, npages: n, binIdx: -1}
	return s
}

// kill marks s dead and keeps it for newSpan.
func (h *pageHeap) kill(s *span) {
	s.state = spanDead
	s.prev, s.next = nil, h.spare
	h.spare = s
}

func (h *pageHeap) init(npages uint32, dirtyLimit uint64, release func(page, n uint32) bool) {
	h.npages = npages
	h.pagemap = make([]atomic.Pointer[span], npages)
	h.released = make([]uint64, (npages+63)/64)
	// The file starts with no page touched: all of it counts as released.
	for i := range h.released {
		h.released[i] = ^uint64(0)
	}
	h.dirtyLimit = dirtyLimit
	h.nextSweep = dirtyLimit
	h.release = release
	for i := range h.bins {
		h.bins[i] = nil
	}
	s := &span{start: 0, npages: npages, state: spanFree, binIdx: -1}
	h.mapEnds(s)
	h.insertFree(s)
	h.freePages = uint64(npages)
}

// mapEnds points the page map's entries for s's first and last pages at s.
func (h *pageHeap) mapEnds(s *span) {
	h.pagemap[s.start].Store(s)
	h.pagemap[s.end()-1].Store(s)
}

func (h *pageHeap) insertFree(s *span) {
	s.state = spanFree
	if s.npages < nbins {
		n := s.npages
		s.prev, s.next = nil, h.bins[n]
		if s.next != nil {
			s.next.prev = s
		}
		h.bins[n] = s
		h.binMask[n/64] |= 1 << (n % 64)
		return
	}
	s.binIdx = len(h.large)
	h.large = append(h.large, s)
}

func (h *pageHeap) removeFree(s *span) {
	if s.npages < nbins {
		n := s.npages
		if s.prev != nil {
			s.prev.next = s.next
		} else {
			h.bins[n] = s.next
		}
		if s.next != nil {
			s.next.prev = s.prev
		}
		s.prev, s.next = nil, nil
		if h.bins[n] == nil {
			h.binMask[n/64] &^= 1 << (n % 64)
		}
		return
	}
	last := h.large[len(h.large)-1]
	h.large[s.binIdx] = last
	last.binIdx = s.binIdx
	h.large = h.large[:len(h.large)-1]
	s.binIdx = -1
}

// findFree returns the best-fitting free extent of at least n pages, or nil.
func (h *pageHeap) findFree(n uint32) *span {
	if n < nbins {
		for w := n / 64; w < nbins/64; w++ {
			m := h.binMask[w]
			if w == n/64 {
				m &= ^uint64(0) << (n % 64)
			}
			if m != 0 {
				return h.bins[w*64+uint32(bits.TrailingZeros64(m))]
			}
		}
	}
	var best *span
	for _, s := range h.large {
		if s.npages >= n && (best == nil || s.npages < best.npages ||
			s.npages == best.npages && s.start < best.start) {
			best = s
		}
	}
	return best
}

// alloc takes n pages aligned to align pages (a power of two) and returns
// them as a span in state st, or nil when no extent fits. Called with mu
// held.
func (h *pageHeap) alloc(n, align uint32, st uint8) *span {
	var s *span
	var lead uint32
	if align <= 1 {
		s = h.findFree(n)
	} else {
		s, lead = h.findFreeAligned(n, align)
	}
	if s == nil {
		return nil
	}
	h.removeFree(s)
	if lead > 0 {
		head := h.newSpan(s.start, lead)
		s.start += lead
		s.npages -= lead
		h.mapEnds(head)
		h.insertFree(head)
	}
	if s.npages > n {
		tail := h.newSpan(s.start+n, s.npages-n)
		s.npages = n
		h.mapEnds(tail)
		h.insertFree(tail)
	}
	h.mapEnds(s)
	s.state = st
	h.freePages -= uint64(n)
	h.dirtyPages -= uint64(n) - h.clearReleased(s.start, n)
	return s
}

// findFreeAligned returns the free extent (first fit by size, then the
// smallest large one) that holds n pages starting at a multiple of align,
// and the pages to skip to get there.
func (h *pageHeap) findFreeAligned(n, align uint32) (*span, uint32) {
	fits := func(s *span) (uint32, bool) {
		lead := (align - (h.basePage+s.start)%align) % align
		return lead, s.npages >= lead && s.npages-lead >= n
	}
	for k := min(n, nbins); k < nbins; k++ {
		for s := h.bins[k]; s != nil; s = s.next {
			if lead, ok := fits(s); ok {
				return s, lead
			}
		}
	}
	var best *span
	var bestLead uint32
	for _, s := range h.large {
		if lead, ok := fits(s); ok && (best == nil || s.npages < best.npages) {
			best, bestLead = s, lead
		}
	}
	return best, bestLead
}

// free returns s's pages to the heap, coalescing with free neighbours, and
// releases free pages to the file when too many are backed. Called with
// mu held.
func (h *pageHeap) free(s *span) {
	n := s.npages
	h.freePages += uint64(n)
	h.dirtyPages += uint64(n)
	if s.state == spanSlab {
		// Interior pages of a slab point at it; clear them so a stale
		// entry never names a slab again.
		for p := s.start + 1; p+1 < s.end(); p++ {
			h.pagemap[p].Store(nil)
		}
	}
	s.free = nil
	if s.start > 0 {
		if l := h.pagemap[s.start-1].Load(); l != nil && l.state == spanFree && l.end() == s.start {
			h.removeFree(l)
			s.start = l.start
			s.npages += l.npages
			h.kill(l)
		}
	}
	if e := s.end(); e < h.npages {
		if r := h.pagemap[e].Load(); r != nil && r.state == spanFree && r.start == e {
			h.removeFree(r)
			s.npages += r.npages
			h.kill(r)
		}
	}
	h.mapEnds(s)
	h.insertFree(s)
	if h.dirtyPages > h.nextSweep && !h.noRelease {
		h.sweep()
	}
}

// minRelease: free extents shorter than this (in pages) are not released:
// punching holes that small costs more page faults than it saves.
const minRelease = 16

// sweep releases the backed pages of every free extent of at least
// minRelease pages.
func (h *pageHeap) sweep() {
	each := func(s *span) bool {
		if s.npages < minRelease {
			return true
		}
		p := s.start
		for p < s.end() {
			// Find a run of unreleased pages.
			for p < s.end() && h.isReleased(p) {
				p++
			}
			q := p
			for q < s.end() && !h.isReleased(q) {
				q++
			}
			if q > p {
				if !h.release(p, q-p) {
					h.noRelease = true
					return false
				}
				h.setReleased(p, q-p)
				h.dirtyPages -= uint64(q - p)
				h.releases += uint64(q - p)
			}
			p = q
		}
		return true
	}
	for _, s := range h.large {
		if !each(s) {
			return
		}
	}
	for k := minRelease; k < nbins; k++ {
		for s := h.bins[k]; s != nil; s = s.next {
			if !each(s) {
				return
			}
		}
	}
	h.nextSweep = h.dirtyPages + h.dirtyLimit
}

func (h *pageHeap) isReleased(p uint32) bool { return h.released[p/64]&(1<<(p%64)) != 0 }

func (h *pageHeap) setReleased(p, n uint32) {
	for ; n > 0 && p%64 != 0; p, n = p+1, n-1 {
		h.released[p/64] |= 1 << (p % 64)
	}
	for ; n >= 64; p, n = p+64, n-64 {
		h.released[p/64] = ^uint64(0)
	}
	for ; n > 0; p, n = p+1, n-1 {
		h.released[p/64] |= 1 << (p % 64)
	}
}

// clearReleased clears the released bits of n pages from p and returns
// how many were set.
func (h *pageHeap) clearReleased(p, n uint32) uint64 {
	var c int
	for ; n > 0 && p%64 != 0; p, n = p+1, n-1 {
		if h.isReleased(p) {
			c++
			h.released[p/64] &^= 1 << (p % 64)
		}
	}
	for ; n >= 64; p, n = p+64, n-64 {
		c += bits.OnesCount64(h.released[p/64])
		h.released[p/64] = 0
	}
	for ; n > 0; p, n = p+1, n-1 {
		if h.isReleased(p) {
			c++
			h.released[p/64] &^= 1 << (p % 64)
		}
	}
	return uint64(c)
}

// largestFree returns the pages of the largest free extent. Called with
// mu held.
func (h *pageHeap) largestFree() uint32 {
	var m uint32
	for _, s := range h.large {
		m = max(m, s.npages)
	}
	if m > 0 {
		return m
	}
	for w := nbins/64 - 1; w >= 0; w-- {
		if h.binMask[w] != 0 {
			return uint32(w*64 + 63 - bits.LeadingZeros64(h.binMask[w]))
		}
	}
	return 0
}
