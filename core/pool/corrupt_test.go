package pool

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// cHeader returns a header C PMDK wrote (testdata/cheaders/name.hdr.gz).
func cHeader(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cheaders", name+".hdr.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil || len(b) != HeaderSize {
		t.Fatalf("%s: %d bytes, %v", name, len(b), err)
	}
	return b
}

func TestCHeaderFixtures(t *testing.T) {
	for name, k := range map[string]Kind{"obj": Obj, "blk": Blk, "log": Log, "log-open": Log} {
		b := cHeader(t, name)
		h, err := DecodeHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Validate(k); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := uint8(0); name == "log-open" {
			if h.SDS.Dirty != 1 || !h.SDS.ChecksumOK() {
				t.Fatalf("%s: SDS %+v", name, h.SDS)
			}
		} else if h.SDS.Dirty != want || !h.SDS.IsZero() {
			t.Fatalf("%s: SDS %+v", name, h.SDS)
		}
		enc := make([]byte, HeaderSize)
		h.Encode(enc)
		if !bytes.Equal(enc, b) {
			t.Fatalf("%s: re-encode differs", name)
		}
	}
}

// headerCorruptions corrupt one field of a header each. With rechksum the
// checksum is recomputed so the check of the field itself is reached.
var headerCorruptions = []struct {
	name     string
	mutate   func(b []byte)
	rechksum bool   // recompute the checksum after mutating
	field    string // substring of the CorruptError field; "": not corruption, is only
	is       error  // extra sentinel the error must wrap
}{
	{"signature", func(b []byte) { b[3] = 'X' }, false, "signature", nil},
	{"another type", func(b []byte) { copy(b, "PMEMBLK") }, false, "", ErrWrongType},
	{"major zero", func(b []byte) { le.PutUint32(b[offMajor:], 0) }, false, "major (must not be 0)", nil},
	{"major", func(b []byte) { le.PutUint32(b[offMajor:], 2) }, false, "", ErrVersion},
	{"unknown incompat", func(b []byte) { b[offIncompat+1] |= 1 }, false, "", ErrIncompatible},
	{"singlehdr", func(b []byte) { b[offIncompat] |= byte(FeatSingleHdr) }, true, "SINGLEHDR", nil},
	{"checksum", func(b []byte) { b[offChecksum+7] ^= 1 }, false, "checksum", nil},
	{"compat stale", func(b []byte) { b[offCompat] ^= 1 }, false, "checksum", nil},
	{"crtime stale", func(b []byte) { b[offCrTime] ^= 1 }, false, "checksum", nil},
	{"poolset uuid stale", func(b []byte) { b[offPoolsetUUID] ^= 1 }, false, "checksum", nil},
	{"uuid stale", func(b []byte) { b[offUUID+15] ^= 1 }, false, "checksum", nil},
	{"reserved", func(b []byte) { b[offArch+11] = 1 }, true, "arch_flags.reserved", nil},
	{"machine", func(b []byte) { le.PutUint16(b[offArch+14:], MachineAArch64) }, true, "arch_flags.machine", nil},
	{"data", func(b []byte) { b[offArch+9] = 2 }, true, "arch_flags.data", nil},
	{"machine class", func(b []byte) { b[offArch+8] = 1 }, true, "arch_flags.machine_class", nil},
	{"alignment", func(b []byte) { b[offArch] ^= 0x10 }, true, "arch_flags.alignment_desc", nil},
	{"uuid zero", func(b []byte) { clear(b[offUUID : offUUID+16]) }, true, "prev_part_uuid", nil},
	{"prev part", func(b []byte) { b[offPrevPartUUID] ^= 1 }, true, "prev_part_uuid", nil},
	{"next part", func(b []byte) { b[offNextPartUUID] ^= 1 }, true, "next_part_uuid", nil},
	{"prev repl", func(b []byte) { b[offPrevReplUUID] ^= 1 }, true, "prev_repl_uuid", nil},
	{"next repl", func(b []byte) { b[offNextReplUUID] ^= 1 }, true, "next_repl_uuid", nil},
}

var le = binary.LittleEndian

// TestCorruptHeaderFields corrupts each field of a C-made header in turn,
// with the checksum left stale and recomputed, and checks that Validate
// names the field.
func TestCorruptHeaderFields(t *testing.T) {
	base := cHeader(t, "log")
	cases := headerCorruptions
	dir := pmemtest.Dir(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(base)
			c.mutate(b)
			if c.rechksum {
				le.PutUint64(b[offChecksum:], headerChecksum(b, le.Uint32(b[offIncompat:])))
			}
			h, err := DecodeHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			err = h.Validate(Log)
			checkHeaderError(t, "Validate", err, c.field, c.is)
			// Open of the file fails the same way, without a panic.
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			file := make([]byte, Log.MinSize)
			copy(file, b)
			if err := os.WriteFile(path, file, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = Open(path, Log, nil)
			checkHeaderError(t, "Open", err, c.field, c.is)
		})
	}
}

// checkHeaderError checks err, the refusal of a damaged header: a
// CorruptError on field, or, for field "", an error that is sentinel and
// not corruption (another type, version or features).
func checkHeaderError(t *testing.T, op string, err error, field string, sentinel error) {
	t.Helper()
	var ce *core.CorruptError
	if field == "" {
		if !errors.Is(err, sentinel) || errors.Is(err, core.ErrCorrupt) {
			t.Fatalf("%s: %v, want %v and no corruption", op, err, sentinel)
		}
		return
	}
	if !errors.As(err, &ce) || !strings.Contains(ce.Field, field) {
		t.Fatalf("%s: %v, want a CorruptError on %q", op, err, field)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Fatalf("%s: %v, want %v", op, err, sentinel)
	}
}

// refusedAsNotCorrupt reports whether err refuses a pool for what it is
// rather than for damage: another type, version or unknown features.
func refusedAsNotCorrupt(err error) bool {
	return errors.Is(err, ErrWrongType) || errors.Is(err, ErrVersion) || errors.Is(err, ErrIncompatible)
}

// TestUnusedAcceptedLikeC: libpmemlog opens a header whose unused area is
// not zero when the checksum holds (checked in TestInteropUnusedBytes), so
// Validate accepts it too and only CheckUnused reports it.
func TestUnusedAcceptedLikeC(t *testing.T) {
	for _, off := range []int{offUnused + 100, offUnused2 + 7} {
		b := cHeader(t, "log")
		b[off] = 1
		le.PutUint64(b[offChecksum:], headerChecksum(b, le.Uint32(b[offIncompat:])))
		h, _ := DecodeHeader(b)
		if err := h.Validate(Log); err != nil {
			t.Fatalf("byte %d: Validate: %v", off, err)
		}
		var ce *core.CorruptError
		if err := h.CheckUnused(); !errors.As(err, &ce) || ce.Offset != int64(off) {
			t.Fatalf("byte %d: CheckUnused: %v", off, err)
		}
	}
	h, _ := DecodeHeader(cHeader(t, "log"))
	if err := h.CheckUnused(); err != nil {
		t.Fatal(err)
	}
}

// TestEveryChecksummedByteCounts flips each bit of every byte the checksum
// covers (the first 2 KiB with CKSUM_2K) and each byte of the checksum:
// Validate must fail every time. Bytes outside (unused2, SDS) must not
// matter to Validate.
func TestEveryChecksummedByteCounts(t *testing.T) {
	base := cHeader(t, "obj")
	for i := range offUnused2 {
		for _, bit := range []byte{1, 0x80} {
			b := bytes.Clone(base)
			b[i] ^= bit
			h, _ := DecodeHeader(b)
			if h.Validate(Obj) == nil {
				t.Fatalf("flip %#x at byte %d not detected", bit, i)
			}
		}
	}
	for i := offChecksum; i < HeaderSize; i++ {
		b := bytes.Clone(base)
		b[i] ^= 1
		if h, _ := DecodeHeader(b); h.Validate(Obj) == nil {
			t.Fatalf("checksum byte %d flip not detected", i)
		}
	}
	b := bytes.Clone(base)
	b[offSDS+3] = 9
	if h, _ := DecodeHeader(b); h.Validate(Obj) != nil {
		t.Fatal("SDS change broke a CKSUM_2K header")
	}
}

// TestNoCksum2K: without CKSUM_2K the checksum covers the whole header, SDS
// included, and the pool keeps it right across open and close.
func TestNoCksum2K(t *testing.T) {
	k := Log
	k.Incompat = FeatSDS
	path := pmemtest.Path(t, "p")
	p, err := Create(path, testSize, 0o600, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := readHeader(t, path); h.Validate(k) != nil || h.SDS.Dirty != 1 {
		t.Fatalf("open: %v, SDS %+v", h.Validate(k), h.SDS)
	}
	p.Close()
	h := readHeader(t, path)
	if err := h.Validate(k); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	b[offUnused2+5] = 1
	h, _ = DecodeHeader(b)
	if h.Validate(k) == nil {
		t.Fatal("unused2 change not detected without CKSUM_2K")
	}
}

// FuzzDecodeHeader: any input decodes or errors without a panic; a header
// that validates re-encodes to the same bytes.
func FuzzDecodeHeader(f *testing.F) {
	for _, n := range []string{"obj", "blk", "log", "log-open"} {
		f.Add(cHeader(f, n))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeHeader(data)
		if err != nil {
			if !errors.Is(err, core.ErrCorrupt) {
				t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		for _, k := range []Kind{Obj, Blk, Log} {
			if err := h.Validate(k); err != nil {
				if errors.Is(err, core.ErrCorrupt) == refusedAsNotCorrupt(err) {
					t.Fatalf("validate error %v: corrupt or another pool, not both, not neither", err)
				}
				continue
			}
			enc := make([]byte, HeaderSize)
			h.Encode(enc)
			if !bytes.Equal(enc, data[:HeaderSize]) {
				t.Fatal("valid header re-encodes differently")
			}
		}
	})
}

// FuzzOpen opens arbitrary bytes as a pool on memory for every kind: an
// error or a pool that closes and opens again, never a panic. An unsafe
// shutdown is the one non-corruption refusal. fix bit 0
// recomputes the header checksum and bit 1 the SDS checksum first, so the
// fuzzer gets past them to the later checks.
func FuzzOpen(f *testing.F) {
	for _, n := range []string{"obj", "blk", "log", "log-open"} {
		f.Add(cHeader(f, n), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, fix uint8) {
		for _, k := range []Kind{Obj, Blk, Log} {
			k.MinSize = 0
			mem := make([]byte, max(len(data), HeaderSize))
			copy(mem, data)
			if fix&2 != 0 {
				sds := decodeSDS(mem[offSDS:])
				sds.UpdateChecksum()
				sds.encode(mem[offSDS:])
			}
			if fix&1 != 0 {
				binary.LittleEndian.PutUint64(mem[offChecksum:], headerChecksum(mem, binary.LittleEndian.Uint32(mem[offIncompat:])))
			}
			newMap := func() *core.Map {
				return core.NewMemoryMap(mem, core.GranularityByte, core.NewPersister(core.GranularityByte, nil), nil)
			}
			var o Options
			p, err := OpenOnMap(newMap(), k, &o)
			if errors.Is(err, ErrUnsafeShutdown) {
				// A dirty SDS recording another device than the
				// map's (none): refused as C does, and only the SDS
				// is at fault, so IgnoreSDS must open the pool.
				o.IgnoreSDS = true
				if p, err = OpenOnMap(newMap(), k, &o); err != nil {
					t.Fatalf("open with IgnoreSDS after an unsafe shutdown: %v", err)
				}
			}
			if err != nil {
				if !errors.Is(err, core.ErrCorrupt) && !errors.Is(err, ErrTooSmall) && !refusedAsNotCorrupt(err) {
					t.Fatalf("open error %v: not ErrCorrupt, ErrTooSmall, ErrWrongType, ErrVersion, ErrIncompatible", err)
				}
				continue
			}
			if p.Header().SDS.Dirty != 1 && p.Header().Incompat&FeatSDS != 0 && !p.ReadOnly() && !o.IgnoreSDS {
				t.Fatal("open pool with SDS not dirty")
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			p, err = OpenOnMap(newMap(), k, &o)
			if err != nil {
				t.Fatalf("reopen after close: %v", err)
			}
			p.Close()
		}
	})
}

// TestNewHeaderMatchesC: a header from NewHeader, given the random parts
// of a C-made one (UUIDs, creation time), is byte-identical to it: same
// features, arch flags, links, zero areas and checksum.
func TestNewHeaderMatchesC(t *testing.T) {
	for name, k := range map[string]Kind{"obj": Obj, "blk": Blk, "log": Log} {
		c := cHeader(t, name)
		ch, _ := DecodeHeader(c)
		h := NewHeader(k)
		h.PoolsetUUID, h.UUID = ch.PoolsetUUID, ch.UUID
		h.PrevPartUUID, h.NextPartUUID, h.PrevReplUUID, h.NextReplUUID = h.UUID, h.UUID, h.UUID, h.UUID
		h.CrTime = ch.CrTime
		b := make([]byte, HeaderSize)
		h.Encode(b)
		if !bytes.Equal(b, c) {
			t.Fatalf("%s: Go header differs from C's at byte %d", name, firstDiff(b, c))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
