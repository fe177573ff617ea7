package vmem

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// Allocations are []byte slices of the pool's memory: len is the size
// asked for, cap the usable size (UsableSize), so appending within cap
// stays in the allocation. A zero-size request gets a slice of length 0
// and non-zero cap, distinct from every other live allocation, that Free
// accepts. Slices stay valid until they are freed or the pool is closed;
// the garbage collector does not scan them, so they must not hold the only
// reference to Go memory (New refuses types with Go pointers).

// Malloc allocates size bytes, as vmem_malloc; the memory is not zeroed.
// Its address is a multiple of 16.
func (p *Pool) Malloc(size int) ([]byte, error) {
	a, usable, err := p.malloc(size)
	if err != nil {
		return nil, fmt.Errorf("vmem: malloc %d bytes: %w", size, err)
	}
	return p.slice(a, size, usable), nil
}

// Calloc allocates n elements of size bytes each, zeroed, as vmem_calloc.
// A product that overflows is ErrNoMem, as in C.
func (p *Pool) Calloc(n, size int) ([]byte, error) {
	hi, total := bits.Mul(uint(n), uint(size))
	if n < 0 || size < 0 || hi != 0 || int(total) < 0 {
		return nil, fmt.Errorf("vmem: calloc %d×%d bytes: %w", n, size, ErrNoMem)
	}
	a, usable, err := p.malloc(int(total))
	if err != nil {
		return nil, fmt.Errorf("vmem: calloc %d bytes: %w", total, err)
	}
	b := p.slice(a, int(total), usable)
	clear(b)
	return b, nil
}

// AlignedAlloc allocates size bytes at an address that is a multiple of
// align, a power of two, as vmem_aligned_alloc.
func (p *Pool) AlignedAlloc(align, size int) ([]byte, error) {
	if align <= 0 || align&(align-1) != 0 || size < 0 {
		return nil, fmt.Errorf("vmem: aligned alloc of %d bytes at %d: %w", size, align, ErrInvalid)
	}
	a, usable, err := p.alignedAlloc(uintptr(align), uintptr(size))
	if err != nil {
		return nil, fmt.Errorf("vmem: aligned alloc of %d bytes at %d: %w", size, align, err)
	}
	return p.slice(a, size, usable), nil
}

// Strdup copies s into a new allocation followed by a NUL byte, as
// vmem_strdup: the result's length is len(s), the NUL sits at index
// len(s) (inside cap), for C code reading it as a string.
func (p *Pool) Strdup(s string) ([]byte, error) {
	b, err := p.Malloc(len(s) + 1)
	if err != nil {
		return nil, err
	}
	copy(b, s)
	b[len(s)] = 0
	return b[:len(s)], nil
}

// Free gives an allocation back, as vmem_free; b may be the slice any
// allocating call returned or any slice of it starting at its first byte
// (b[:0] too, as long as its cap is not zero). A nil or zero-cap slice is a
// no-op. Memory that is not an allocation of the pool is ErrNotAllocated;
// the double free of a small object is caught only when its slab gets it
// back, and counted by Check.
func (p *Pool) Free(b []byte) error {
	if cap(b) == 0 {
		return nil
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if err := p.free(a); err != nil {
		return fmt.Errorf("vmem: free %#x: %w", a, err)
	}
	return nil
}

// Realloc resizes an allocation to size bytes, as vmem_realloc: the
// contents up to the smaller of the old usable size and size are kept, the
// rest is not initialized. A zero-cap b is Malloc; size 0 frees b and
// returns nil. The result may be b resized in place (same class, or a
// large allocation shrinking or growing into a free neighbour) or a new
// allocation, b then being freed. On error b is left as it was.
func (p *Pool) Realloc(b []byte, size int) ([]byte, error) {
	if cap(b) == 0 {
		return p.Malloc(size)
	}
	if size == 0 {
		return nil, p.Free(b)
	}
	if size < 0 {
		return nil, fmt.Errorf("vmem: realloc to %d bytes: %w", size, ErrInvalid)
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	s, err := p.lookup(a)
	if err != nil {
		return nil, fmt.Errorf("vmem: realloc %#x: %w", a, err)
	}
	old := p.usable(s)
	n := uintptr(size)
	if s.state == spanSlab {
		if n <= maxSmall && sizeClass(n) == int(s.class) {
			return p.slice(a, size, old), nil
		}
	} else if n > maxSmall {
		if usable, ok := p.resizeLarge(s, n); ok {
			return p.slice(a, size, usable), nil
		}
	}
	na, usable, err := p.malloc(size)
	if err != nil {
		return nil, fmt.Errorf("vmem: realloc to %d bytes: %w", size, err)
	}
	nb := p.slice(na, size, usable)
	copy(nb, p.slice(a, int(min(old, n)), old))
	if err := p.free(a); err != nil {
		return nil, err
	}
	return nb, nil
}

// UsableSize returns how many bytes the allocation b starts holds, as
// vmem_malloc_usable_size; 0 for a zero-cap b.
func (p *Pool) UsableSize(b []byte) (int, error) {
	if cap(b) == 0 {
		return 0, nil
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	s, err := p.lookup(a)
	if err != nil {
		return 0, fmt.Errorf("vmem: usable size of %#x: %w", a, err)
	}
	return int(p.usable(s)), nil
}

func (p *Pool) usable(s *span) uintptr {
	if s.state == spanSlab {
		return uintptr(classSize[s.class])
	}
	return uintptr(s.npages) << pageShift
}

// slice returns the n bytes at a with capacity usable.
func (p *Pool) slice(a uintptr, n int, usable uintptr) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(p.ptr, a-p.base)), usable)[:n]
}

// malloc returns the address and usable size of a new allocation of size
// bytes.
func (p *Pool) malloc(size int) (uintptr, uintptr, error) {
	if p.closed.Load() {
		return 0, 0, ErrClosed
	}
	if size < 0 {
		return 0, 0, ErrInvalid
	}
	n := max(uintptr(size), 1)
	if n <= maxSmall {
		c := sizeClass(n)
		if a, ok := p.mallocSmall(c); ok {
			return a, uintptr(classSize[c]), nil
		}
		p.drainCache()
		if a, ok := p.mallocSlow(c); ok {
			return a, uintptr(classSize[c]), nil
		}
		return 0, 0, ErrNoMem
	}
	return p.mallocLarge(n, 1)
}

func (p *Pool) alignedAlloc(align, size uintptr) (uintptr, uintptr, error) {
	if p.closed.Load() {
		return 0, 0, ErrClosed
	}
	if align <= minAlign {
		return p.malloc(int(size))
	}
	n := max(size, align)
	if n <= maxSmall && align <= pageSize {
		// Slabs start on pages and every power of two is a class, so
		// the first class that is a multiple of align serves it.
		c := sizeClass(n)
		for classSize[c]%uint32(align) != 0 {
			c++
		}
		if a, ok := p.mallocSmall(c); ok {
			return a, uintptr(classSize[c]), nil
		}
		p.drainCache()
		if a, ok := p.mallocSlow(c); ok {
			return a, uintptr(classSize[c]), nil
		}
		return 0, 0, ErrNoMem
	}
	return p.mallocLarge(max(size, maxSmall+1), max(align>>pageShift, 1))
}

// mallocLarge allocates whole pages for n bytes, aligned to align pages.
func (p *Pool) mallocLarge(n, align uintptr) (uintptr, uintptr, error) {
	if n > uintptr(len(p.mem)) || align > uintptr(len(p.mem))>>pageShift {
		return 0, 0, ErrNoMem
	}
	npages := uint32((n + pageSize - 1) >> pageShift)
	h := &p.heap
	for try := 0; ; try++ {
		h.mu.Lock()
		s := h.alloc(npages, uint32(align), spanLarge)
		if s != nil {
			h.largePages += uint64(npages)
			h.largeLive++
			h.largeAllocs++
			h.mu.Unlock()
			return p.base + uintptr(s.start)<<pageShift, uintptr(npages) << pageShift, nil
		}
		h.mu.Unlock()
		if try > 0 {
			return 0, 0, ErrNoMem
		}
		p.drainCache()
	}
}

// lookup returns the span of the allocation starting at a.
func (p *Pool) lookup(a uintptr) (*span, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	off := a - p.base
	if a < p.base || off >= uintptr(len(p.mem)) {
		return nil, ErrNotAllocated
	}
	page := uint32(off >> pageShift)
	s := p.heap.pagemap[page].Load()
	if s == nil || page < s.start || page >= s.end() {
		return nil, ErrNotAllocated
	}
	rel := off - uintptr(s.start)<<pageShift
	switch s.state {
	case spanSlab:
		c := s.class
		i := uint32(uint64(uint32(rel)) * uint64(classDivMul[c]) >> 32)
		if uintptr(i)*uintptr(classSize[c]) != rel {
			return nil, ErrNotAllocated
		}
	case spanLarge:
		if rel != 0 {
			return nil, ErrNotAllocated
		}
	default:
		return nil, ErrNotAllocated
	}
	return s, nil
}

func (p *Pool) free(a uintptr) error {
	s, err := p.lookup(a)
	if err != nil {
		return err
	}
	if s.state == spanSlab {
		p.freeSmall(int(s.class), a)
		return nil
	}
	h := &p.heap
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.state != spanLarge || p.base+uintptr(s.start)<<pageShift != a {
		return ErrNotAllocated // freed meanwhile: a double free
	}
	h.largePages -= uint64(s.npages)
	h.largeLive--
	h.largeFrees++
	h.free(s)
	return nil
}

// resizeLarge resizes the large allocation s in place to n bytes: it
// shrinks by giving its tail back, or grows into a free right neighbour.
func (p *Pool) resizeLarge(s *span, n uintptr) (uintptr, bool) {
	want := uint32((n + pageSize - 1) >> pageShift)
	if uintptr(want) > uintptr(len(p.mem))>>pageShift {
		return 0, false
	}
	h := &p.heap
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.state != spanLarge {
		return 0, false
	}
	switch {
	case want == s.npages:
	case want < s.npages:
		tail := h.newSpan(s.start+want, s.npages-want)
		tail.state = spanLarge
		h.largePages -= uint64(tail.npages)
		s.npages = want
		h.mapEnds(s)
		h.mapEnds(tail)
		h.free(tail)
	default:
		e := s.end()
		if e >= h.npages {
			return 0, false
		}
		r := h.pagemap[e].Load()
		if r == nil || r.state != spanFree || r.start != e || s.npages+r.npages < want {
			return 0, false
		}
		h.removeFree(r)
		take := want - s.npages
		if r.npages > take {
			rest := h.newSpan(r.start+take, r.npages-take)
			h.mapEnds(rest)
			h.insertFree(rest)
		}
		h.kill(r)
		h.freePages -= uint64(take)
		h.dirtyPages -= uint64(take) - h.clearReleased(e, take)
		h.largePages += uint64(take)
		s.npages = want
		h.mapEnds(s)
	}
	return uintptr(s.npages) << pageShift, true
}
