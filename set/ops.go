package set

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
)

// FirstPartMap returns the part map at the lowest address, or nil
// (pmemset_first_part_map), with a reference to Drop.
func (s *Set) FirstPartMap() *PartMap {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.pmaps) == 0 {
		return nil
	}
	return s.ref(s.pmaps[0])
}

// NextPartMap returns the part map after pm in address order, or nil
// (pmemset_next_part_map), with a reference to Drop. pm may be one that
// was removed meanwhile: the next is then the first after its address.
func (s *Set) NextPartMap(pm *PartMap) *PartMap {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := pm.parts[0].addr()
	for _, x := range s.pmaps {
		if x.parts[0].addr() > a {
			return s.ref(x)
		}
	}
	return nil
}

// PartMapAt returns the part map holding the byte at p
// (pmemset_part_map_by_address), with a reference to Drop, or
// ErrPartNotFound.
func (s *Set) PartMapAt(p *byte) (*PartMap, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if pt := s.partAt(uintptr(unsafe.Pointer(p))); pt != nil {
		return s.ref(pt.pm), nil
	}
	return nil, ErrPartNotFound
}

// ref takes a reference to pm; the caller holds a lock.
func (s *Set) ref(pm *PartMap) *PartMap {
	pm.refs.Add(1)
	return pm
}

// partAt returns the part holding address a, or nil.
func (s *Set) partAt(a uintptr) *part {
	lo, hi := 0, len(s.parts)
	for lo < hi {
		mid := (lo + hi) / 2
		switch p := s.parts[mid]; {
		case a < p.addr():
			hi = mid
		case a >= p.end():
			lo = mid + 1
		default:
			return p
		}
	}
	return nil
}

// RemovePartMap unmaps every part of pm (pmemset_remove_part_map): it
// deep-flushes the range, sends EventPartRemove, unmaps the parts, and
// sends EventSDSUpdate for each part whose source has a shutdown state
// (Refcount one less). It fails with ErrPartMapInUse, removing nothing,
// when pm has more than one reference (the caller's): others still use
// it. The caller's reference goes with the part map.
func (s *Set) RemovePartMap(pm *PartMap) error { return s.removePartMap(pm, false) }

// removePartMap is RemovePartMap; force removes a referenced part map too.
func (s *Set) removePartMap(pm *PartMap, force bool) error {
	// A failed deep flush does not keep the parts mapped (Close must
	// end); it is reported with the removal's result.
	ferr := s.DeepFlush(pm.Bytes())
	s.mu.Lock()
	err := s.removeLocked(pm, force)
	s.unlock()
	if errors.Is(err, ErrPartNotFound) {
		return err
	}
	return errors.Join(ferr, err)
}

func (s *Set) removeLocked(pm *PartMap, force bool) error {
	i := -1
	for j, x := range s.pmaps {
		if x == pm {
			i = j
		}
	}
	if i < 0 {
		return ErrPartNotFound
	}
	if n := pm.refs.Load(); n > 1 && !force {
		return fmt.Errorf("set: remove part map: %d references: %w", n, ErrPartMapInUse)
	}
	s.queue(Event{Type: EventPartRemove, Dst: pm.Bytes()})
	var errs []error
	for _, pt := range pm.parts {
		errs = append(errs, s.dropPart(pt))
	}
	s.dropPartMap(i)
	return errors.Join(errs...)
}

// dropPart unmaps pt and forgets it, and counts it off its source's
// shutdown state; the caller holds the write lock.
func (s *Set) dropPart(pt *part) error {
	err := pt.m.Close()
	for k, x := range s.parts {
		if x == pt {
			s.parts = slices.Delete(s.parts, k, k+1)
			break
		}
	}
	pt.src.uses--
	if pt.src.sds != nil {
		pt.src.sds.Refcount--
		s.queue(Event{Type: EventSDSUpdate, Source: pt.src, SDS: pt.src.sds})
	}
	return err
}

// dropPartMap forgets part map i, whose parts are gone.
func (s *Set) dropPartMap(i int) {
	pm := s.pmaps[i]
	pm.gone = true
	pm.refs.Store(0)
	s.pmaps = slices.Delete(s.pmaps, i, i+1)
	if s.prev == pm {
		// As libpmemset: the previous part map becomes the one before
		// (or else after) the removed one.
		s.prev = nil
		if i > 0 {
			s.prev = s.pmaps[i-1]
		} else if len(s.pmaps) > 0 {
			s.prev = s.pmaps[0]
		}
	}
}

// RemoveRange removes every part that overlaps b (pmemset_remove_range):
// EventRemoveRange, a deep flush of b, then the parts are unmapped whole,
// as libpmemset removes whole parts. A part map that loses its middle
// parts is split in two; one that loses all of them is gone (without
// EventPartRemove, as in C). Parts of sources with a shutdown state send
// EventSDSUpdate. A range with no part removes nothing. A referenced part
// map in the range fails it with ErrPartMapInUse before anything is
// removed (libpmemset removes the part maps before the first referenced
// one).
func (s *Set) RemoveRange(b []byte) error {
	s.event(Event{Type: EventRemoveRange, Dst: b})
	_ = s.DeepFlush(b) // gaps between part maps are no error here
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	end := a + uintptr(len(b))
	s.mu.Lock()
	defer s.unlock()
	for _, pm := range s.pmaps {
		if n := pm.refs.Load(); n > 0 && pm.parts[0].addr() < end && pm.parts[len(pm.parts)-1].end() > a {
			return fmt.Errorf("set: remove range: part map with %d references: %w", n, ErrPartMapInUse)
		}
	}
	var errs []error
	for i := 0; i < len(s.pmaps); i++ {
		pm := s.pmaps[i]
		var before, after []*part
		for _, pt := range pm.parts {
			switch {
			case pt.end() <= a:
				before = append(before, pt)
			case pt.addr() >= end:
				after = append(after, pt)
			default:
				errs = append(errs, s.dropPart(pt))
			}
		}
		switch {
		case len(before)+len(after) == len(pm.parts):
			// untouched
		case len(before) == 0 && len(after) == 0:
			s.dropPartMap(i)
			i--
		case len(before) == 0 || len(after) == 0:
			pm.parts = append(before, after...)
		default:
			pm.parts = before
			rest := &PartMap{set: s, parts: after}
			for _, pt := range after {
				pt.pm = rest
			}
			s.pmaps = slices.Insert(s.pmaps, i+1, rest)
			i++
		}
	}
	return errors.Join(errs...)
}

// Close removes every part map (pmemset_delete), in address order,
// referenced or not.
func (s *Set) Close() error {
	var errs []error
	for {
		s.mu.RLock()
		var pm *PartMap
		if len(s.pmaps) > 0 {
			pm = s.pmaps[0]
		}
		s.mu.RUnlock()
		if pm == nil {
			s.mu.Lock()
			for _, src := range s.owned {
				errs = append(errs, src.Close())
			}
			s.owned = nil
			s.mu.Unlock()
			return errors.Join(errs...)
		}
		errs = append(errs, s.removePartMap(pm, true))
	}
}

// pieces calls f for each part's share of b, in address order (backwards
// when reverse); ErrOutsideSet if some byte of b is in no part.
func (s *Set) pieces(b []byte, reverse bool, f func(pt *part, from, to int)) error {
	if len(b) == 0 {
		return nil
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	end := a + uintptr(len(b))
	type piece struct {
		pt       *part
		from, to int
	}
	var small [4]piece // most ranges cross few parts: no allocation
	ps := small[:0]
	for at := a; at < end; {
		pt := s.partAt(at)
		if pt == nil {
			return fmt.Errorf("set: %#x: %w", at, ErrOutsideSet)
		}
		stop := min(end, pt.end())
		ps = append(ps, piece{pt, int(at - a), int(stop - a)})
		at = stop
	}
	for i := range ps {
		p := ps[i]
		if reverse {
			p = ps[len(ps)-1-i]
		}
		f(p.pt, p.from, p.to)
	}
	return nil
}

// Flush flushes b, a range of the set (pmemset_flush): EventFlush, then
// each part's share through that part's persist path.
func (s *Set) Flush(b []byte) error {
	s.event(Event{Type: EventFlush, Dst: b})
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pieces(b, false, func(pt *part, from, to int) { pt.m.Flush(b[from:to]) })
}

// Drain waits for earlier flushes and non-temporal stores (pmemset_drain),
// then sends EventDrain.
func (s *Set) Drain() {
	s.mu.RLock()
	s.drainLocked()
	s.mu.RUnlock()
	s.event(Event{Type: EventDrain})
}

// drainLocked fences; the caller holds the read lock.
func (s *Set) drainLocked() {
	if len(s.parts) > 0 {
		s.parts[0].m.Drain()
	} else {
		core.Drain()
	}
}

// Persist makes b durable (pmemset_persist): EventFlush, the flush of
// each part's share, one drain, EventDrain. With page granularity each
// share is written back with msync; Err reports a failure.
func (s *Set) Persist(b []byte) error {
	s.event(Event{Type: EventFlush, Dst: b})
	s.mu.RLock()
	err := s.pieces(b, false, func(pt *part, from, to int) { pt.m.Flush(b[from:to]) })
	if err == nil {
		s.drainLocked()
	}
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	s.event(Event{Type: EventDrain})
	return nil
}

// DeepFlush persists b and makes it durable beyond the platform's
// persistence domain, part by part (pmemset_deep_flush): file parts are
// written back with msync. The write-queue flush of a device DAX region is
// not done (a part map knows no region).
func (s *Set) DeepFlush(b []byte) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var errs []error
	err := s.pieces(b, false, func(pt *part, from, to int) {
		piece := b[from:to]
		errs = append(errs, pt.m.DeepFlush(piece))
		// A part's Map persists only; a file under a finer granularity
		// than the page cache's is written back to the device too.
		if pt.src.src != nil && !pt.src.src.IsDevDAX() && pt.m.Granularity() != core.GranularityPage {
			errs = append(errs, core.Msync(piece))
		}
	})
	return errors.Join(append(errs, err)...)
}

// Memcpy copies src to dst, a range of the set, and flushes it
// (pmemset_memcpy): EventCopy, each part's share copied with MemNoDrain,
// then, unless flags has MemNoDrain, one drain and EventDrain. dst and src
// must not overlap.
func (s *Set) Memcpy(dst, src []byte, flags core.MemFlags) error {
	return s.mem(EventCopy, dst, src, 0, flags)
}

// Memmove is Memcpy for ranges that may overlap (pmemset_memmove); the
// parts' shares are moved in the order that keeps the source intact.
func (s *Set) Memmove(dst, src []byte, flags core.MemFlags) error {
	return s.mem(EventMove, dst, src, 0, flags)
}

// Memset fills dst with c and flushes it (pmemset_memset), as Memcpy.
func (s *Set) Memset(dst []byte, c byte, flags core.MemFlags) error {
	return s.mem(EventSet, dst, nil, c, flags)
}

func (s *Set) mem(t EventType, dst, src []byte, c byte, flags core.MemFlags) error {
	if t != EventSet && len(src) < len(dst) {
		return fmt.Errorf("set: copy of %d bytes from %d: %w", len(dst), len(src), core.ErrInvalidArgument)
	}
	s.event(Event{Type: t, Dst: dst, Src: src, Value: c, Flags: flags})
	s.mu.RLock()
	reverse := t == EventMove && len(dst) > 0 &&
		uintptr(unsafe.Pointer(&dst[0])) > uintptr(unsafe.Pointer(&src[0]))
	err := s.pieces(dst, reverse, func(pt *part, from, to int) {
		switch t {
		case EventCopy:
			pt.m.Memcpy(dst[from:to], src[from:to], flags|core.MemNoDrain)
		case EventMove:
			pt.m.Memmove(dst[from:to], src[from:to], flags|core.MemNoDrain)
		default:
			pt.m.Memset(dst[from:to], c, flags|core.MemNoDrain)
		}
	})
	drain := err == nil && flags&core.MemNoDrain == 0
	if drain {
		s.drainLocked()
	}
	s.mu.RUnlock()
	if drain {
		s.event(Event{Type: EventDrain})
	}
	return err
}

// Err returns the first persist failure of any part (see core.Map.Err).
func (s *Set) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, pt := range s.parts {
		if err := pt.m.Err(); err != nil {
			return err
		}
	}
	return nil
}
