package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/layout"
)

var le = binary.LittleEndian

// objGeo locates the structures of a pool image the damage table hits:
// read from the image itself, so the table follows the pool it is given.
type objGeo struct {
	heap                 uint64 // heap offset
	lanes                uint64 // lane 0
	pending              uint64 // the undo log of the lane with a pending transaction (crash pool), else 0
	zone                 uint64 // zone 0 header
	runHdr, usedHdr      uint64 // the chunk headers of the first run and the first used (huge) chunk
	run                  uint64 // the first run's chunk
	runFlags             uint16
	block, bitmap, data  uint64 // the run's block size, bitmap and first unit
	nbits                uint32 // units of the run
	liveUnit             uint64 // a unit of the run holding a live object
	root, rootHdr, lives uint64 // the root object, its header; a live object's header in the run
}

func geometry(t *testing.T, b []byte, needLive bool) *objGeo {
	t.Helper()
	g := &objGeo{heap: le.Uint64(b[layout.HeapOffsetAt:]), lanes: le.Uint64(b[layout.LanesOffsetAt:])}
	g.zone = g.heap + layout.ZoneOffset(0)
	for c := uint32(0); c < layout.MaxChunk; {
		hoff := g.heap + layout.ChunkHeaderOffset(0, c)
		h := layout.DecodeChunkHeader(le.Uint64(b[hoff:]))
		if h.SizeIdx == 0 {
			break
		}
		switch {
		case h.Type == layout.ChunkRun && g.runHdr == 0:
			g.runHdr, g.run, g.runFlags = hoff, g.heap+layout.ChunkOffset(0, c), h.Flags
			g.block = le.Uint64(b[g.run:])
			bm, _ := layout.RunBitmapOf(h.SizeIdx, h.Flags, g.block, le.Uint64(b[g.run+8:]))
			g.bitmap, g.nbits = g.run+layout.RunHeaderSize, bm.NBits
			g.data = g.run + layout.RunDataOffset(bm, h.Flags, h.HeaderType().Size(), le.Uint64(b[g.run+8:]), g.run)
		case h.Type == layout.ChunkUsed && g.usedHdr == 0:
			g.usedHdr = hoff
		}
		c += h.SizeIdx
	}
	if g.runHdr == 0 {
		t.Fatal("the base pool has no run")
	}
	g.root = le.Uint64(b[layout.RootOffsetAt:])
	g.rootHdr = g.root - layout.CompactHeaderSize
	// A live object of the run that is not the root: the last unit whose
	// bit is set and that starts an object (its header's size is not 0).
	for u := uint64(g.nbits) - 1; u > 0; u-- {
		if le.Uint64(b[g.bitmap+u/64*8:])&(1<<(u%64)) == 0 {
			continue
		}
		hdr := g.data + u*g.block
		if w := le.Uint64(b[hdr:]); w&layout.HeaderSizeMask != 0 && hdr != g.rootHdr {
			g.liveUnit, g.lives = u, hdr
			break
		}
	}
	if g.lives == 0 && needLive {
		t.Fatal("the base pool's first run holds no live object")
	}
	return g
}

// objDamage is one row of the damage table: a field of an obj pool and
// what damaging it does.
type objDamage struct {
	area, field string
	crash       bool // damage the pool with a pending transaction
	damage      func(b []byte, g *objGeo)
	// why, when not empty, says why the damage is no damage to check for:
	// both tools accept the pool (the test wants exit 0 from ours).
	why string
}

func xor8(off func(g *objGeo) uint64, v byte) func([]byte, *objGeo) {
	return func(b []byte, g *objGeo) { b[off(g)] ^= v }
}

func at(off uint64) func(*objGeo) uint64 { return func(*objGeo) uint64 { return off } }

func put64(off func(g *objGeo) uint64, v uint64) func([]byte, *objGeo) {
	return func(b []byte, g *objGeo) { le.PutUint64(b[off(g):], v) }
}

// withHdrSum applies d, then makes the pool header's checksum match again
// (the field is wrong, the header's checksum is not).
func withHdrSum(d func([]byte, *objGeo)) func([]byte, *objGeo) {
	return func(b []byte, g *objGeo) {
		d(b, g)
		h, err := pool.DecodeHeader(b)
		if err != nil {
			panic(err)
		}
		h.Encode(b[:pool.HeaderSize])
	}
}

// withDescSum applies d, then makes the descriptor's checksum match again.
func withDescSum(d func([]byte, *objGeo)) func([]byte, *objGeo) {
	return func(b []byte, g *objGeo) {
		d(b, g)
		le.PutUint64(b[layout.DescChecksumAt:], layout.DescChecksum(b))
	}
}

// withHeapSum applies d, then makes the heap header's checksum match again.
func withHeapSum(d func([]byte, *objGeo)) func([]byte, *objGeo) {
	return func(b []byte, g *objGeo) {
		d(b, g)
		h := b[g.heap : g.heap+layout.HeapHeaderSize]
		le.PutUint64(h[layout.HeapChecksumAt:], pool.Checksum(h, layout.HeapChecksumAt, 0))
	}
}

// pendingAt is an offset in the pending undo log of the crash pool.
func pendingAt(off uint64) func(*objGeo) uint64 {
	return func(g *objGeo) uint64 { return g.pending + off }
}

const hdrValid = "C checks the header's fields only when its checksum is wrong"

const unlogged = "undo entries are checksummed with the log's gen_num and their offset: a mismatch ends the log, which is then not rolled back; no checker can tell it from a log never written"

var objDamages = []objDamage{
	// Pool header (0..4096).
	{area: "pool header", field: "signature", damage: xor8(at(0), 0x20)},
	{area: "pool header", field: "signature, checksum fixed", damage: withHdrSum(xor8(at(0), 0x20))},
	{area: "pool header", field: "major", damage: xor8(at(8), 1)},
	{area: "pool header", field: "major, checksum fixed", damage: withHdrSum(xor8(at(8), 1))},
	{area: "pool header", field: "compat", damage: xor8(at(12), 4)},
	{area: "pool header", field: "compat, checksum fixed", damage: withHdrSum(xor8(at(12), 4)), why: hdrValid + "; an unknown compat feature is ignored by definition"},
	{area: "pool header", field: "incompat", damage: xor8(at(16), 0x40)},
	{area: "pool header", field: "incompat, checksum fixed", damage: withHdrSum(xor8(at(16), 0x40))},
	{area: "pool header", field: "ro_compat, checksum fixed", damage: withHdrSum(xor8(at(20), 1)), why: hdrValid + "; the pool is sound, an unknown ro_compat feature allows reading it only: C's pmemobj_open, which cannot open read-only, refuses it, as obj.Open does unless asked to open read-only"},
	{area: "pool header", field: "unused bytes, checksum fixed", damage: withHdrSum(xor8(at(0x100), 1)), why: hdrValid + "; the libraries do not read them"},
	{area: "pool header", field: "poolset_uuid", damage: xor8(at(24), 1)},
	{area: "pool header", field: "uuid", damage: xor8(at(40), 1)},
	{area: "pool header", field: "uuid, checksum fixed", damage: withHdrSum(xor8(at(40), 1))},
	{area: "pool header", field: "prev_part_uuid", damage: xor8(at(56), 1)},
	{area: "pool header", field: "next_part_uuid, checksum fixed", damage: withHdrSum(xor8(at(72), 1))},
	{area: "pool header", field: "prev_repl_uuid", damage: xor8(at(88), 1)},
	{area: "pool header", field: "next_repl_uuid, checksum fixed", damage: withHdrSum(xor8(at(104), 1))},
	{area: "pool header", field: "crtime", damage: xor8(at(120), 1)},
	{area: "pool header", field: "crtime in the future, checksum fixed", damage: withHdrSum(put64(at(120), 1<<62)), why: hdrValid + "; the libraries do not read crtime"},
	{area: "pool header", field: "arch flags (alignment), checksum fixed", damage: withHdrSum(xor8(at(128), 1))},
	{area: "pool header", field: "shutdown state dirty, unsafe shutdown count changed", damage: func(b []byte, _ *objGeo) {
		h, err := pool.DecodeHeader(b)
		if err != nil {
			panic(err)
		}
		h.SDS.Dirty, h.SDS.USC = 1, h.SDS.USC+1
		h.SDS.UpdateChecksum()
		h.Encode(b[:pool.HeaderSize])
	}},
	{area: "pool header", field: "shutdown state, its checksum wrong", damage: xor8(at(4024+16), 1),
		why: "a shutdown state whose checksum is wrong is ignored (both libraries)"},
	{area: "pool header", field: "checksum", damage: xor8(at(4088), 1)},
	{area: "pool header", field: "all zeros", damage: func(b []byte, _ *objGeo) { clear(b[:pool.HeaderSize]) }},
	// Obj descriptor (4096..6144) and the runtime part after it.
	{area: "descriptor", field: "layout name", damage: xor8(at(layout.DescOffset), 1)},
	{area: "descriptor", field: "layout name, checksum fixed", damage: withDescSum(xor8(at(layout.DescOffset), 1)),
		why: "any layout name is valid; only an open naming a layout compares it"},
	{area: "descriptor", field: "lanes_offset", damage: xor8(at(layout.LanesOffsetAt+1), 0x10)},
	{area: "descriptor", field: "lanes_offset, checksum fixed", damage: withDescSum(put64(at(layout.LanesOffsetAt), 1<<40))},
	{area: "descriptor", field: "nlanes, checksum fixed", damage: withDescSum(put64(at(layout.NLanesAt), 0))},
	{area: "descriptor", field: "heap_offset", damage: xor8(at(layout.HeapOffsetAt+1), 0x10)},
	{area: "descriptor", field: "heap_offset, checksum fixed", damage: withDescSum(put64(at(layout.HeapOffsetAt), 0x1000))},
	{area: "descriptor", field: "unused bytes, checksum fixed", damage: withDescSum(xor8(at(layout.DescUnusedAt+5), 1))},
	{area: "descriptor", field: "checksum", damage: xor8(at(layout.DescChecksumAt), 1)},
	{area: "descriptor", field: "root_offset", damage: put64(at(layout.RootOffsetAt), 0x10)},
	{area: "descriptor", field: "root_size above the root", damage: put64(at(layout.RootSizeAt), 1<<20)},
	{area: "descriptor", field: "run_id", damage: xor8(at(layout.RunIDAt), 6),
		why: "run_id only grows from one open to the next; any value is valid"},
	{area: "descriptor", field: "heap_size", damage: put64(at(layout.HeapSizeAt), 4096)},
	{area: "descriptor", field: "pmem_reserved", damage: xor8(at(layout.ReservedAt+8), 1), why: "reserved bytes outside the descriptor's checksum, read by neither library"},
	// Lanes: lane 0 of the clean pool, the pending undo log of the crash pool.
	{area: "lanes", field: "lane 0 undo log checksum (no entries)", damage: xor8(func(g *objGeo) uint64 { return g.lanes + layout.LaneUndoAt }, 1),
		why: "a log without entries has nothing to verify or replay"},
	{area: "lanes", field: "lane 0 undo log capacity", damage: put64(func(g *objGeo) uint64 { return g.lanes + layout.LaneUndoAt + layout.UlogCapacityAt }, 1<<40)},
	{area: "lanes", field: "lane 0 undo log next", damage: put64(func(g *objGeo) uint64 { return g.lanes + layout.LaneUndoAt + layout.UlogNextAt }, 1<<40)},
	{area: "lanes", field: "pending undo log (no damage)", crash: true, damage: func([]byte, *objGeo) {},
		why: "a transaction cut short: recovery rolls it back (check recovers in memory)"},
	{area: "lanes", field: "pending undo log checksum", crash: true, damage: xor8(pendingAt(layout.UlogChecksumAt), 1),
		why: "an undo log is read by its entries' own checksums, not by its header's"},
	{area: "lanes", field: "pending undo log gen_num", crash: true, damage: xor8(pendingAt(layout.UlogGenNumAt), 1), why: unlogged},
	{area: "lanes", field: "pending undo log capacity", crash: true, damage: put64(pendingAt(layout.UlogCapacityAt), 1<<40)},
	{area: "lanes", field: "pending undo log next", crash: true, damage: put64(pendingAt(layout.UlogNextAt), 1<<40)},
	{area: "lanes", field: "pending undo entry offset, log checksum fixed", crash: true, why: unlogged, damage: func(b []byte, g *objGeo) {
		e := g.pending + layout.UlogHeaderSize
		w := le.Uint64(b[e:])
		le.PutUint64(b[e:], w&layout.OpMask|1<<50) // an offset far outside the pool
		h := layout.DecodeUlogHeader(b[g.pending:])
		n := ulogUsed(b, g.pending, h)
		le.PutUint64(b[g.pending:], layout.UlogChecksum(b[g.pending:g.pending+layout.UlogHeaderSize+n]))
	}},
	// Heap header.
	{area: "heap header", field: "signature", damage: xor8(func(g *objGeo) uint64 { return g.heap }, 1)},
	{area: "heap header", field: "signature, checksum fixed", damage: withHeapSum(xor8(func(g *objGeo) uint64 { return g.heap }, 1))},
	{area: "heap header", field: "major, checksum fixed", damage: withHeapSum(xor8(func(g *objGeo) uint64 { return g.heap + 16 }, 2)),
		why: "libpmemobj 1.12.1 does not read the heap's major (see the pmemobj_open column)"},
	{area: "heap header", field: "chunksize, checksum fixed", damage: withHeapSum(xor8(func(g *objGeo) uint64 { return g.heap + 41 }, 1))},
	{area: "heap header", field: "chunks_per_zone, checksum fixed", damage: withHeapSum(xor8(func(g *objGeo) uint64 { return g.heap + 48 }, 1))},
	{area: "heap header", field: "checksum", damage: xor8(func(g *objGeo) uint64 { return g.heap + layout.HeapChecksumAt }, 1)},
	// Zones.
	{area: "zone", field: "zone 0 magic", damage: xor8(func(g *objGeo) uint64 { return g.zone }, 1)},
	{area: "zone", field: "zone 0 size_idx", damage: xor8(func(g *objGeo) uint64 { return g.zone + 4 }, 0x10)},
	{area: "zone", field: "zone 0 size_idx 0", damage: func(b []byte, g *objGeo) { le.PutUint32(b[g.zone+4:], 0) }},
	// Chunks.
	{area: "chunk", field: "run chunk type", damage: func(b []byte, g *objGeo) { le.PutUint16(b[g.runHdr:], 9) }},
	{area: "chunk", field: "run chunk type to free", damage: func(b []byte, g *objGeo) { le.PutUint16(b[g.runHdr:], layout.ChunkFree) }},
	{area: "chunk", field: "run chunk flags (unknown bit)", damage: func(b []byte, g *objGeo) { b[g.runHdr+3] |= 0x80 }},
	{area: "chunk", field: "run chunk size_idx 0", damage: func(b []byte, g *objGeo) { le.PutUint32(b[g.runHdr+4:], 0) }},
	{area: "chunk", field: "huge chunk size_idx +1", damage: func(b []byte, g *objGeo) { le.PutUint32(b[g.usedHdr+4:], le.Uint32(b[g.usedHdr+4:])+1) }},
	{area: "chunk", field: "huge chunk type to free", damage: func(b []byte, g *objGeo) { le.PutUint16(b[g.usedHdr:], layout.ChunkFree) },
		why: "a huge object marked free reads as a freed object: its bytes are not looked at (the object is lost, undetectably)"},
	{area: "chunk", field: "run block_size", damage: func(b []byte, g *objGeo) { le.PutUint64(b[g.run:], le.Uint64(b[g.run:])+16) }},
	{area: "chunk", field: "run block_size 0", damage: func(b []byte, g *objGeo) { le.PutUint64(b[g.run:], 0) }},
	{area: "chunk", field: "run alignment", damage: func(b []byte, g *objGeo) { le.PutUint64(b[g.run+8:], 4096) }},
	// Run bitmaps.
	{area: "run bitmap", field: "bit past the last unit cleared", damage: func(b []byte, g *objGeo) {
		w := g.bitmap + uint64(g.nbits)/64*8
		le.PutUint64(b[w:], le.Uint64(b[w:])&^(1<<(g.nbits%64)))
	}},
	{area: "run bitmap", field: "bit freed under a live object", damage: func(b []byte, g *objGeo) {
		w := g.bitmap + g.liveUnit/64*8
		le.PutUint64(b[w:], le.Uint64(b[w:])&^(1<<(g.liveUnit%64)))
	}},
	{area: "run bitmap", field: "bit set on a free unit", damage: func(b []byte, g *objGeo) {
		for u := uint64(0); u < uint64(g.nbits); u++ {
			w := g.bitmap + u/64*8
			if v := le.Uint64(b[w:]); v&(1<<(u%64)) == 0 {
				le.PutUint64(b[w:], v|1<<(u%64))
				return
			}
		}
	}},
	// Object headers.
	{area: "object", field: "live object size", damage: func(b []byte, g *objGeo) { le.PutUint64(b[g.lives:], le.Uint64(b[g.lives:])+1<<30) }},
	{area: "object", field: "live object size 0", damage: func(b []byte, g *objGeo) {
		le.PutUint64(b[g.lives:], le.Uint64(b[g.lives:])&^uint64(layout.HeaderSizeMask))
	}},
	{area: "object", field: "live object type number", damage: func(b []byte, g *objGeo) { b[g.lives+8] ^= 1 },
		why: "any type number is valid"},
	{area: "object", field: "root object flags (internal bit)", damage: func(b []byte, g *objGeo) { b[g.rootHdr+7] ^= 0x80 }},
	{area: "object", field: "root object size", damage: func(b []byte, g *objGeo) { le.PutUint64(b[g.rootHdr:], le.Uint64(b[g.rootHdr:])+1<<30) }},
}

// ulogUsed returns the bytes of entries in the first log at off.
func ulogUsed(b []byte, off uint64, h layout.UlogHeader) uint64 {
	var n uint64
	for n < h.Capacity && off+layout.UlogHeaderSize+n+8 <= uint64(len(b)) {
		e := off + layout.UlogHeaderSize + n
		w := le.Uint64(b[e:])
		if w == 0 {
			break
		}
		switch w & layout.OpMask {
		case layout.OpBufSet, layout.OpBufCpy:
			n += layout.BufEntrySize(le.Uint64(b[e+16:]))
		default:
			n += layout.ValEntrySize
		}
	}
	return min(n, h.Capacity)
}

// pendingUndo returns the offset of the first undo log with entries.
func pendingUndo(b []byte, g *objGeo) uint64 {
	for i := uint64(0); i < le.Uint64(b[layout.NLanesAt:]); i++ {
		off := g.lanes + i*layout.LaneSize + layout.LaneUndoAt
		if le.Uint64(b[off+layout.UlogHeaderSize:]) != 0 {
			return off
		}
	}
	return 0
}

// verdict is the last line of a check's output, without the file name.
func verdict(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	v := lines[len(lines)-1]
	if v == "" {
		return "(no output)"
	}
	if _, after, ok := strings.Cut(v, ": "); ok && strings.HasPrefix(v, "/") {
		v = after
	}
	return v
}

// firstProblem is the first error line of our check -v (what we found).
func firstProblem(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, "checking ") || strings.HasSuffix(l, " correct") || strings.HasPrefix(l, "/") {
			continue
		}
		if len(l) > 90 {
			l = l[:87] + "..."
		}
		return l
	}
	return ""
}

// TestInteropObjDamage runs C's pmempool check and ours on obj pools
// damaged one field at a time (the base pool made by gopmdk's obj
// library; the pending-log rows on one left by C's libpmemobj in the
// middle of a transaction). Ours never crashes, finds every damage C
// finds, and every damage the table does not explain away; go test -v
// prints the table README.md shows.
func TestInteropObjDamage(t *testing.T) {
	_, crash := cObjPools(t, true)
	base, err := os.ReadFile(goObjPool(t))
	if err != nil {
		t.Fatal(err)
	}
	crashed, err := os.ReadFile(crash)
	if err != nil {
		t.Fatal(err)
	}
	dir := pmemtest.Dir(t)
	cOpen := cProgram(t, `
#include <libpmemobj.h>
#include <stdio.h>
int main(int argc, char **argv) {
	PMEMobjpool *pop = pmemobj_open(argv[1], NULL);
	if (!pop) { printf("%s\n", pmemobj_errormsg()); return 1; }
	pmemobj_close(pop);
	return 0;
}
`, "-lpmemobj")
	var table strings.Builder
	table.WriteString("| area | damaged field | C `check` | ours `check` | what ours finds | C `pmemobj_open` | gopmdk `obj.Open` | ours `check -ry` | ours `check -rya` |\n|---|---|---|---|---|---|---|---|---|\n")
	var agree, cFinds, oursOnly, neither int
	for _, d := range objDamages {
		src := base
		if d.crash {
			src = crashed
		}
		b := append([]byte(nil), src...)
		g := geometry(t, b, !d.crash)
		if d.crash {
			if g.pending = pendingUndo(b, g); g.pending == 0 {
				t.Fatal("the crash pool has no pending undo log")
			}
		}
		d.damage(b, g)
		p := filepath.Join(dir, "damaged.obj")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		name := d.area + ": " + d.field
		cCode, cOut := cRun(t, "", "check", p)
		code, out, stderr := runCmd(t, "", false, "check", p)
		vCode, vOut, vErr := runCmd(t, "", false, "check", "-v", p)
		for _, s := range []string{out + stderr, vOut + vErr} {
			if strings.Contains(s, "internal error") || strings.Contains(s, "panic") {
				t.Errorf("%s: our check crashed:\n%s", name, s)
			}
		}
		if code != vCode {
			t.Errorf("%s: check exits %d, check -v %d", name, code, vCode)
		}
		if cCode != 0 && code == 0 {
			t.Errorf("%s: C finds damage (%s), ours says %s", name, verdict(cOut), verdict(out+stderr))
		}
		switch {
		case d.why == "" && code == 0:
			t.Errorf("%s: damage not found:\n%s%s", name, vOut, vErr)
		case d.why != "" && code != 0:
			t.Errorf("%s: the table says %q, but ours finds damage:\n%s%s", name, d.why, vOut, vErr)
		}
		// gopmdk's obj.Open, read-write as C's (it writes too), on a copy.
		opened := "opens"
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if op, err := obj.Open(p, nil); err != nil {
			opened = "refused"
		} else if err := op.Close(); err != nil {
			t.Fatal(err)
		}
		// C's pmemobj_open (which writes: recovery, run_id) on a copy.
		cOpened := "opens"
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		// C loops for ever on some damage (a chunk of size 0): a pool it
		// has not opened in 3 seconds is one it never opens.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		cOut2, err := exec.CommandContext(ctx, cOpen, p).CombinedOutput()
		hung := ctx.Err() != nil
		cancel()
		if err != nil {
			cOpened = "refused"
			if ee, ok := err.(*exec.ExitError); ok && !ee.Exited() {
				cOpened = "crashes (" + ee.ProcessState.String() + ")"
			}
			if hung {
				cOpened = "hangs"
			}
			t.Logf("%s: C's pmemobj_open: %s: %s", name, err, strings.TrimSpace(string(cOut2)))
		}
		// Repair, on a copy: what ours would do (and did: the copy is
		// checked by C and opened afterwards in the repair test).
		repairs := []string{}
		for _, flags := range []string{"-ry", "-rya"} {
			repairs = append(repairs, repairRow(t, name, p, b, flags))
		}
		switch {
		case cCode == code:
			agree++
		case cCode != 0:
			cFinds++
		default:
			oursOnly++
		}
		if code == 0 && cCode == 0 {
			neither++
		}
		found := firstProblem(vOut + vErr)
		if d.why != "" {
			found = "— (" + d.why + ")"
		}
		fmt.Fprintf(&table, "| %s | %s | %d, %s | %d, %s | %s | %s | %s | %s | %s |\n", d.area, d.field, cCode, verdict(cOut), code,
			verdict(out+stderr), strings.ReplaceAll(found, "|", "\\|"), cOpened, opened, repairs[0], repairs[1])
	}
	fmt.Fprintf(&table, "\n%d pools: %d same exit code as C (%d of them accepted by both), %d found by ours only, %d by C only.\n",
		len(objDamages), agree, neither, oursOnly, cFinds)
	t.Log("\n" + table.String())
	if len(objDamages) < 50 {
		t.Errorf("%d damaged pools, want 50 or more", len(objDamages))
	}
}

// repairRow repairs a copy of the damaged pool b at p with our check
// flags and returns the verdict; a pool said repaired must then be
// accepted by C's check, by ours and by obj.Open, and a refused repair
// must leave the file as it was.
func repairRow(t *testing.T, name, p string, b []byte, flags string) string {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCmd(t, "", false, "check", flags, p)
	v := verdict(out + stderr)
	after, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if v != "repaired" {
		if string(after) != string(b) {
			t.Errorf("%s: check %s says %s (exit %d) but changed the file", name, flags, v, code)
		}
		return v
	}
	if c, cOut := cRun(t, "", "check", p); c != 0 {
		t.Errorf("%s: after check %s, C's check: exit %d\n%s", name, flags, c, cOut)
	}
	if c, out, stderr := runCmd(t, "", false, "check", p); c != 0 {
		t.Errorf("%s: after check %s, our check: exit %d\n%s%s", name, flags, c, out, stderr)
	}
	op, err := obj.Open(p, nil)
	if err != nil {
		t.Errorf("%s: after check %s, obj.Open: %v", name, flags, err)
		return v
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	return v
}
