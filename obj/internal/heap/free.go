package heap

import (
	"slices"
)

// extent is a block of whole chunks of one zone.
type extent struct {
	zone, chunk, size uint32
}

func (e extent) key() uint64 { return uint64(e.size)<<48 | uint64(e.zone)<<16 | uint64(e.chunk) }

func extentOfKey(k uint64) extent {
	return extent{size: uint32(k >> 48), zone: uint32(k >> 16), chunk: uint32(k & 0xFFFF)}
}

func pos(zone, chunk uint32) uint64 { return uint64(zone)<<32 | uint64(chunk) }

// freeIndex holds the free chunk extents that are not reserved: sorted by
// size then position for best fit (smallest that fits, lowest address
// first, as C's tree), and by start and end for coalescing.
type freeIndex struct {
	bySize []uint64
	starts map[uint64]uint32 // start position -> size
	ends   map[uint64]uint32 // end position (exclusive) -> start chunk
}

func (f *freeIndex) init() {
	f.starts = make(map[uint64]uint32)
	f.ends = make(map[uint64]uint32)
}

func (f *freeIndex) add(e extent) {
	k := e.key()
	i, _ := slices.BinarySearch(f.bySize, k)
	f.bySize = slices.Insert(f.bySize, i, k)
	f.starts[pos(e.zone, e.chunk)] = e.size
	f.ends[pos(e.zone, e.chunk+e.size)] = e.chunk
}

func (f *freeIndex) remove(e extent) {
	if i, ok := slices.BinarySearch(f.bySize, e.key()); ok {
		f.bySize = slices.Delete(f.bySize, i, i+1)
	}
	delete(f.starts, pos(e.zone, e.chunk))
	delete(f.ends, pos(e.zone, e.chunk+e.size))
}

// bestFit takes the smallest extent of at least n chunks out of the index.
func (f *freeIndex) bestFit(n uint32) (extent, bool) {
	i, _ := slices.BinarySearch(f.bySize, uint64(n)<<48)
	if i == len(f.bySize) {
		return extent{}, false
	}
	e := extentOfKey(f.bySize[i])
	f.remove(e)
	return e, true
}

// total returns the free chunks in the index.
func (f *freeIndex) total() uint64 {
	var n uint64
	for _, k := range f.bySize {
		n += k >> 48
	}
	return n
}

// insertFree adds e, which is free on the media, to the index, merged with
// the free extents around it (heap_free_chunk_reuse). A merge rewrites the
// merged block's header, one atomic store: before it the media holds the
// separate free blocks, after it the merged one. h.mu is held.
func (h *Heap) insertFree(zz *zone, e extent) {
	merged := e
	if start, ok := h.free.ends[pos(e.zone, e.chunk)]; ok {
		prev := extent{zone: e.zone, chunk: start, size: e.chunk - start}
		h.free.remove(prev)
		merged.chunk, merged.size = prev.chunk, merged.size+prev.size
	}
	if size, ok := h.free.starts[pos(e.zone, e.chunk+e.size)]; ok {
		next := extent{zone: e.zone, chunk: e.chunk + e.size, size: size}
		h.free.remove(next)
		merged.size += next.size
	}
	if merged != e {
		h.writeFree(merged.zone, merged.chunk, merged.size)
	}
	h.free.add(merged)
}

// takeChunks reserves n chunks: the best-fitting free extent, split if
// larger (the remainder is written free first, then the reserved head, so
// a crash between leaves the unsplit block). It populates more zones and
// turns empty runs back into chunks when nothing fits. The reserved
// chunks are free on the media until an allocation is published.
func (h *Heap) takeChunks(n uint32) (extent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if e, ok := h.free.bestFit(n); ok {
			if e.size > n {
				rest := extent{zone: e.zone, chunk: e.chunk + n, size: e.size - n}
				h.writeFree(rest.zone, rest.chunk, rest.size)
				h.writeFree(e.zone, e.chunk, n)
				h.free.add(rest)
				e.size = n
			}
			return e, nil
		}
		if h.releaseEmptyRuns() {
			continue
		}
		if !h.populate() && !h.grow(0) {
			return extent{}, ErrNoSpace
		}
	}
}

// returnChunks puts a reserved extent back (cancel, or a free once it is
// durable). h.mu must not be held.
func (h *Heap) returnChunks(e extent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	zz := h.zones[e.zone].Load()
	h.insertFree(zz, e)
}
