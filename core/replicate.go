package core

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	p := &replicatedPersister{from: from}
	if size > 0 {
		p.base = uintptr(unsafe.Pointer(unsafe.SliceData(primary.Bytes())))
	}
	return p.mapOf(primary, replicas, size, g), nil
}

// ReplicateGrown returns a Map over the first size bytes of primary that
// shares the persist path of prev, a Map Replicate (or ReplicateGrown)
// returned, which from now on replicates size bytes into replicas: for a
// pool whose replicas have grown in place. primary and each replica must
// start at the same address as those prev was made of (only longer), and
// size be no less than prev's. prev stays valid; its persist path, shared
// with the new Map, covers the grown range too (so a caller holding
// prev.Persister() persists the grown bytes into the replicas as well).
// Close of the new Map closes primary and every replica.
func ReplicateGrown(prev *Map, primary *Map, replicas []*Map, size int) (*Map, error) {
	p, ok := prev.Persister().(*replicatedPersister)
	if !ok {
		return nil, fmt.Errorf("core: replicate grown: not a replicated Map: %w", ErrInvalidArgument)
	}
	old := p.state.Load()
	if size < old.size || size > primary.Size() || len(replicas) != len(old.replicas) ||
		(size > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(primary.Bytes()))) != p.base) {
		return nil, fmt.Errorf("core: replicate grown: size %d (was %d), primary %d bytes, %d replicas (were %d): %w",
			size, old.size, primary.Size(), len(replicas), len(old.replicas), ErrInvalidArgument)
	}
	g := primary.Granularity()
	for i, r := range replicas {
		if r.Size() < size || unsafe.SliceData(r.Bytes()) != unsafe.SliceData(old.replicas[i].Bytes()) {
			return nil, fmt.Errorf("core: replicate grown: replica %d has %d bytes, need %d at its old address: %w", i+1, r.Size(), size, ErrMapRange)
		}
		g = max(g, r.Granularity())
	}
	return p.mapOf(primary, replicas, size, g), nil
}

// mapOf makes primary, replicas and size p's state and returns the Map of
// the first size bytes of primary with p as its persist path.
func (p *replicatedPersister) mapOf(primary *Map, replicas []*Map, size int, g Granularity) *Map {
	p.state.Store(&replicaState{primary: primary, replicas: replicas, size: size})
	return NewMemoryMap(primary.Bytes()[:size], g, p, func() error {
		errs := []error{primary.Close()}
		for _, r := range replicas {
			errs = append(errs, r.Close())
		}
		return errors.Join(errs...)
	})
}

// replicatedPersister is Replicate's persist path.
type replicatedPersister struct {
	state atomic.Pointer[replicaState]
	base  uintptr
	from  int
	mu    sync.Mutex // serialises the copies into the replicas
}

// replicaState is what a replicated persist path copies between: replaced
// whole when the replicas grow (ReplicateGrown).
type replicaState struct {
	primary  *Map
	replicas []*Map
	size     int // bytes replicated: the replicas' copies end here
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
	st := p.state.Load()
	data := st.primary.Bytes()[:st.size]
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - p.base)
	start := max(off&^(lineSize-1), p.from)
	end := min((off+len(b)+lineSize-1)&^(lineSize-1), len(data))
	if start >= end {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range st.replicas {
		fn(r, data[start:end], r.Bytes()[start:end])
	}
}

func (p *replicatedPersister) Flush(b []byte) {
	p.state.Load().primary.Flush(b)
	p.each(b, func(r *Map, src, dst []byte) { r.Memmove(dst, src, MemNoDrain) })
}

func (p *replicatedPersister) Drain() {
	st := p.state.Load()
	st.primary.Drain()
	for _, r := range st.replicas {
		r.Drain()
	}
}

func (p *replicatedPersister) Persist(b []byte) {
	p.state.Load().primary.Persist(b)
	p.each(b, func(r *Map, src, dst []byte) { r.Memmove(dst, src, 0) })
}

func (p *replicatedPersister) Memmove(dst, src []byte, flags MemFlags) {
	p.state.Load().primary.Memmove(dst, src, flags)
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
	p.state.Load().primary.Memset(dst, c, flags)
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
	size := uintptr(p.state.Load().primary.Size())
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
	st := p.state.Load()
	data := st.primary.Bytes()[:st.size]
	start := max(off&^(lineSize-1), p.from)
	end := min((off+len(b)+lineSize-1)&^(lineSize-1), len(data))
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range st.replicas {
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
	st := p.state.Load()
	if err := st.primary.Err(); err != nil {
		return err
	}
	for _, r := range st.replicas {
		if err := r.Err(); err != nil {
			return err
		}
	}
	return nil
}
