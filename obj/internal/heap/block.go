package heap

import (
	"github.com/gopmdk/pmdk/obj/layout"
)

// locate splits a pool offset into zone and chunk, or reports that it
// lies outside every zone's chunks.
func (h *Heap) locate(off uint64) (z, c uint32, ok bool) {
	if off < h.base+layout.HeapHeaderSize || !h.Contains(off, 1) {
		return 0, 0, false
	}
	rel := off - h.base - layout.HeapHeaderSize
	zi := rel / layout.ZoneMaxSize
	zrel := rel % layout.ZoneMaxSize
	if zi >= uint64(h.nzones.Load()) || zrel < layout.ZoneMetaSize {
		return 0, 0, false
	}
	return uint32(zi), uint32((zrel - layout.ZoneMetaSize) / layout.ChunkSize), true
}

// BlockAt returns the allocated object whose user data starts at pool
// offset off, or ErrInvalidOID if there is none: off must be a unit or
// chunk start (after its header) whose bits or chunk header say
// allocated.
func (h *Heap) BlockAt(off uint64) (Block, error) {
	z, c, ok := h.locate(off)
	if !ok {
		return Block{}, ErrInvalidOID
	}
	zz, err := h.zoneOf(z)
	if err != nil || c >= zz.size() {
		return Block{}, ErrInvalidOID
	}
	if r := zz.runs[c].Load(); r != nil {
		return h.runBlockAt(r, off)
	}
	if !zz.isUsed(c) {
		return Block{}, ErrInvalidOID
	}
	ch := h.loadChunkHeader(z, c)
	t := ch.HeaderType()
	if ch.Type != layout.ChunkUsed || off != h.chunkOff(z, c)+t.Size() {
		return Block{}, ErrInvalidOID
	}
	return Block{zone: z, chunk: c, n: ch.SizeIdx, hdrType: t, HdrOff: off - t.Size(), Off: off,
		Size: uint64(ch.SizeIdx)*layout.ChunkSize - t.Size()}, nil
}

func (h *Heap) runBlockAt(r *run, off uint64) (Block, error) {
	hs := r.hdrType.Size()
	if off < r.dataOff+hs || (off-hs-r.dataOff)%r.unit != 0 {
		return Block{}, ErrInvalidOID
	}
	idx := (off - hs - r.dataOff) / r.unit
	if idx >= uint64(r.bitmap.NBits) {
		return Block{}, ErrInvalidOID
	}
	n := h.unitsOf(r.runGeom, off-hs)
	unit := uint32(idx)
	if n == 0 || unit%64+n > 64 || unit+n > r.bitmap.NBits {
		return Block{}, ErrInvalidOID
	}
	mask := unitMask(n) << (unit % 64)
	if h.m.Load(r.bitmapOff+uint64(unit/64)*8)&mask != mask {
		return Block{}, ErrInvalidOID
	}
	return Block{run: r, zone: r.zone, chunk: r.chunk, unit: unit, n: n, hdrType: r.hdrType,
		HdrOff: off - hs, Off: off, Size: uint64(n)*r.unit - hs}, nil
}

// unitsOf returns how many units the object whose header is at hdrOff
// takes in a run of geometry g, from its header (1 without headers); 0
// for a header whose size is zero or more than a bitmap word of units.
func (h *Heap) unitsOf(g runGeom, hdrOff uint64) uint32 {
	if g.hdrType == layout.HeaderNone {
		return 1
	}
	hdr := layout.DecodeObjectHeader(g.hdrType, h.m.Slice(hdrOff, g.hdrType.Size()))
	n := layout.CalcSizeIdx(g.unit, hdr.Size)
	if n == 0 || n > layout.RunUnitMax {
		return 0
	}
	return uint32(n)
}

// Header returns the object header of b.
func (h *Heap) Header(b *Block) layout.ObjectHeader {
	return layout.DecodeObjectHeader(b.hdrType, h.m.Slice(b.HdrOff, b.hdrType.Size()))
}

// Pos is a place in heap order: a block's zone and first chunk, and a
// unit within a run.
type Pos struct {
	Zone, Chunk, Unit uint32
}

// PosOf returns the position of pool offset off, which need not be an
// allocated object (iteration goes on after an object freed meanwhile).
func (h *Heap) PosOf(off uint64) (Pos, bool) {
	z, c, ok := h.locate(off)
	if !ok {
		return Pos{}, false
	}
	zz, err := h.zoneOf(z)
	if err != nil || c >= zz.size() {
		return Pos{}, false
	}
	if r := zz.runs[c].Load(); r != nil {
		u := uint32(0)
		if off > r.dataOff {
			u = uint32(min((off-r.dataOff)/r.unit, uint64(r.bitmap.NBits)))
		}
		return Pos{z, r.chunk, u}, true
	}
	return Pos{z, c, 0}, true
}

// Next returns the first allocated object after pos in heap order (zones,
// chunks, units), or the first of all if first is set, as
// pmemobj_first/next walk them, and its position. It reads the media:
// what concurrent publications change may or may not be seen.
func (h *Heap) Next(pos Pos, first bool) (Block, Pos, bool) {
	if first {
		pos = Pos{}
	}
	for z := pos.Zone; z < h.nzones.Load(); z++ {
		zh := layout.DecodeZoneHeader(h.m.Load(h.base + layout.ZoneOffset(z)))
		if zh.Magic != layout.ZoneMagic {
			continue
		}
		zz, err := h.zoneOf(z)
		if err != nil {
			continue
		}
		c, unit, skip := uint32(0), uint32(0), false
		if z == pos.Zone && !first {
			c, unit, skip = h.blockStart(zz, pos.Chunk), pos.Unit, true
			if c != pos.Chunk {
				unit = 0
				skip = c < pos.Chunk
			}
		}
		for c < zz.size() {
			ch := h.loadChunkHeader(z, c)
			if ch.SizeIdx == 0 || ch.SizeIdx > zz.size()-c {
				break
			}
			switch ch.Type {
			case layout.ChunkUsed:
				if !skip {
					t := ch.HeaderType()
					hdrOff := h.chunkOff(z, c)
					return Block{zone: z, chunk: c, n: ch.SizeIdx, hdrType: t, HdrOff: hdrOff, Off: hdrOff + t.Size(),
						Size: uint64(ch.SizeIdx)*layout.ChunkSize - t.Size()}, Pos{z, c, 0}, true
				}
			case layout.ChunkRun:
				if r := zz.runs[c].Load(); r != nil {
					start := unit
					if skip {
						// Step over the object at pos, all its units.
						start += max(h.unitsOf(r.runGeom, r.dataOff+uint64(unit)*r.unit), 1)
					}
					if b, ok := h.nextInRun(r, start); ok {
						return b, Pos{z, c, b.unit}, true
					}
				}
			}
			c += ch.SizeIdx
			unit, skip = 0, false
		}
	}
	return Block{}, Pos{}, false
}

// blockStart returns the first chunk of the block that holds chunk c:
// c itself when the volatile state knows it as a run or used block start,
// else found by walking the zone's chunk headers from its first chunk.
func (h *Heap) blockStart(zz *zone, c uint32) uint32 {
	if r := zz.runs[c].Load(); r != nil && r.chunk == c || zz.isUsed(c) {
		return c
	}
	for s := uint32(0); s < zz.size(); {
		n := h.loadChunkHeader(zz.id, s).SizeIdx
		if n == 0 || s+n > c {
			return s
		}
		s += n
	}
	return zz.size()
}

// nextInRun returns the first allocated object of run r at or after unit
// start (run_iterate_used), reading the persistent bitmap.
func (h *Heap) nextInRun(r *run, start uint32) (Block, bool) {
	g := r.runGeom
	for u := start; u < g.bitmap.NBits; {
		w := h.m.Load(g.bitmapOff + uint64(u/64)*8)
		if w>>(u%64) == 0 {
			u = (u/64 + 1) * 64
			continue
		}
		if w&(1<<(u%64)) == 0 {
			u++
			continue
		}
		hdrOff := g.dataOff + uint64(u)*g.unit
		n := h.unitsOf(g, hdrOff)
		if n == 0 {
			// A header that makes no sense: step over one unit.
			u++
			continue
		}
		hs := g.hdrType.Size()
		return Block{run: r, zone: g.zone, chunk: g.chunk, unit: u, n: n, hdrType: g.hdrType,
			HdrOff: hdrOff, Off: hdrOff + hs, Size: uint64(n)*g.unit - hs}, true
	}
	return Block{}, false
}
