// Package heap is libpmemobj's persistent heap in Go: zones of chunks,
// runs of equal units tracked by bitmaps, huge allocations of whole chunks,
// object headers, laid out as PMDK 1.12.1 lays them out (obj/layout), with
// a run-time allocator of its own.
//
// # Persistent state and run-time state
//
// The media says which blocks are allocated (a chunk header's type, a
// run's bitmap bits) and nothing else. The run-time state is rebuilt from
// it, lazily per zone as in C: the free chunk extents (best fit, coalesced
// when freed), each run's volatile bitmap (the persistent bits and the
// reservations not yet published), per-class lists of runs with free
// units, and per-arena active runs.
//
// An allocation is a reservation (volatile: bits set in the volatile
// bitmap, or an extent taken out of the free index; the object header is
// written) followed by a publication: the bitmap word OR or the chunk
// header update goes through a redo log (package ulog), or in place when
// it is the only update. A free is a publication of the reverse update;
// the volatile state follows once it is durable. Bitmap words are updated
// with atomic read-modify-writes, so concurrent publications on disjoint
// bits of one word need no lock; the redo logs of different lanes never
// touch the same bits, since bits return to the volatile bitmap only after
// the free that cleared them is complete.
//
// # Locks
//
// In acquisition order: an arena's lock (its active runs), the heap lock
// (zones, free extents, run creation and destruction), a class's recycler
// lock (runs with free units), a run's lock (its volatile bitmap).
package heap

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/internal/pmem"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Errors of the heap.
var (
	// ErrNoSpace: no free block large enough (ENOMEM).
	ErrNoSpace = errors.New("obj: out of memory")
	// ErrInvalidOID: an offset that is not an allocated object of this
	// heap (a freed or foreign object, or garbage).
	ErrInvalidOID = errors.New("obj: invalid object")
	// ErrSize: a size no allocation class can hold (0, too large for the
	// class asked for, or above the maximum).
	ErrSize = errors.New("obj: invalid allocation size")
	// ErrClass: an allocation class id that does not exist.
	ErrClass = errors.New("obj: no such allocation class")
	// ErrArena: an arena id that does not exist.
	ErrArena = errors.New("obj: no such arena")
)

// Heap is an open heap.
type Heap struct {
	m        *pmem.Mem
	base     uint64        // pool offset of the heap header
	size     atomic.Uint64 // heap bytes; grows (under mu) by Extend
	maxSize  uint64        // the most it may grow to (the run-time arrays are sized for it)
	classes  atomic.Pointer[layout.Classes]
	classMu  sync.Mutex                      // serializes AddClass
	nzones   atomic.Uint32                   // zones of size bytes; grows (under mu)
	zones    []atomic.Pointer[zone]          // for maxSize; nil until reclaimed
	zoneInit []bool                          // zone header initialized (guarded by mu)
	extend   func(by uint64) (uint64, error) // grows the pool, returns the new heap size; nil: cannot (guarded by mu)

	mu       sync.Mutex // zones, free index, run creation and destruction
	nextZone uint32     // zones below have been reclaimed
	free     freeIndex

	recyclers [layout.MaxClasses]recycler

	arenasMu  sync.Mutex               // serializes changes of arenas
	arenas    atomic.Pointer[[]*Arena] // copied on change
	arenasMax int                      // heap.narenas.max (guarded by arenasMu)

	stats stats
	// allocPattern: a byte every new object's usable bytes are set to
	// before its constructor runs (debug.heap.alloc_pattern); -1: none.
	allocPattern atomic.Int32
}

// zone is the run-time state of a reclaimed zone.
type zone struct {
	id      uint32
	nchunks atomic.Uint32 // the zone header's size_idx; grows with the heap
	// runs maps every chunk of a run to the run (room for the chunks the
	// zone has when the heap is at its maximum size).
	runs []atomic.Pointer[run]
	// used has a bit per chunk that starts a used huge block.
	used []atomic.Uint64
}

func (z *zone) size() uint32         { return z.nchunks.Load() }
func (z *zone) isUsed(c uint32) bool { return z.used[c/64].Load()&(1<<(c%64)) != 0 }
func (z *zone) setUsed(c uint32)     { z.used[c/64].Or(1 << (c % 64)) }
func (z *zone) clearUsed(c uint32)   { z.used[c/64].And(^(uint64(1) << (c % 64))) }

// Format writes an empty heap of size bytes at pool offset base, as C's
// heap_init: the header, and every zone marked uninitialized. It persists
// what it writes.
func Format(m *pmem.Mem, base, size uint64) error {
	if size < layout.HeapMinSize {
		return fmt.Errorf("obj: heap of %d bytes, minimum %d: %w", size, layout.HeapMinSize, core.ErrInvalidArgument)
	}
	m.Copy(base, layout.NewHeapHeader(), 0)
	for z := range layout.MaxZone(size) {
		zo := base + layout.ZoneOffset(z)
		m.Set(zo, layout.ZoneHeaderSize, 0, 0)
		m.Set(zo+layout.ZoneHeaderSize, layout.ChunkHeaderSize, 0, 0)
	}
	return nil
}

// maxDefaultArenas is the room C's heap makes for arenas at boot
// (MAX_DEFAULT_ARENAS): heap.narenas.max starts there.
const maxDefaultArenas = 1024

// Boot opens the heap of size bytes at pool offset base: it validates the
// header and the chunk structure of every initialized zone (what C's
// heap_check does, and the run geometry C trusts), so that the allocator
// can rely on it, and extends the last zone if the heap grew. Zones are
// reclaimed later, as they are needed.
// narenas is the number of arenas; 0 means GOMAXPROCS.
func Boot(m *pmem.Mem, base, size uint64, classes *layout.Classes, narenas int) (*Heap, error) {
	return BootMax(m, base, size, size, classes, narenas)
}

// BootMax is Boot for a heap that may grow to maxSize bytes ([Heap.SetExtend]).
func BootMax(m *pmem.Mem, base, size, maxSize uint64, classes *layout.Classes, narenas int) (*Heap, error) {
	if size < layout.HeapMinSize || base > m.Size() || size > m.Size()-base {
		return nil, core.Corrupt(-1, "heap: size", nil, size)
	}
	maxSize = max(maxSize, size)
	hh := layout.DecodeHeapHeader(m.Slice(base, layout.HeapHeaderSize))
	if p := hh.Problems(base); len(p) > 0 {
		return nil, errors.Join(p...)
	}
	h := &Heap{m: m, base: base, maxSize: maxSize}
	h.size.Store(size)
	nzones := layout.MaxZone(size)
	h.nzones.Store(nzones)
	h.classes.Store(classes)
	h.allocPattern.Store(-1)
	h.initStats()
	h.zones = make([]atomic.Pointer[zone], layout.MaxZone(maxSize))
	h.zoneInit = make([]bool, len(h.zones))
	h.free.init()
	for z := range nzones {
		zh := layout.DecodeZoneHeader(m.Load(base + layout.ZoneOffset(z)))
		if zh.Magic == 0 && zh.SizeIdx == 0 {
			continue
		}
		if err := h.verifyZone(z, zh); err != nil {
			return nil, err
		}
		h.zoneInit[z] = true
		if want := layout.ZoneSizeIdx(z, nzones, size); zh.SizeIdx < want {
			h.growZone(z, zh.SizeIdx, want)
		}
	}
	if narenas <= 0 {
		narenas = runtime.GOMAXPROCS(0)
	}
	arenas := make([]*Arena, max(narenas, 1))
	for i := range arenas {
		arenas[i] = &Arena{idx: i}
		arenas[i].auto.Store(true)
	}
	h.arenas.Store(&arenas)
	h.arenasMax = max(len(arenas), maxDefaultArenas)
	return h, nil
}

// Classes returns the heap's allocation classes.
func (h *Heap) Classes() *layout.Classes { return h.classes.Load() }

// AddClass registers a custom run class (heap.alloc_class.new.desc); see
// layout.Classes.WithClass. id < 0 takes the first free id.
func (h *Heap) AddClass(id int, ht layout.HeaderType, unit, alignment uint64, unitsPerBlock uint32) (*layout.Class, error) {
	h.classMu.Lock()
	defer h.classMu.Unlock()
	cs, c, err := h.Classes().WithClass(id, ht, unit, alignment, unitsPerBlock)
	if err != nil {
		return nil, err
	}
	h.classes.Store(cs)
	return c, nil
}

// Base returns the heap's pool offset.
func (h *Heap) Base() uint64 { return h.base }

// Size returns the heap's size in bytes.
func (h *Heap) Size() uint64 { return h.size.Load() }

// Contains reports whether n bytes at pool offset off lie in the heap.
func (h *Heap) Contains(off, n uint64) bool {
	size := h.Size()
	return off >= h.base && off-h.base <= size && n <= size-(off-h.base)
}

// verifyZone checks an initialized zone's chunk headers, as
// heap_verify_zone, and the run headers.
func (h *Heap) verifyZone(z uint32, zh layout.ZoneHeader) error {
	zoff := h.base + layout.ZoneOffset(z)
	if zh.Magic != layout.ZoneMagic {
		return core.Corrupt(int64(zoff), "heap: zone magic", uint32(layout.ZoneMagic), zh.Magic)
	}
	limit := layout.ZoneSizeIdx(z, h.nzones.Load(), h.Size())
	if zh.SizeIdx == 0 || zh.SizeIdx > limit {
		return core.Corrupt(int64(zoff+4), "heap: zone size", fmt.Sprintf("1..%d", limit), zh.SizeIdx)
	}
	for c := uint32(0); c < zh.SizeIdx; {
		hoff := h.base + layout.ChunkHeaderOffset(z, c)
		ch := layout.DecodeChunkHeader(h.m.Load(hoff))
		// C accepts any known type at a walk position; a footer or run
		// data header there is skipped as neither free nor allocated.
		if !ch.Valid() {
			return core.Corrupt(int64(hoff), "heap: chunk type or flags", nil, fmt.Sprintf("type %d flags %#x", ch.Type, ch.Flags))
		}
		if ch.SizeIdx == 0 || ch.SizeIdx > zh.SizeIdx-c {
			return core.Corrupt(int64(hoff+4), "heap: chunk size", fmt.Sprintf("1..%d", zh.SizeIdx-c), ch.SizeIdx)
		}
		if ch.Type == layout.ChunkRun {
			if _, err := h.runGeometry(z, c, ch); err != nil {
				return err
			}
		}
		c += ch.SizeIdx
	}
	return nil
}

// growZone gives zone z, initialized with sizeIdx chunks, the chunks up to
// want, as one free block (heap_zone_update_if_needed).
func (h *Heap) growZone(z, sizeIdx, want uint32) {
	h.writeFree(z, sizeIdx, want-sizeIdx)
	h.writeZoneHeader(z, want)
}

func (h *Heap) chunkHeaderOff(z, c uint32) uint64 { return h.base + layout.ChunkHeaderOffset(z, c) }
func (h *Heap) chunkOff(z, c uint32) uint64       { return h.base + layout.ChunkOffset(z, c) }

func (h *Heap) loadChunkHeader(z, c uint32) layout.ChunkHeader {
	return layout.DecodeChunkHeader(h.m.Load(h.chunkHeaderOff(z, c)))
}

// writeChunkHeader stores a chunk header with one atomic store and
// persists it.
func (h *Heap) writeChunkHeader(z, c uint32, ch layout.ChunkHeader) {
	off := h.chunkHeaderOff(z, c)
	h.m.Store(off, ch.Word())
	h.m.Persist(off, layout.ChunkHeaderSize)
}

// writeFooter writes the footer of a block of n chunks at chunk c: a copy
// of its header typed FOOTER in its last chunk header, which C's run time
// reads to find a free block's start. Like C, it is not persisted: C
// rewrites footers when it boots.
func (h *Heap) writeFooter(z, c, n uint32, flags uint16) {
	if n <= 1 {
		return
	}
	h.m.Store(h.chunkHeaderOff(z, c+n-1), layout.ChunkHeader{Type: layout.ChunkFooter, Flags: flags, SizeIdx: n}.Word())
}

// writeFree makes chunks c..c+n-1 of zone z one free block on the media
// (memblock_huge_init).
func (h *Heap) writeFree(z, c, n uint32) {
	h.writeChunkHeader(z, c, layout.ChunkHeader{Type: layout.ChunkFree, SizeIdx: n})
	h.writeFooter(z, c, n, 0)
}

func (h *Heap) writeZoneHeader(z, sizeIdx uint32) {
	off := h.base + layout.ZoneOffset(z)
	h.m.Store(off, layout.ZoneHeader{Magic: layout.ZoneMagic, SizeIdx: sizeIdx}.Word())
	h.m.Persist(off, layout.ZoneHeaderSize)
}

// zoneOf returns the run-time state of zone z, reclaiming it first if
// needed. It fails only for a zone that is not initialized.
func (h *Heap) zoneOf(z uint32) (*zone, error) {
	if zz := h.zones[z].Load(); zz != nil {
		return zz, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if zz := h.zones[z].Load(); zz != nil {
		return zz, nil
	}
	if !h.zoneInit[z] {
		return nil, ErrInvalidOID
	}
	return h.reclaimZone(z), nil
}

// reclaimZone builds the run-time state of initialized zone z from the
// media (heap_reclaim_zone_garbage): free blocks coalesced into the free
// index, runs registered (empty ones turned back into free chunks, as C
// does at boot), used blocks noted. h.mu is held.
func (h *Heap) reclaimZone(z uint32) *zone {
	zh := layout.DecodeZoneHeader(h.m.Load(h.base + layout.ZoneOffset(z)))
	zz := &zone{id: z}
	zz.nchunks.Store(zh.SizeIdx)
	room := max(zh.SizeIdx, layout.ZoneSizeIdx(z, uint32(len(h.zones)), h.maxSize))
	zz.runs = make([]atomic.Pointer[run], room)
	zz.used = make([]atomic.Uint64, (room+63)/64)
	for c := uint32(0); c < zh.SizeIdx; {
		ch := h.loadChunkHeader(z, c)
		switch ch.Type {
		case layout.ChunkUsed:
			zz.setUsed(c)
			h.writeFooter(z, c, ch.SizeIdx, ch.Flags)
		case layout.ChunkFree:
			h.insertFree(zz, extent{zone: z, chunk: c, size: ch.SizeIdx})
		case layout.ChunkRun:
			g, _ := h.runGeometry(z, c, ch) // verified at boot
			r := h.newRunState(g)
			if r.empty() && r.class != nil {
				h.writeFree(z, c, ch.SizeIdx)
				h.insertFree(zz, extent{zone: z, chunk: c, size: ch.SizeIdx})
			} else {
				for i := range ch.SizeIdx {
					zz.runs[c+i].Store(r)
				}
				if r.class != nil && h.stats.transient() {
					// What C counts of the runs it finds at boot.
					h.statsRunActive(int64(ch.SizeIdx))
					h.stats.runAllocated.Add(uint64(r.units-r.nfree) * r.unit)
				}
				if r.class != nil && r.nfree > 0 {
					r.state.Store(runListed)
					h.recyclers[r.class.ID].push(r)
				}
			}
		}
		c += ch.SizeIdx
	}
	h.zones[z].Store(zz)
	return zz
}

// populate reclaims the next zone not reclaimed yet, initializing it if it
// never was (heap_populate_bucket). It reports whether there was one.
// h.mu is held.
func (h *Heap) populate() bool {
	nzones := h.nzones.Load()
	for h.nextZone < nzones && h.zones[h.nextZone].Load() != nil {
		h.nextZone++
	}
	if h.nextZone >= nzones {
		return false
	}
	z := h.nextZone
	if !h.zoneInit[z] {
		n := layout.ZoneSizeIdx(z, nzones, h.Size())
		h.writeFree(z, 0, n)
		h.writeZoneHeader(z, n)
		h.zoneInit[z] = true
	}
	h.reclaimZone(z)
	h.nextZone++
	return true
}

// SetExtend gives the heap a way to grow when it runs out of chunks, as
// C's heap_extend: fn grows the pool by about by bytes (0: by its default
// step) and makes the heap's new size durable (heap_size in the pool
// descriptor), returning it (at most the maxSize of BootMax); nil (the
// default) makes running out ErrNoSpace. fn runs with the heap lock held.
func (h *Heap) SetExtend(fn func(by uint64) (uint64, error)) {
	h.mu.Lock()
	h.extend = fn
	h.mu.Unlock()
}

// Extend grows the heap by about by bytes now (heap.size.extend), as it
// grows when it runs out; ErrNoSpace when it cannot.
func (h *Heap) Extend(by uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if by == 0 || !h.grow(by) {
		return ErrNoSpace
	}
	return nil
}

// grow extends the heap by about by bytes (0: the default step) through
// h.extend and adds the new space to it, as
// heap_extend: once fn has made the new size durable, the last zone's new
// chunks are made one free block (its chunk header, then the zone
// header: a crash between leaves the zone as it was, which the next boot
// grows as it grows any zone short of the heap's size), or, when the new
// size adds zones, they are left uninitialized for populate, as C leaves
// them. It reports whether the heap grew. h.mu is held.
func (h *Heap) grow(by uint64) bool {
	if h.extend == nil {
		return false
	}
	old := h.Size()
	size, err := h.extend(by)
	if err != nil || size <= old || size > h.maxSize {
		return false
	}
	oldZones, nzones := h.nzones.Load(), layout.MaxZone(size)
	h.size.Store(size)
	if nzones != oldZones {
		h.nzones.Store(nzones)
		return true
	}
	z := nzones - 1
	if !h.zoneInit[z] {
		return true
	}
	zh := layout.DecodeZoneHeader(h.m.Load(h.base + layout.ZoneOffset(z)))
	want := layout.ZoneSizeIdx(z, nzones, size)
	if zh.SizeIdx >= want {
		return true
	}
	h.growZone(z, zh.SizeIdx, want)
	if zz := h.zones[z].Load(); zz != nil {
		zz.nchunks.Store(want)
		h.insertFree(zz, extent{zone: z, chunk: zh.SizeIdx, size: want - zh.SizeIdx})
	}
	return true
}

// Growable reports whether the heap has a way to grow (SetExtend).
func (h *Heap) Growable() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.extend != nil
}
