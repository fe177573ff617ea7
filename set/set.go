package set

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
)

// Coalescing says whether a new part is mapped right after the previous
// part map, extending it (pmemset_coalescing).
type Coalescing uint8

const (
	// CoalescingNone: each part is a part map of its own (the default).
	CoalescingNone Coalescing = iota
	// CoalescingOpportunistic: extend the previous part map when the
	// addresses after it are free, else start a new part map.
	CoalescingOpportunistic
	// CoalescingFull: extend the previous part map or fail with
	// ErrCannotCoalesce.
	CoalescingFull
)

// Config configures a Set (pmemset_config).
type Config struct {
	// RequiredGranularity is the coarsest store granularity the caller
	// can work with; a part that can only offer a coarser one is refused.
	RequiredGranularity core.Granularity
	// AcceptableStates is the set of part states (see SDS) in which a
	// part may be mapped; zero means StateOK only.
	AcceptableStates PartState
	// Reservation, if not nil, is where parts are mapped
	// (pmemset_config_set_reservation): a new part map at the lowest
	// offset of it with room for the part, a coalesced part right after
	// its part map when that range of the reservation is free. A part
	// that fits nowhere fails with ErrCannotFitPartMap. The reservation
	// stays the caller's: removed parts give their range back to it, and
	// the caller closes it after the set.
	Reservation *core.Reservation
	// OnEvent, if not nil, is called for every event, in order, on the
	// goroutine that caused it, with the Set unlocked: it may call the
	// Set's data methods (to persist an SDS kept in the set, say).
	// Sources are not locked: a Source mapped by several sets at once
	// must be mapped from one goroutine.
	OnEvent func(*Set, Event)
}

// MapConfig says which part of a source to map (pmemset_map_config):
// Length bytes from Offset, multiples of the source's alignment; Length
// zero means the whole source from Offset.
type MapConfig struct {
	Offset, Length int64
}

// Set is a persistent memory set (struct pmemset): parts of sources mapped
// into part maps, each one contiguous range of one or more parts, with one
// store granularity and one persist path over all of them. Its methods may
// be called from several goroutines; the data methods take a read lock,
// mapping and removing parts a write lock.
type Set struct {
	cfg        Config
	mu         sync.RWMutex
	coalescing Coalescing
	g          core.Granularity
	gValid     bool
	parts      []*part    // by address
	pmaps      []*PartMap // by address
	prev       *PartMap   // the part map the last part went to
	pending    []Event    // events queued under the write lock
	owned      []*Source  // sources MapReplica opened, closed by Close
}

// part is one mapped part: a core.Map over Length bytes of src.
type part struct {
	m   *core.Map
	src *Source
	pm  *PartMap
}

func (p *part) addr() uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(p.m.Bytes()))) }
func (p *part) end() uintptr  { return p.addr() + uintptr(p.m.Size()) }

// PartMap is a contiguous range of a set: one part, or several coalesced.
//
// A part map is referenced as in libpmemset: FirstPartMap, NextPartMap
// and PartMapAt each take a reference, which the caller gives back with
// Drop. A referenced part map stays in the set: RemovePartMap refuses one
// referenced by anyone but its caller, RemoveRange one referenced at all
// (ErrPartMapInUse); only Close removes it anyway. The part map Map
// returns carries no reference (pmemset_map gives a descriptor only).
type PartMap struct {
	set   *Set
	parts []*part // in address order, contiguous
	refs  atomic.Int32
	gone  bool // removed from the set; under the set's write lock
}

// Drop gives back a reference taken by FirstPartMap, NextPartMap or
// PartMapAt (pmemset_part_map_drop); the part map stays in the set. A
// Drop without a reference panics, as a sync.WaitGroup's negative count
// does; after RemovePartMap, which takes the caller's reference with the
// part map, Drop does nothing.
func (pm *PartMap) Drop() {
	pm.set.mu.RLock()
	defer pm.set.mu.RUnlock()
	if pm.gone {
		return
	}
	if pm.refs.Add(-1) < 0 {
		pm.refs.Add(1)
		panic("set: PartMap.Drop without a reference")
	}
}

// Refs returns the number of references to pm.
func (pm *PartMap) Refs() int { return int(pm.refs.Load()) }

// Bytes returns the whole range of the part map (its descriptor); valid
// until the part map is removed.
func (pm *PartMap) Bytes() []byte {
	first, last := pm.parts[0], pm.parts[len(pm.parts)-1]
	return unsafe.Slice(unsafe.SliceData(first.m.Bytes()), last.end()-first.addr())
}

// Parts returns the number of parts in the part map.
func (pm *PartMap) Parts() int { return len(pm.parts) }

// New makes an empty set (pmemset_new).
func New(cfg Config) *Set {
	if cfg.AcceptableStates == 0 {
		cfg.AcceptableStates = StateOK
	}
	return &Set{cfg: cfg}
}

// SetCoalescing sets how later parts are placed
// (pmemset_set_contiguous_part_coalescing).
func (s *Set) SetCoalescing(c Coalescing) error {
	if c > CoalescingFull {
		return fmt.Errorf("set: coalescing %d: %w", c, core.ErrInvalidArgument)
	}
	s.mu.Lock()
	s.coalescing = c
	s.mu.Unlock()
	return nil
}

// Granularity returns the store granularity of the set's parts
// (pmemset_get_store_granularity); ErrNoPartMapped before the first.
func (s *Set) Granularity() (core.Granularity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.gValid {
		return 0, ErrNoPartMapped
	}
	return s.g, nil
}

// event sends e to the callback; the caller holds no lock.
func (s *Set) event(e Event) {
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(s, e)
	}
}

// queue keeps e for unlock to send; the caller holds the write lock.
func (s *Set) queue(e Event) {
	if s.cfg.OnEvent != nil {
		s.pending = append(s.pending, e)
	}
}

// unlock releases the write lock, then sends the events queued under it,
// so that the callback may call the Set's methods.
func (s *Set) unlock() {
	evs := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, e := range evs {
		s.event(e)
	}
}

// Map maps a part of src into the set (pmemset_map) and returns the part
// map that holds it: a new one, or with coalescing the previous one,
// extended. The source is checked first: its shutdown state (if set) must
// give an acceptable state, and with bad-block detection each bad block is
// reported (EventBadBlock) and the map fails with ErrBadBlocks unless the
// callback cleared them all. A file source grows to fit the part unless
// it may not. Then EventPartAdd, and EventSDSUpdate for a source with a
// shutdown state, whose Refcount counts the part.
func (s *Set) Map(src *Source, mc MapConfig) (*PartMap, error) {
	if src == nil || src.src == nil {
		return nil, fmt.Errorf("set: map: no source: %w", core.ErrInvalidArgument)
	}
	if src.sds != nil {
		st, err := partState(src)
		if err != nil {
			return nil, err
		}
		if src.state != nil {
			*src.state = st
		}
		if st&s.cfg.AcceptableStates == 0 {
			return nil, fmt.Errorf("set: part state %#x not in %#x: %w", st, s.cfg.AcceptableStates, ErrUndesirablePartState)
		}
	}
	if src.bb {
		if err := s.checkBadBlocks(src); err != nil {
			return nil, err
		}
	}
	size, err := src.src.Size()
	if err != nil {
		return nil, fmt.Errorf("set: map: %w", err)
	}
	length := mc.Length
	if length == 0 {
		if size == 0 {
			return nil, ErrMapLengthUnset
		}
		length = size - mc.Offset
	}
	if mc.Offset < 0 || length <= 0 {
		return nil, fmt.Errorf("set: map: offset %d, length %d: %w", mc.Offset, length, core.ErrMapRange)
	}
	if err := src.ensureSize(mc.Offset + length); err != nil {
		return nil, err
	}
	cp := []core.Part{{Src: src.src, Offset: mc.Offset, Length: length}}
	ccfg := &core.Config{RequiredGranularity: s.cfg.RequiredGranularity}

	s.mu.Lock()
	defer s.unlock()
	return s.place(src, cp, ccfg, s.prev, s.coalescing, uintptr(length)*4)
}

// mapPart maps a part of src into pm, coalescing fully, or as a new part
// map (pm nil) with room bytes of free addresses kept after it.
func (s *Set) mapPart(src *Source, mc MapConfig, pm *PartMap, room int64) (*PartMap, error) {
	cp := []core.Part{{Src: src.src, Offset: mc.Offset, Length: mc.Length}}
	ccfg := &core.Config{RequiredGranularity: s.cfg.RequiredGranularity}
	s.mu.Lock()
	defer s.unlock()
	if pm == nil {
		return s.place(src, cp, ccfg, nil, CoalescingOpportunistic, uintptr(room))
	}
	return s.place(src, cp, ccfg, pm, CoalescingFull, 0)
}

// place maps cp after the last part of pm as coalescing says, or as a new
// part map (with room bytes of free addresses after it, when it is to be
// extended), checks its granularity and records it.
func (s *Set) place(src *Source, cp []core.Part, ccfg *core.Config, pm *PartMap, coalescing Coalescing, room uintptr) (*PartMap, error) {
	var m *core.Map
	var err error
	if r := s.cfg.Reservation; r != nil {
		if m, pm, err = s.placeIn(r, cp, ccfg, pm, coalescing); err != nil {
			return nil, err
		}
	} else if coalescing != CoalescingNone && pm != nil {
		last := pm.parts[len(pm.parts)-1]
		m, err = core.NewPartsMapAt(unsafe.Add(unsafe.Pointer(unsafe.SliceData(last.m.Bytes())), last.m.Size()), cp, ccfg)
		if errors.Is(err, core.ErrAddressInUse) {
			if coalescing == CoalescingFull {
				return nil, fmt.Errorf("set: map: %w: %w", ErrCannotCoalesce, err)
			}
			err = nil
		} else if err != nil {
			return nil, fmt.Errorf("set: map: %w", err)
		}
	}
	if m == nil && s.cfg.Reservation == nil {
		pm = nil
		m, err = s.mapFresh(cp, ccfg, coalescing != CoalescingNone, room)
		if err != nil {
			return nil, fmt.Errorf("set: map: %w", err)
		}
	}
	if s.gValid && m.Granularity() != s.g {
		g := m.Granularity()
		_ = m.Close()
		return nil, fmt.Errorf("set: map: part granularity %v, set %v: %w", g, s.g, ErrGranularityMismatch)
	}
	return s.addPart(m, src, pm), nil
}

// placeIn maps cp into the reservation r: after the last part of pm as
// coalescing says, else at the lowest offset with room (a new part map,
// pm nil on return).
func (s *Set) placeIn(r *core.Reservation, cp []core.Part, ccfg *core.Config, pm *PartMap, coalescing Coalescing) (*core.Map, *PartMap, error) {
	length := int(cp[0].Length)
	base, size := uintptr(r.Addr()), uintptr(r.Size())
	if coalescing != CoalescingNone && pm != nil {
		end := pm.parts[len(pm.parts)-1].end()
		var err error
		if end > base && end-base <= size && uintptr(length) <= size-(end-base) {
			var m *core.Map
			if m, err = core.NewPartsMapIn(r, int(end-base), cp, ccfg); err == nil {
				return m, pm, nil
			} else if !errors.Is(err, core.ErrAddressInUse) {
				return nil, nil, fmt.Errorf("set: map: %w", err)
			}
		} else {
			err = fmt.Errorf("%d bytes at %#x: past the end of the reservation", length, end)
		}
		if coalescing == CoalescingFull {
			return nil, nil, fmt.Errorf("set: map: %w: %w", ErrCannotCoalesce, err)
		}
	}
	align, err := cp[0].Src.Alignment()
	if err != nil {
		return nil, nil, fmt.Errorf("set: map: %w", err)
	}
	if cp[0].Offset%align != 0 || cp[0].Length%align != 0 {
		return nil, nil, fmt.Errorf("set: map: offset %d, length %d not multiples of %d: %w", cp[0].Offset, cp[0].Length, align, core.ErrLengthUnaligned)
	}
	// As libpmemset: from offset 0, past each mapping in the way.
	for off := 0; off+length <= int(size); {
		if a := base + uintptr(off); a%uintptr(align) != 0 {
			off += int(uintptr(align) - a%uintptr(align))
			continue
		}
		if _, end, found := r.Find(off, length); found {
			off = end
			continue
		}
		m, err := core.NewPartsMapIn(r, off, cp, ccfg)
		if errors.Is(err, core.ErrAddressInUse) {
			continue // taken since Find: look again
		}
		if err != nil {
			return nil, nil, fmt.Errorf("set: map: %w", err)
		}
		return m, nil, nil
	}
	return nil, nil, fmt.Errorf("set: map: %d bytes in a reservation of %d: %w", length, size, ErrCannotFitPartMap)
}

// MapMemory adds m, memory the caller mapped through core (a file region,
// a replicated or simulated mapping), to the set as one part of no
// source; the set owns m from then on and closes it when the part is
// removed. It has no libpmemset counterpart: it lets the set's data path
// run over any core.Map (the crash simulator's, say). The granularity
// rules apply as to Map; with coalescing m joins the previous part map if
// it starts where that one ends (CoalescingFull fails if not).
func (s *Set) MapMemory(m *core.Map) (*PartMap, error) {
	if m == nil || m.Size() == 0 {
		return nil, fmt.Errorf("set: map memory: empty: %w", core.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.unlock()
	if g := m.Granularity(); g > s.cfg.RequiredGranularity {
		return nil, fmt.Errorf("set: map memory: granularity %v, required %v: %w", g, s.cfg.RequiredGranularity, ErrGranularityNotSupported)
	}
	if s.gValid && m.Granularity() != s.g {
		return nil, fmt.Errorf("set: map memory: granularity %v, set %v: %w", m.Granularity(), s.g, ErrGranularityMismatch)
	}
	pm := s.prev
	if s.coalescing == CoalescingNone || pm == nil {
		pm = nil
	} else if pm.parts[len(pm.parts)-1].end() != partAddr(m) {
		if s.coalescing == CoalescingFull {
			return nil, fmt.Errorf("set: map memory: %w", ErrCannotCoalesce)
		}
		pm = nil
	}
	return s.addPart(m, &Source{}, pm), nil
}

// addPart records m, a part of src, in pm (nil: a new part map) and sends
// the events of a new part; the caller holds the write lock and has
// checked the granularity.
func (s *Set) addPart(m *core.Map, src *Source, pm *PartMap) *PartMap {
	s.g, s.gValid = m.Granularity(), true
	if pm == nil {
		pm = &PartMap{set: s}
		s.pmaps = insertByAddr(s.pmaps, pm, func(x *PartMap) uintptr { return x.parts[0].addr() }, func() uintptr { return partAddr(m) })
	}
	pt := &part{m: m, src: src, pm: pm}
	pm.parts = append(pm.parts, pt)
	s.parts = insertByAddr(s.parts, pt, (*part).addr, pt.addr)
	s.prev = pm
	src.uses++
	s.queue(Event{Type: EventPartAdd, Dst: pm.Bytes(), Source: src})
	if src.sds != nil {
		src.sds.Refcount++
		s.queue(Event{Type: EventSDSUpdate, Source: src, SDS: src.sds})
	}
	return pm
}

func partAddr(m *core.Map) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(m.Bytes()))) }

// insertByAddr inserts x into xs, kept in address order.
func insertByAddr[T any](xs []T, x T, addr func(T) uintptr, at func() uintptr) []T {
	a := at()
	i, _ := slices.BinarySearchFunc(xs, a, func(y T, a uintptr) int {
		switch ya := addr(y); {
		case ya < a:
			return -1
		case ya > a:
			return 1
		}
		return 0
	})
	return slices.Insert(xs, i, x)
}

// mapFresh maps a part at a new place. To be extended, the place has room
// bytes of free address space (a reservation given back), so that later
// parts can extend it; it falls back to any place.
func (s *Set) mapFresh(cp []core.Part, ccfg *core.Config, extend bool, room uintptr) (*core.Map, error) {
	if !extend {
		return core.NewPartsMap(cp, ccfg)
	}
	const align = 2 << 20
	n := max(room, uintptr(cp[0].Length)) + align
	res, err := unix.MmapPtr(-1, 0, nil, n, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return core.NewPartsMap(cp, ccfg)
	}
	_ = unix.MunmapPtr(res, n)
	at := unsafe.Add(res, (uintptr(res)+align-1)&^(align-1)-uintptr(res))
	m, err := core.NewPartsMapAt(at, cp, ccfg)
	if errors.Is(err, core.ErrAddressInUse) {
		return core.NewPartsMap(cp, ccfg)
	}
	return m, err
}

// checkBadBlocks reports each bad block of src (EventBadBlock) and fails
// unless the callback cleared them all, then says so
// (EventBadBlocksCleared).
func (s *Set) checkBadBlocks(src *Source) error {
	bbs, err := src.src.BadBlocks()
	if err != nil {
		return fmt.Errorf("set: bad blocks: %w", err)
	}
	if len(bbs) == 0 {
		return nil
	}
	for _, bb := range bbs {
		s.event(Event{Type: EventBadBlock, Source: src, BadBlock: bb})
	}
	if bbs, err = src.src.BadBlocks(); err != nil {
		return fmt.Errorf("set: bad blocks: %w", err)
	}
	if len(bbs) != 0 {
		return fmt.Errorf("set: %d bad blocks in the source: %w", len(bbs), ErrBadBlocks)
	}
	s.event(Event{Type: EventBadBlocksCleared, Source: src})
	return nil
}
