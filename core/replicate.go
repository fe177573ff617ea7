package core

import (
	"errors"
	"fmt"
	"unsafe"
)

// Replicate returns a Map over the first size bytes of primary whose
// persist path also reaches every replica: the persister of a poolset with
// local replicas. Each Persist, Flush, Memmove and Memset is done on the
// primary first and then, for the same range, copied into each replica at
// the same offset and persisted there (in replica order), so that a crash
// leaves every replica equal to or older than the primary, never newer.
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
}

var _ Persister = (*replicatedPersister)(nil)

// each calls fn for the part of b (inside the primary) at or after from,
// with the same range in each replica.
func (p *replicatedPersister) each(b []byte, fn func(r *Map, src, dst []byte)) {
	if len(b) == 0 {
		return
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - p.base)
	if off < p.from {
		skip := min(p.from-off, len(b))
		b, off = b[skip:], off+skip
		if len(b) == 0 {
			return
		}
	}
	for _, r := range p.replicas {
		fn(r, b, r.Bytes()[off:off+len(b)])
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
	p.each(dst[:n], func(r *Map, from, to []byte) { r.Memmove(to, from, flags) })
}

func (p *replicatedPersister) Memset(dst []byte, c byte, flags MemFlags) {
	p.primary.Memset(dst, c, flags)
	p.each(dst, func(r *Map, _, to []byte) { r.Memset(to, c, flags) })
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
