package core

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Replicate returns a Map over the first size bytes of primary whose
// persist path also reaches every replica: the persister of a poolset with
// local replicas. Each Persist, Flush, Memmove and Memset is done on the
// primary first and then, for the same range, copied into each replica at
// the same offset and persisted there (in replica order), so that a crash
// leaves every replica equal to or older than the primary, never newer.
// The copy covers the whole cache lines of the range, as a CPU flush
// does: stores that reached the primary's persistence domain because they
// share a flushed line reach the replicas too. Copies are serialised, so
// that of two persists of one line the later copy lands last.
// Bytes before from are never copied: each replica keeps its own pool
// header there. Stores the caller makes without persisting reach the
// replicas only when their range is persisted.
//
// Every replica must be at least size bytes. The returned Map has the
// coarsest granularity of all, reports the first persist failure of any
// (Err), and its Close closes the primary and every replica.
func Replicate(primary *Map, replicas []*Map, size, from int) (*Map, error) {
	if size < 0 || size > primary.Size() || from < 0 || from > size {
		return nil, fmt.Errorf("core: replicate: size %d, from %d, primary %d bytes: %w", size, from, primary.Size(), ErrInvalidArgument)
	}
	g := primary.Granularity()
	for i, r := range replicas {
		if r.Size() < size {
			return nil, fmt.Errorf("core: replicate: replica %d has %d bytes, need %d: %w", i+1, r.Size(), size, ErrMapRange)
		}
		g = max(g, r.Granularity())
	}
	data := primary.Bytes()[:size]
	p := &replicatedPersister{primary: primary, replicas: replicas, from: from, size: size}
	if size > 0 {
		p.base = uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	}
	m := NewMemoryMap(data, g, p, func() error {
		errs := []error{primary.Close()}
		for _, r := range replicas {
			errs = append(errs, r.Close())
		}
		return errors.Join(errs...)
	})
	return m, nil
}

// replicatedPersister is Replicate's persist path.
type replicatedPersister struct {
	primary  *Map
	replicas []*Map
	base     uintptr
	from     int
	size     int        // bytes replicated: the replicas' copies end here
	mu       sync.Mutex // serialises the copies into the replicas
}

// lineSize is the unit of the copies into the replicas: a cache line.
const lineSize = 64

var _ Persister = (*replicatedPersister)(nil)

// each calls fn, under p.mu, for the cache lines of b (inside the
// primary) at or after from, with the same range in each replica.
func (p *replicatedPersister) each(b []byte, fn func(r *Map, src, dst []byte)) {
	if len(b) == 0 {
		return
	}
	data := p.primary.Bytes()[:p.size]
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - p.base)
	start := max(off&^(lineSize-1), p.from)
	end := min((off+len(b)+lineSize-1)&^(lineSize-1), len(data))
	if start >= end {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.replicas {
		fn(r, data[start:end], r.Bytes()[start:end])
	}
}

func (p *replicatedPersister) Flush(b []byte) {
	p.primary.Flush(b)
	p.each(b, func(r *Map, src, dst []byte) { r.Memmove(dst, src, MemNoDrain) })
}

func (p *replicatedPersister) Drain() {
	p.primary.Drain()
	for _, r := range p.replicas {
		r.Drain()
	}
}

func (p *replicatedPersister) Persist(b []byte) {
	p.primary.Persist(b)
	p.each(b, func(r *Map, src, dst []byte) { r.Memmove(dst, src, 0) })
}

func (p *replicatedPersister) Memmove(dst, src []byte, flags MemFlags) {
	p.primary.Memmove(dst, src, flags)
	n := min(len(dst), len(src))
	if p.inside(src[:n]) {
		// The source may have been overwritten by the move: copy what
		// the primary holds now.
		p.each(dst[:n], func(r *Map, from, to []byte) { r.Memmove(to, from, flags&^storeFlags) })
		return
	}
	// The caller's buffer is likely in the CPU caches, the primary's
	// lines just written with non-temporal stores are not: store the
	// replicas from the buffer, with the caller's flags, and copy from the
	// primary only the rest of the first and last cache lines.
	p.eachEdged(dst[:n], func(r *Map, to []byte) { r.Memmove(to, src[:n], flags) })
}

func (p *replicatedPersister) Memset(dst []byte, c byte, flags MemFlags) {
	p.primary.Memset(dst, c, flags)
	p.eachEdged(dst, func(r *Map, to []byte) { r.Memset(to, c, flags) })
}

// storeFlags are the MemFlags that choose how stores are made, not what
// is persisted.
const storeFlags = MemNonTemporal | MemTemporal | MemWC | MemWB

// inside reports whether b overlaps the primary's mapping.
func (p *replicatedPersister) inside(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	size := uintptr(p.primary.Size())
	return a+uintptr(len(b)) > p.base && a < p.base+size
}

// eachEdged is each for a store to b that fn repeats in each replica (at
// the same offset, b's length): under p.mu, the parts of b's first and last
// cache lines outside b are copied from the primary and fn stores b
// itself. Bytes before from are left alone; fn is not called when b lies
// partly before from, each then copies the lines instead.
func (p *replicatedPersister) eachEdged(b []byte, fn func(r *Map, dst []byte)) {
	if len(b) == 0 {
		return
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - p.base)
	if off < p.from {
		p.each(b, func(r *Map, from, to []byte) { r.Memmove(to, from, 0) })
		return
	}
	data := p.primary.Bytes()[:p.size]
	start := max(off&^(lineSize-1), p.from)
	end := min((off+len(b)+lineSize-1)&^(lineSize-1), len(data))
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.replicas {
		rb := r.Bytes()
		if start < off {
			r.Memmove(rb[start:off], data[start:off], MemNoDrain)
		}
		if e := off + len(b); e < end {
			r.Memmove(rb[e:end], data[e:end], MemNoDrain)
		}
		fn(r, rb[off:off+len(b)])
	}
}

func (p *replicatedPersister) Err() error {
	if err := p.primary.Err(); err != nil {
		return err
	}
	for _, r := range p.replicas {
		if err := r.Err(); err != nil {
			return err
		}
	}
	return nil
}
