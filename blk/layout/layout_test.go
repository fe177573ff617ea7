package layout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/core"
)

var parent = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// TestGeometryMatchesC checks the numbers pmempool info shows for a 32 MiB
// pool with 512-byte blocks (shared reference, "Facts checked here").
func TestGeometryMatchesC(t *testing.T) {
	in, ok := ArenaInfo(512, DefaultNFree, 32<<20-BTTOffset, 0)
	if !ok {
		t.Fatal("arena does not fit")
	}
	if in.ExternalNLBA != 64700 || in.InternalNLBA != 64956 || in.NFree != 256 || in.MapOff != 0x1fb9000 ||
		in.FlogOff != 0x1ff9000 || in.InfoOff != 0x1ffd000 || in.NextOff != 0 {
		t.Fatalf("got %+v", in)
	}
	n, nlba, ok := Geometry(32<<20-BTTOffset, 512)
	if !ok || n != 1 || nlba != 64700 {
		t.Fatalf("Geometry = %d, %d, %v", n, nlba, ok)
	}
	if n, _, _ = Geometry(MaxArena+MinSize, 4096); n != 2 {
		t.Fatalf("two arenas expected, got %d", n)
	}
	if _, _, ok := Geometry(MinSize-1, 512); ok {
		t.Fatal("a namespace below MinSize holds a BTT")
	}
	if MinPoolSize != 16<<20+8<<10 {
		t.Fatalf("MinPoolSize %d, PMEMBLK_MIN_POOL is %d", MinPoolSize, 16<<20+8<<10)
	}
}

func TestInternalLBASize(t *testing.T) {
	for in, want := range map[uint32]uint32{1: 512, 512: 512, 513: 768, 4096: 4096, 4000: 4096, 1<<32 - 1: 0} {
		if got := InternalLBASize(in); got != want {
			t.Errorf("InternalLBASize(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestInfoRoundTrip: Decode after Seal gives the fields back, Encode after
// Decode gives the bytes back (unused area included, as repairs need), and
// the checksum is the one pmempool verifies.
func TestInfoRoundTrip(t *testing.T) {
	in, _ := ArenaInfo(4096, DefaultNFree, 64<<20, 0)
	in.Sig = [16]byte([]byte(Signature))
	in.ParentUUID = parent
	in.Major, in.Minor = MajorVersion, MinorVersion
	buf := make([]byte, InfoSize)
	in.Seal(buf)
	got := DecodeInfo(buf)
	if got != in {
		t.Fatalf("round trip: %+v != %+v", got, in)
	}
	if !InfoValid(buf) || got.Validate(buf, parent, 0) != nil {
		t.Fatal("a sealed info block does not validate")
	}
	if binary.LittleEndian.Uint64(buf[InfoChecksumAt:]) != InfoChecksum(buf) {
		t.Fatal("checksum field is not the checksum")
	}
	// Field offsets of struct btt_info.
	for off, want := range map[int]uint64{56: 4096, 72: DefaultNFree, 76: InfoSize, 88: InfoSize, 96: in.MapOff, 104: in.FlogOff, 112: in.InfoOff} {
		var v uint64
		if off < 80 {
			v = uint64(binary.LittleEndian.Uint32(buf[off:]))
		} else {
			v = binary.LittleEndian.Uint64(buf[off:])
		}
		if v != want {
			t.Errorf("field at %d: %d, want %d", off, v, want)
		}
	}
	buf[300] = 0x5a // unused area, as a damaged pool might have it
	again := make([]byte, InfoSize)
	d := DecodeInfo(buf)
	d.Encode(again)
	if !bytes.Equal(again, buf) {
		t.Fatal("Encode(Decode(b)) != b")
	}
	if InfoValid(buf) {
		t.Fatal("a changed unused area keeps the checksum valid")
	}
}

func TestValidate(t *testing.T) {
	good, _ := ArenaInfo(512, DefaultNFree, 32<<20-BTTOffset, 0)
	good.Sig = [16]byte([]byte(Signature))
	good.ParentUUID = parent
	good.Major = MajorVersion
	for _, tc := range []struct {
		name  string
		smash func(in *Info)
		at    int64
	}{
		{"signature", func(in *Info) { in.Sig[0] = 'X' }, 0},
		{"parent", func(in *Info) { in.ParentUUID[3] ^= 1 }, 32},
		{"major", func(in *Info) { in.Major = 0 }, 52},
		{"nfree", func(in *Info) { in.NFree = 0 }, 72},
		{"external_nlba", func(in *Info) { in.ExternalNLBA = 0 }, 60},
		{"internal_lbasize", func(in *Info) { in.InternalLBASize = 500 }, 64},
		{"internal_nlba", func(in *Info) { in.InternalNLBA = 10 }, 68},
		{"infosize", func(in *Info) { in.InfoSize = 512 }, 76},
		{"dataoff", func(in *Info) { in.DataOff = 1 << 62 }, 88},
		{"mapoff", func(in *Info) { in.MapOff = 1<<64 - 8 }, 96},
		{"flogoff", func(in *Info) { in.FlogOff = 32 << 20 }, 104},
		{"infooff", func(in *Info) { in.InfoOff += 8 }, 112},
		{"mapoff alignment", func(in *Info) { in.MapOff -= 2 }, 96},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good
			tc.smash(&in)
			raw := make([]byte, InfoSize)
			in.Seal(raw)
			err := in.Validate(raw, parent, 1000)
			if err == nil {
				err = in.ValidateGeometry(32<<20-BTTOffset, 1000)
			}
			var ce *core.CorruptError
			if !errors.As(err, &ce) || ce.Offset != 1000+tc.at {
				t.Fatalf("%v: want a corruption at %d", err, 1000+tc.at)
			}
		})
	}
	raw := make([]byte, InfoSize)
	in := good
	in.Seal(raw)
	raw[1000] ^= 1
	var ce *core.CorruptError
	if err := in.Validate(raw, parent, 0); !errors.As(err, &ce) || ce.Offset != InfoChecksumAt {
		t.Fatalf("bad checksum: %v", err)
	}
	if err := good.ValidateGeometry(32<<20-BTTOffset, 0); err != nil {
		t.Fatalf("C's geometry: %v", err)
	}
}

// TestCurrentFlog is btt_flog_get_valid's table, sequence numbers outside
// 1..3 included: C compares them as they are, and steps with the low two
// bits only.
func TestCurrentFlog(t *testing.T) {
	for _, tc := range []struct {
		s0, s1 uint32
		cur    int
		ok     bool
	}{
		{1, 0, 0, true}, {0, 1, 1, true}, {0, 0, 0, false}, {2, 2, 0, false},
		{1, 2, 1, true}, {2, 3, 1, true}, {3, 1, 1, true},
		{2, 1, 0, true}, {3, 2, 0, true}, {1, 3, 0, true},
		{7, 1, 1, true}, // 7 steps like 3: the second entry follows it
		{3, 7, 0, true}, {7, 2, 0, true}, {7, 3, 0, true}, {1, 7, 0, true},
		{7, 7, 0, false}, {9, 0, 0, true}, {0, 9, 1, true}, {5, 2, 1, true},
	} {
		cur, ok := CurrentFlog([2]Flog{{Seq: tc.s0}, {Seq: tc.s1}})
		if cur != tc.cur || ok != tc.ok {
			t.Errorf("seq %d, %d: current %d %v, want %d %v", tc.s0, tc.s1, cur, ok, tc.cur, tc.ok)
		}
	}
	for s, want := range map[uint32]uint32{0: 0, 1: 2, 2: 3, 3: 1, 7: 1, 5: 2} {
		if NextSeq(s) != want {
			t.Errorf("NextSeq(%d) = %d, want %d", s, NextSeq(s), want)
		}
	}
}

func TestFlogEncoding(t *testing.T) {
	f := InitialFlog(3, 64700)
	if f != (Flog{LBA: 3, OldMap: 64703 | MapZero, NewMap: 64703 | MapZero, Seq: 1}) {
		t.Fatalf("initial flog %+v", f)
	}
	var b [2 * FlogSize]byte
	f.Encode(b[:])
	if p := DecodeFlogPair(b[:]); p[0] != f || p[1] != (Flog{}) {
		t.Fatalf("pair %+v", p)
	}
	if binary.LittleEndian.Uint32(b[12:]) != 1 || binary.LittleEndian.Uint32(b[4:]) != 64703|MapZero {
		t.Fatalf("bytes % x", b[:FlogSize])
	}
}

func TestPostMapAndMaxBSize(t *testing.T) {
	if PostMap(0, 7) != 7 || PostMap(MapNormal|9, 7) != 9 || PostMap(MapZero|9, 7) != 9 || PostMap(MapError|3, 7) != 3 {
		t.Fatal("PostMap")
	}
	if MaxBSize(StructSize) != 0 || MaxBSize(20000) != 0 {
		t.Fatal("a block size for a file too small for a BTT")
	}
	// The largest block that leaves 2*nfree blocks in a 32 MiB pool.
	m := MaxBSize(32 << 20)
	if in, ok := ArenaInfo(m, DefaultNFree, 32<<20-StructSize, 0); !ok || in.InternalNLBA < 2*DefaultNFree {
		t.Fatalf("MaxBSize %d does not fit: %+v", m, in)
	}
}
