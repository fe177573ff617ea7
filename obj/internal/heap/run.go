package heap

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/layout"
)

// runGeom is where a run's parts lie, from its chunk and run headers.
type runGeom struct {
	zone, chunk uint32
	sizeIdx     uint32
	flags       uint16
	unit        uint64
	alignment   uint64
	hdrType     layout.HeaderType
	bitmap      layout.RunBitmap
	bitmapOff   uint64 // pool offset of the first bitmap word
	dataOff     uint64 // pool offset of unit 0 (its object header)
}

// runGeometry reads and checks the run at chunk c of zone z: a unit size
// and bitmap that fit the run's chunks (C trusts them).
func (h *Heap) runGeometry(z, c uint32, ch layout.ChunkHeader) (runGeom, error) {
	coff := h.chunkOff(z, c)
	unit := h.m.Load(coff)
	align := h.m.Load(coff + 8)
	g := runGeom{zone: z, chunk: c, sizeIdx: ch.SizeIdx, flags: ch.Flags, unit: unit, alignment: align,
		hdrType: ch.HeaderType(), bitmapOff: coff + layout.RunHeaderSize}
	content := layout.RunContentBytes(ch.SizeIdx)
	if unit == 0 || unit > content {
		return g, core.Corrupt(int64(coff), "heap: run block size", nil, unit)
	}
	if ch.Flags&layout.FlagAligned != 0 && (align == 0 || align > 2<<20 || align&(align-1) != 0) {
		return g, core.Corrupt(int64(coff+8), "heap: run alignment", nil, align)
	}
	if ch.Flags&layout.FlagAligned == 0 {
		align = 0
	}
	g.alignment = align
	b, sizeIdx := layout.RunBitmapOf(ch.SizeIdx, ch.Flags, unit, align)
	if sizeIdx != ch.SizeIdx || b.NBits == 0 || uint64(b.Size) > content {
		return g, core.Corrupt(int64(coff), "heap: run geometry", nil, unit)
	}
	g.bitmap = b
	g.dataOff = coff + layout.RunDataOffset(b, ch.Flags, ch.HeaderType().Size(), align, coff)
	end := coff + layout.RunHeaderSize + content
	if g.dataOff+uint64(b.NBits)*unit > end || g.dataOff < g.bitmapOff+uint64(b.NValues)*8 {
		return g, core.Corrupt(int64(coff), "heap: run units past the run", nil, b.NBits)
	}
	return g, nil
}

// Run states: where a run is held.
const (
	runDetached int32 = iota // full, or not yet anywhere
	runListed                // in its class's recycler
	runAttached              // an arena's active run
	runDead                  // turned back into chunks
)

// run is the run-time state of a run.
type run struct {
	runGeom
	class *layout.Class // nil: no class of ours describes it (never allocated from)
	state atomic.Int32

	units uint32 // free units of the run when empty

	mu    sync.Mutex
	vbits []uint64 // persistent bits and reservations
	nfree uint32   // clear bits of vbits below nbits
	hint  uint32   // first word that may have room
}

// newRunState builds the run-time state of a run from its persistent
// bitmap.
func (h *Heap) newRunState(g runGeom) *run {
	r := &run{runGeom: g, class: h.Classes().ByRun(g.unit, g.flags, g.sizeIdx), units: emptyUnits(g.bitmap)}
	if r.class != nil && r.class.Alignment != g.alignment {
		r.class = nil
	}
	r.vbits = make([]uint64, g.bitmap.NValues)
	for i := range r.vbits {
		r.vbits[i] = h.m.Load(g.bitmapOff + uint64(i)*8)
	}
	// The bits past nbits are never free, whatever the media says.
	r.vbits[len(r.vbits)-1] |= g.bitmap.LastBitmapWord()
	used := 0
	for _, w := range r.vbits {
		used += bits.OnesCount64(w)
	}
	r.nfree = uint32(len(r.vbits)*64 - used)
	return r
}

// empty reports whether no unit is used or reserved.
func (r *run) empty() bool { return r.nfree == r.units }

// emptyUnits returns how many units a run of geometry b offers: C sets
// the whole last bitmap word when the units fill it exactly.
func emptyUnits(b layout.RunBitmap) uint32 {
	return (b.NValues-1)*64 + 64 - uint32(bits.OnesCount64(b.LastBitmapWord()))
}

// reserve finds units consecutive free units within one bitmap word, marks
// them reserved and returns the first one's index. r.mu is held.
func (r *run) reserve(units uint32) (uint32, bool) {
	if r.nfree < units {
		return 0, false
	}
	n := uint32(len(r.vbits))
	for k := uint32(0); k < n; k++ {
		i := r.hint + k
		if i >= n {
			i -= n
		}
		w := r.vbits[i]
		if w == ^uint64(0) {
			continue
		}
		starts := ^w
		for s := uint32(1); s < units && starts != 0; s++ {
			starts &= ^w >> s
		}
		if starts == 0 {
			continue
		}
		j := uint32(bits.TrailingZeros64(starts))
		r.vbits[i] |= unitMask(units) << j
		r.nfree -= units
		r.hint = i
		return i*64 + j, true
	}
	return 0, false
}

// release returns units at index off to the volatile bitmap (a cancelled
// reservation, or a free once durable). It counts only bits that were set,
// so a double release cannot corrupt the count. r.mu is held.
func (r *run) release(off, units uint32) {
	i := off / 64
	m := unitMask(units) << (off % 64)
	r.nfree += uint32(bits.OnesCount64(r.vbits[i] & m))
	r.vbits[i] &^= m
	if i < r.hint {
		r.hint = i
	}
}

// unitMask returns a mask of n low bits (n <= 64).
func unitMask(n uint32) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// createRun makes a new run of class c on n free chunks (memblock_run_init):
// run header and bitmap (every bit clear but the padding of the last
// word; whole padding words set), the run-data chunk headers, then the
// chunk header typed RUN in one atomic store. Before that store the chunks
// are a free block on the media.
func (h *Heap) createRun(c *layout.Class) (*run, error) {
	e, err := h.takeChunks(c.SizeIdx)
	if err != nil {
		return nil, err
	}
	z, ch := e.zone, e.chunk
	coff := h.chunkOff(z, ch)
	b := c.Bitmap
	h.m.Store(coff, c.UnitSize)
	h.m.Store(coff+8, c.Alignment)
	words := uint64(b.Size) / 8
	for i := range words {
		v := uint64(0)
		switch {
		case i == uint64(b.NValues)-1:
			v = b.LastBitmapWord()
		case i >= uint64(b.NValues):
			v = ^uint64(0)
		}
		h.m.Store(coff+layout.RunHeaderSize+i*8, v)
	}
	h.m.Flush(coff, layout.RunHeaderSize+uint64(b.Size))
	for i := uint32(1); i < c.SizeIdx; i++ {
		h.m.Store(h.chunkHeaderOff(z, ch+i), layout.ChunkHeader{Type: layout.ChunkRunData, SizeIdx: i}.Word())
	}
	if c.SizeIdx > 1 {
		h.m.Flush(h.chunkHeaderOff(z, ch+1), uint64(c.SizeIdx-1)*layout.ChunkHeaderSize)
	}
	// The run header, bitmap and run-data headers must be durable before
	// the chunk header says RUN.
	h.m.Drain()
	h.writeChunkHeader(z, ch, layout.ChunkHeader{Type: layout.ChunkRun, Flags: c.Flags, SizeIdx: c.SizeIdx})
	g, err := h.runGeometry(z, ch, h.loadChunkHeader(z, ch))
	if err != nil {
		return nil, err
	}
	h.statsRunActive(int64(c.SizeIdx))
	r := &run{runGeom: g, class: c, units: emptyUnits(b)}
	r.vbits = make([]uint64, b.NValues)
	r.vbits[b.NValues-1] = b.LastBitmapWord()
	r.nfree = r.units
	zz := h.zones[z].Load()
	for i := range c.SizeIdx {
		zz.runs[ch+i].Store(r)
	}
	return r, nil
}

// recycler holds the runs of one class that have free units and no arena.
type recycler struct {
	mu   sync.Mutex
	runs []*run
}

func (rc *recycler) push(r *run) {
	rc.mu.Lock()
	rc.runs = append(rc.runs, r)
	rc.mu.Unlock()
}

// pop takes the most recently listed run out.
func (rc *recycler) pop() *run {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.runs) == 0 {
		return nil
	}
	r := rc.runs[len(rc.runs)-1]
	rc.runs = rc.runs[:len(rc.runs)-1]
	return r
}

// releaseEmptyRuns turns every listed empty run back into free chunks
// (C's heap_reclaim_garbage) and reports whether it found one. h.mu is
// held.
func (h *Heap) releaseEmptyRuns() bool {
	found := false
	for i := range h.recyclers {
		rc := &h.recyclers[i]
		rc.mu.Lock()
		keep := rc.runs[:0]
		for _, r := range rc.runs {
			r.mu.Lock()
			if r.empty() && r.state.Load() == runListed {
				r.state.Store(runDead)
				r.mu.Unlock()
				h.runToChunks(r)
				found = true
				continue
			}
			r.mu.Unlock()
			keep = append(keep, r)
		}
		clear(rc.runs[len(keep):])
		rc.runs = keep
		rc.mu.Unlock()
	}
	return found
}

// runToChunks turns an empty run into a free block (heap_run_into_free_
// chunk): one atomic store of its chunk header. h.mu is held.
func (h *Heap) runToChunks(r *run) {
	zz := h.zones[r.zone].Load()
	for i := range r.sizeIdx {
		zz.runs[r.chunk+i].Store(nil)
	}
	h.writeFree(r.zone, r.chunk, r.sizeIdx)
	h.insertFree(zz, extent{zone: r.zone, chunk: r.chunk, size: r.sizeIdx})
	h.statsRunActive(-int64(r.sizeIdx))
}

func popcount(w uint64) int { return bits.OnesCount64(w) }
