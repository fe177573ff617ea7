package heap

import (
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Check walks the whole heap on the media and reports every
// inconsistency through report, each a *core.CorruptError: header, zones
// and chunk chains, runs (geometry, padding bits, every allocated unit
// starting an object whose header covers set bits only), huge blocks
// (header size matching the chunks) and, for zones already reclaimed, the
// run-time state against the media. It is meant for a quiescent pool.
func (h *Heap) Check(report func(error)) {
	hh := layout.DecodeHeapHeader(h.m.Slice(h.base, layout.HeapHeaderSize))
	for _, p := range hh.Problems(h.base) {
		report(p)
	}
	nzones, size := h.nzones.Load(), h.Size()
	for z := range nzones {
		zoff := h.base + layout.ZoneOffset(z)
		zh := layout.DecodeZoneHeader(h.m.Load(zoff))
		if zh.Magic == 0 && zh.SizeIdx == 0 {
			continue
		}
		if zh.Magic != layout.ZoneMagic {
			report(core.Corrupt(int64(zoff), "heap: zone magic", uint32(layout.ZoneMagic), zh.Magic))
			continue
		}
		limit := layout.ZoneSizeIdx(z, nzones, size)
		if zh.SizeIdx == 0 || zh.SizeIdx > limit {
			report(core.Corrupt(int64(zoff+4), "heap: zone size", fmt.Sprintf("1..%d", limit), zh.SizeIdx))
			continue
		}
		h.checkZone(z, zh.SizeIdx, report)
	}
}

func (h *Heap) checkZone(z, sizeIdx uint32, report func(error)) {
	zz := h.zones[z].Load()
	for c := uint32(0); c < sizeIdx; {
		hoff := h.chunkHeaderOff(z, c)
		ch := h.loadChunkHeader(z, c)
		if !ch.Valid() {
			report(core.Corrupt(int64(hoff), "heap: chunk type or flags", nil, fmt.Sprintf("type %d flags %#x", ch.Type, ch.Flags)))
			return
		}
		if ch.SizeIdx == 0 || ch.SizeIdx > sizeIdx-c {
			report(core.Corrupt(int64(hoff+4), "heap: chunk size", fmt.Sprintf("1..%d", sizeIdx-c), ch.SizeIdx))
			return
		}
		switch ch.Type {
		case layout.ChunkUsed:
			h.checkHuge(z, c, ch, report)
			if zz != nil && !zz.isUsed(c) {
				report(core.Corrupt(int64(hoff), "heap: used chunk unknown to the run-time state", nil, c))
			}
		case layout.ChunkRun:
			g, err := h.runGeometry(z, c, ch)
			if err != nil {
				report(err)
				break
			}
			h.checkRun(g, report)
			// C writes a run's alignment only with the aligned flag.
			// Legacy runs (no flexible bitmap, PMDK 1.0-1.4) hold
			// 1.0-1.2's run-time bucket pointer there: not checked.
			if ch.Flags&(layout.FlagFlexBitmap|layout.FlagAligned) == layout.FlagFlexBitmap {
				if a := h.m.Load(h.chunkOff(z, c) + 8); a != 0 {
					report(core.Corrupt(int64(h.chunkOff(z, c)+8), "heap: alignment of a run not flagged aligned", uint64(0), a))
				}
			}
			if zz != nil {
				if r := zz.runs[c].Load(); r == nil || r.chunk != c {
					report(core.Corrupt(int64(hoff), "heap: run unknown to the run-time state", nil, c))
				} else {
					h.checkRunState(r, report)
				}
			}
			for i := uint32(1); i < ch.SizeIdx; i++ {
				d := h.loadChunkHeader(z, c+i)
				if d.Type != layout.ChunkRunData || d.SizeIdx != i {
					report(core.Corrupt(int64(h.chunkHeaderOff(z, c+i)), "heap: run data chunk header",
						fmt.Sprintf("type %d size %d", layout.ChunkRunData, i), fmt.Sprintf("type %d size %d", d.Type, d.SizeIdx)))
				}
			}
		case layout.ChunkFree:
			if zz != nil && zz.isUsed(c) {
				report(core.Corrupt(int64(hoff), "heap: free chunk the run-time state calls used", nil, c))
			}
		}
		c += ch.SizeIdx
	}
}

// checkHuge checks a used huge block's object header.
func (h *Heap) checkHuge(z, c uint32, ch layout.ChunkHeader, report func(error)) {
	t := ch.HeaderType()
	if t == layout.HeaderNone {
		return
	}
	off := h.chunkOff(z, c)
	hdr := layout.DecodeObjectHeader(t, h.m.Slice(off, t.Size()))
	if n := layout.CalcSizeIdx(layout.ChunkSize, hdr.Size); n != uint64(ch.SizeIdx) {
		report(core.Corrupt(int64(off), "heap: huge object header size", uint64(ch.SizeIdx)*layout.ChunkSize, hdr.Size))
	}
}

// checkRun checks a run's bitmap against its object headers: the padding
// bits are set, and the set bits are exactly the units of the objects that
// start at set bits (run_iterate_used), none crossing a bitmap word.
func (h *Heap) checkRun(g runGeom, report func(error)) {
	last := g.bitmapOff + uint64(g.bitmap.NValues-1)*8
	if pad := g.bitmap.LastBitmapWord(); h.m.Load(last)&pad != pad {
		report(core.Corrupt(int64(last), "heap: run bitmap padding bits clear", pad, h.m.Load(last)))
	}
	for u := uint32(0); u < g.bitmap.NBits; {
		w := h.m.Load(g.bitmapOff + uint64(u/64)*8)
		if w&(1<<(u%64)) == 0 {
			u++
			continue
		}
		hdrOff := g.dataOff + uint64(u)*g.unit
		n := h.unitsOf(g, hdrOff)
		switch {
		case n == 0:
			report(core.Corrupt(int64(hdrOff), "heap: object header size", fmt.Sprintf("1..%d units of %d", layout.RunUnitMax, g.unit), nil))
			n = 1
		case u%64+n > 64 || u+n > g.bitmap.NBits:
			report(core.Corrupt(int64(hdrOff), "heap: object crosses a bitmap word or the run", nil, fmt.Sprintf("unit %d, %d units", u, n)))
		default:
			mask := unitMask(n) << (u % 64)
			if w&mask != mask {
				report(core.Corrupt(int64(hdrOff), "heap: object units free in the bitmap", mask, w&mask))
			}
		}
		u += n
	}
}

// checkRunState compares a reclaimed run's volatile bitmap with the media:
// every persistent bit must be set in it (reservations may add more).
func (h *Heap) checkRunState(r *run, report func(error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	free := uint32(0)
	for i, v := range r.vbits {
		w := h.m.Load(r.bitmapOff + uint64(i)*8)
		if i == len(r.vbits)-1 {
			w |= r.bitmap.LastBitmapWord()
		}
		if w&^v != 0 {
			report(core.Corrupt(int64(r.bitmapOff+uint64(i)*8), "heap: allocated units free in the run-time state", w, v))
		}
		free += uint32(64 - popcount(v))
	}
	if free != r.nfree {
		report(core.Corrupt(int64(r.bitmapOff), "heap: run free count", free, r.nfree))
	}
}

// CheckFree reports free extents of the run-time state that the media does
// not call free, and free-index inconsistencies. h.mu must not be held.
func (h *Heap) CheckFree(report func(error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range h.free.bySize {
		e := extentOfKey(k)
		ch := h.loadChunkHeader(e.zone, e.chunk)
		if ch.Type != layout.ChunkFree || ch.SizeIdx != e.size {
			report(core.Corrupt(int64(h.chunkHeaderOff(e.zone, e.chunk)), "heap: free extent of the run-time state",
				fmt.Sprintf("free, %d chunks", e.size), fmt.Sprintf("type %d, %d chunks", ch.Type, ch.SizeIdx)))
		}
	}
}
