package layout

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

// TestClassesMatchC compares the generated class table with C's.
func TestClassesMatchC(t *testing.T) {
	f, err := os.Open("testdata/classes.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cs := DefaultClasses()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var id int
		var unit uint64
		var units uint32
		var hdr, align int
		if _, err := fmt.Sscanf(sc.Text(), "class %d unit %d units_per_block %d header %d align %d", &id, &unit, &units, &hdr, &align); err != nil {
			t.Fatal(err)
		}
		c := cs.ByID(uint8(id))
		if c == nil {
			t.Fatalf("class %d missing", id)
		}
		got := c.NAllocs()
		if c.Type == ClassHuge {
			got = 0
		}
		if c.UnitSize != unit || got != units || c.HeaderType != HeaderCompact || c.Alignment != uint64(align) {
			t.Errorf("class %d: unit %d units %d hdr %v, C: unit %d units %d", id, c.UnitSize, got, c.HeaderType, unit, units)
		}
	}
	if n != len(cs.All()) {
		t.Fatalf("%d classes, C has %d", len(cs.All()), n)
	}
}

// TestUsableSizes spot-checks the size-to-class choice against sizes
// whose usable size C reported.
func TestUsableSizes(t *testing.T) {
	cs := DefaultClasses()
	for _, c := range []struct{ size, usable uint64 }{
		{1, 112}, {112, 112}, {113, 176}, {128, 176}, {200, 240}, {256, 304}, {500, 560},
		{1000, 1008}, {1024, 1072}, {2000, 2096}, {4096, 4144}, {8000, 8496}, {16384, 16496},
		{65536, 66544}, {100000, 100208}, {131072, 133616}, {262144, 266224}, {393216, 399344},
	} {
		cl := cs.ForSize(c.size)
		if got := cl.Units(c.size)*cl.UnitSize - cl.HeaderType.Size(); got != c.usable {
			t.Errorf("size %d: usable %d, C %d", c.size, got, c.usable)
		}
	}
}

// TestChecksumVectors recomputes checksums of bytes C wrote.
func TestChecksumVectors(t *testing.T) {
	le := binary.LittleEndian
	// The redo log of a root creation in a fresh pool: header and three
	// entries, capacity 0x40.
	b := make([]byte, UlogHeaderSize+3*ValEntrySize)
	le.PutUint64(b[UlogCapacityAt:], 0x40)
	for i, e := range [][2]uint64{{0x1810, 0xa0}, {0x1800, 0x3c14d0}, {0x40000000003824b8, 1}} {
		le.PutUint64(b[UlogHeaderSize+16*i:], e[0])
		le.PutUint64(b[UlogHeaderSize+16*i+8:], e[1])
	}
	if got := UlogChecksum(b); got != 0xc24afcc240746a79 {
		t.Errorf("redo log checksum %#x", got)
	}
	// Undo buffer entries of 16 bytes, generation 0.
	e := make([]byte, BufEntrySize(16))
	le.PutUint64(e, 0xc0000000003c14f0)
	le.PutUint64(e[16:], 16)
	if got := BufEntryChecksum(e, 0); got != 0xc43979c0c03c1500 {
		t.Errorf("buffer entry checksum %#x", got)
	}
	le.PutUint64(e, 0xc0000000003c14d0)
	le.PutUint64(e[24:], 0x1403d6575c6cac6a)
	le.PutUint64(e[32:], 0x400550)
	if got := BufEntryChecksum(e, 0); got != 0xf7fbf75530ec9cf1 {
		t.Errorf("buffer entry checksum %#x", got)
	}
	// The descriptor of a pool with the NULL layout.
	p := make([]byte, RuntimeEnd)
	NewDescriptor("").Encode(p)
	if got := le.Uint64(p[DescChecksumAt:]); got != 0x2f83780000304400 {
		t.Errorf("descriptor checksum %#x", got)
	}
	d, err := DecodeDescriptor(p)
	if err != nil || !d.ChecksumOK || d.HeapOffset != 0x302000 || d.LanesOffset != 0x2000 || d.NLanes != 1024 {
		t.Errorf("descriptor %+v %v", d, err)
	}
}

// TestGeometry pins the format constants to the values C compiles in.
func TestGeometry(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"zone metadata", ZoneMetaSize, 0x80000},
		{"zone stride", ZoneMaxSize, 0x3FFE80000},
		{"heap minimum", HeapMinSize, 1311744},
		{"max alloc", MaxAllocSize, MaxChunk*ChunkSize - 64},
		{"lane external log", LaneExternalAt, 0x100},
		{"lane undo log", LaneUndoAt, 0x3C0},
		{"lane", LaneUndoAt + UlogHeaderSize + LaneUndoCapacity, LaneSize},
		{"heap offset", HeapOffset(LanesOffset, NLanes), 0x302000},
		{"runtime area", RuntimeAt, 0x1A20},
		{"zones of 32 MiB", uint64(MaxZone(32<<20 - 0x302000)), 1},
		{"chunks of 32 MiB", uint64(ZoneSizeIdx(0, 1, 32<<20-0x302000)), 113},
	} {
		if c.got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// TestRunBitmap checks the flexible bitmap of every default class: the
// data starts on a cache line and the units fit the run.
func TestRunBitmap(t *testing.T) {
	for _, c := range DefaultClasses().All() {
		if c.Type != ClassRun {
			continue
		}
		b := c.Bitmap
		if (RunHeaderSize+uint64(b.Size))%CacheLine != 0 {
			t.Errorf("class %d: data at %d", c.ID, RunHeaderSize+b.Size)
		}
		if uint64(b.Size)+uint64(b.NBits)*c.UnitSize > RunContentBytes(c.SizeIdx) {
			t.Errorf("class %d: %d units of %d overflow %d chunks", c.ID, b.NBits, c.UnitSize, c.SizeIdx)
		}
		if b.NValues*64 < b.NBits || (b.NValues-1)*64 >= b.NBits {
			t.Errorf("class %d: %d words for %d bits", c.ID, b.NValues, b.NBits)
		}
	}
}
