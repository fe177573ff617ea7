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
	p := &replicatedPersister{primary: primary, replicas: replicas, from: from}
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
	data := p.primary.Bytes()
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
	p.each(dst[:n], func(r *Map, from, to []byte) { r.Memmove(to, from, flags&^(MemNonTemporal|MemTemporal|MemWC|MemWB)) })
}

func (p *replicatedPersister) Memset(dst []byte, c byte, flags MemFlags) {
	p.primary.Memset(dst, c, flags)
	p.each(dst, func(r *Map, from, to []byte) { r.Memmove(to, from, flags&^(MemNonTemporal|MemTemporal|MemWC|MemWB)) })
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
