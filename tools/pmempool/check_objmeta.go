package pmempool

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core/pool"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

// repairObjMeta restores, in a repair run, the fields of an obj pool's
// descriptor and heap header that have one right value (beyond C, which
// repairs no obj pool): lanes_offset, nlanes and heap_offset are what every
// libpmemobj since 1.0 writes (the size of its pool descriptor, 1024 lanes,
// the next page after them); the heap header's signature, chunk size and
// chunks per zone are constants. Then the descriptor's
// checksum must match again (else -a recomputes it: the layout name, which
// only an open naming a layout compares, may be what is wrong), and the
// heap header's checksum is recomputed if it does not match (its other
// bytes are unused). Each fix is a question; the heap check that follows
// decides whether the pool is repaired.
func (c *checker) repairObjMeta() error {
	if !c.o.Repair || !c.im.has(0, objlayout.RuntimeEnd) {
		return nil
	}
	le := binary.LittleEndian
	b := c.im.b
	changed := false
	known := []struct {
		at   uint64
		name string
		want uint64
	}{
		{objlayout.LanesOffsetAt, "lanes_offset", objlayout.LanesOffset},
		{objlayout.NLanesAt, "nlanes", objlayout.NLanes},
		{objlayout.HeapOffsetAt, "heap_offset", objlayout.HeapOffset(objlayout.LanesOffset, objlayout.NLanes)},
	}
	for _, f := range known {
		if got := le.Uint64(b[f.at:]); got != f.want {
			yes, err := c.ask(fmt.Sprintf("invalid obj descriptor %s: 0x%x|restore the value libpmemobj writes (0x%x)?", f.name, got, f.want), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.putU64(f.at, f.want)
				changed = true
			}
		}
	}
	if unused := b[objlayout.DescUnusedAt:objlayout.DescChecksumAt]; !pool.IsZero(unused) {
		yes, err := c.ask("obj descriptor: unused bytes not zero|zero them?", true)
		if err != nil {
			return err
		}
		if yes {
			c.im.write(objlayout.DescUnusedAt, make([]byte, len(unused)))
			changed = true
		}
	}
	if sum := objlayout.DescChecksum(b); le.Uint64(b[objlayout.DescChecksumAt:]) != sum && (changed || c.o.Advanced) {
		if !c.o.Advanced && changed {
			// Restored fields that do not bring the checksum back: the
			// damage is elsewhere too; only -a recomputes it.
			c.infof("the obj descriptor's checksum does not match its restored fields")
		} else {
			yes, err := c.ask(fmt.Sprintf("invalid obj descriptor checksum: 0x%x|set it to 0x%x (the layout name cannot be verified)?",
				le.Uint64(b[objlayout.DescChecksumAt:]), sum), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.putU64(objlayout.DescChecksumAt, sum)
				changed = true
			}
		}
	}

	// The heap header, where the (restored) descriptor puts it.
	hoff := le.Uint64(b[objlayout.HeapOffsetAt:])
	if c.im.has(hoff, objlayout.HeapHeaderSize) {
		h := b[hoff : hoff+objlayout.HeapHeaderSize]
		want := objlayout.NewHeapHeader()
		for _, f := range []struct {
			name   string
			at, to int
		}{
			// Major and minor: not read by libpmemobj 1.12 (nor checked).
			{"signature", 0, 16}, {"chunk size", 40, 48}, {"chunks per zone", 48, 56},
		} {
			if string(h[f.at:f.to]) == string(want[f.at:f.to]) {
				continue
			}
			yes, err := c.ask(fmt.Sprintf("invalid heap header %s|restore the value libpmemobj writes?", f.name), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.write(hoff+uint64(f.at), want[f.at:f.to])
				changed = true
			}
		}
		at := uint64(objlayout.HeapChecksumAt)
		if sum := pool.Checksum(h, int(at), 0); le.Uint64(h[at:]) != sum {
			yes, err := c.ask(fmt.Sprintf("invalid heap header checksum: 0x%x|set it to 0x%x?", le.Uint64(h[at:]), sum), true)
			if err != nil {
				return err
			}
			if yes {
				c.im.putU64(hoff+at, sum)
				changed = true
			}
		}
	}
	if changed {
		c.fixed()
	}
	return nil
}

// repairChunks rebuilds, in a repair run, chunk headers that the chunks
// around them say what they were (beyond C): a run whose following
// chunks are its run-data chunks (each holding its distance to the run's
// first chunk), a huge block whose footer holds its size. A header with
// unknown flag bits (never valid) loses them; a run's header whose type
// or size is damaged gets type run and the size its run-data chunks give,
// if its run header (block size, bitmap) fits that geometry; a used
// chunk's size that disagrees with its footer takes the footer's; the
// alignment of a run not flagged aligned is zeroed. The
// heap check that follows decides whether the pool is repaired.
func (c *checker) repairChunks() error {
	if !c.o.Repair || !c.im.has(0, objlayout.RuntimeEnd) {
		return nil
	}
	le := binary.LittleEndian
	hoff := le.Uint64(c.im.b[objlayout.HeapOffsetAt:])
	if hoff > c.im.size {
		return nil
	}
	heapSize := (c.im.size &^ (objlayout.PageSize - 1)) - hoff
	if hs := le.Uint64(c.im.b[objlayout.HeapSizeAt:]); hs != 0 && hs < heapSize {
		heapSize = hs
	}
	nz := objlayout.MaxZone(heapSize)
	for z := range nz {
		zoff := hoff + objlayout.ZoneOffset(z)
		if !c.im.has(zoff, objlayout.ZoneMetaSize) {
			return nil
		}
		zh := objlayout.DecodeZoneHeader(le.Uint64(c.im.b[zoff:]))
		n := zh.SizeIdx
		if zh.Magic != objlayout.ZoneMagic || n == 0 || n > objlayout.MaxChunk ||
			!c.im.has(hoff+objlayout.ChunkOffset(z, 0), uint64(n)*objlayout.ChunkSize) {
			continue
		}
		hdrAt := func(ci uint32) uint64 { return hoff + objlayout.ChunkHeaderOffset(z, ci) }
		hdr := func(ci uint32) objlayout.ChunkHeader {
			return objlayout.DecodeChunkHeader(le.Uint64(c.im.b[hdrAt(ci):]))
		}
		for ci := uint32(0); ci < n; {
			h := hdr(ci)
			want := h
			want.Flags &= objlayout.FlagCompactHeader | objlayout.FlagHeaderNone | objlayout.FlagAligned | objlayout.FlagFlexBitmap
			// Run-data chunks after ci, each at its distance.
			k := uint32(0)
			for ci+k+1 < n {
				d := hdr(ci + k + 1)
				if d.Type != objlayout.ChunkRunData || d.SizeIdx != k+1 {
					break
				}
				k++
			}
			sizeOK := h.SizeIdx >= 1 && h.SizeIdx <= n-ci
			knownType := h.Type != objlayout.ChunkUnknown && h.Type <= objlayout.ChunkRunData
			switch {
			case h.Valid() && sizeOK:
				if h.Type == objlayout.ChunkUsed {
					want.SizeIdx = c.footerSize(hdr, ci, n, h.SizeIdx)
				}
			case knownType && sizeOK && h.Type != objlayout.ChunkRun:
				// Only unknown flag bits: cleared (want.Flags).
			default:
				// A damaged type or size, or a run's unknown flag bits:
				// a run if its run header fits the size its run-data
				// chunks give.
				cand := objlayout.ChunkHeader{Type: objlayout.ChunkRun, Flags: want.Flags, SizeIdx: k + 1}
				if c.runFits(hoff+objlayout.ChunkOffset(z, ci), cand) {
					want = cand
				} else {
					want = h
				}
			}
			if want != h && want.SizeIdx >= 1 && want.SizeIdx <= n-ci {
				yes, err := c.ask(fmt.Sprintf("invalid chunk header of zone %d chunk %d: type %d flags 0x%x size %d|rebuild it from the chunks around it (type %d flags 0x%x size %d)?",
					z, ci, h.Type, h.Flags, h.SizeIdx, want.Type, want.Flags, want.SizeIdx), true)
				if err != nil {
					return err
				}
				if yes {
					c.im.putU64(hdrAt(ci), want.Word())
					c.fixed()
					h = want
				}
			}
			if h.SizeIdx == 0 || h.SizeIdx > n-ci {
				break // left for the heap check to report
			}
			// A run not flagged aligned has alignment 0 (libpmemobj
			// writes it so; legacy runs hold an old pointer there).
			if h.Type == objlayout.ChunkRun && h.Flags&(objlayout.FlagFlexBitmap|objlayout.FlagAligned) == objlayout.FlagFlexBitmap {
				at := hoff + objlayout.ChunkOffset(z, ci) + 8
				if a := le.Uint64(c.im.b[at:]); a != 0 {
					yes, err := c.ask(fmt.Sprintf("alignment 0x%x of the run at zone %d chunk %d, not flagged aligned|set it to 0?", a, z, ci), true)
					if err != nil {
						return err
					}
					if yes {
						c.im.putU64(at, 0)
						c.fixed()
					}
				}
			}
			ci += h.SizeIdx
		}
	}
	return nil
}

// footerSize returns the size the footer of the huge block at chunk ci
// gives (the first later chunk whose header is a footer holding its
// distance to ci plus one, with only zeroed headers between), or size if
// there is none.
func (c *checker) footerSize(hdr func(uint32) objlayout.ChunkHeader, ci, n, size uint32) uint32 {
	for j := ci + 1; j < n; j++ {
		f := hdr(j)
		if f.Type == objlayout.ChunkFooter {
			if f.SizeIdx == j-ci+1 {
				return f.SizeIdx
			}
			return size
		}
		if f != (objlayout.ChunkHeader{}) {
			return size
		}
	}
	return size
}

// runFits reports whether the run header at off (block size, alignment)
// and its bitmap fit a run chunk header h.
func (c *checker) runFits(off uint64, h objlayout.ChunkHeader) bool {
	if !c.im.has(off, objlayout.RunHeaderSize) || (h.SizeIdx > 1 && h.Flags&objlayout.FlagFlexBitmap == 0) {
		return false
	}
	le := binary.LittleEndian
	unit, align := le.Uint64(c.im.b[off:]), le.Uint64(c.im.b[off+8:])
	if h.Flags&objlayout.FlagAligned == 0 {
		align = 0
	}
	content := objlayout.RunContentBytes(h.SizeIdx)
	if unit == 0 || unit > content || !c.im.has(off, objlayout.RunHeaderSize+content) {
		return false
	}
	b, sizeIdx := objlayout.RunBitmapOf(h.SizeIdx, h.Flags, unit, align)
	if sizeIdx != h.SizeIdx || b.NBits == 0 || uint64(b.Size) > content {
		return false
	}
	// The padding bits of the last bitmap word are set in every run.
	last := off + objlayout.RunHeaderSize + uint64(b.NValues-1)*8
	pad := b.LastBitmapWord()
	return le.Uint64(c.im.b[last:])&pad == pad
}
