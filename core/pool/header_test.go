package pool

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/core"
)

func TestChecksumSkipsFieldAndTail(t *testing.T) {
	b := make([]byte, 16)
	b[0] = 1
	// words: 1, 0, [csum], -> lo=1, hi=1+1+1+1 = 4
	if got := Checksum(b, 8, 0); got != 4<<32|1 {
		t.Fatalf("Checksum = %#x", got)
	}
	b[8], b[12] = 0xff, 0xff // inside the checksum field: ignored
	if got := Checksum(b, 8, 0); got != 4<<32|1 {
		t.Fatalf("Checksum with csum bytes = %#x", got)
	}
	b[4] = 2 // skipped from offset 4 on
	if got := Checksum(b, -1, 4); got != 4<<32|1 {
		t.Fatalf("Checksum with skip = %#x", got)
	}
	if got := Checksum(b, -1, 0); got == 4<<32|1 {
		t.Fatalf("Checksum without skip ignored data")
	}
}

func TestSDSChecksumMatchesC(t *testing.T) {
	// Bytes of a dirty SDS written by libpmemlog 1.12.1 on tmpfs.
	s := ShutdownState{Dirty: 1}
	s.UpdateChecksum()
	if s.Checksum != 0x0000000c00000001 {
		t.Fatalf("dirty SDS checksum = %#x, C wrote 0xc00000001", s.Checksum)
	}
	z := ShutdownState{}
	if z.ComputeChecksum() != 0 || !z.ChecksumOK() {
		t.Fatal("zero SDS must have checksum 0")
	}
	if DeviceIDChecksum("", false) != 0 {
		t.Fatal("unsupported device id must sum to 0")
	}
}

func TestUUIDVersionAndString(t *testing.T) {
	u := NewUUID()
	if u[7]>>4 != 4 || u[8]>>6 != 2 {
		t.Fatalf("UUID %x: not version 4 / RFC variant", u[:])
	}
	c := UUID{0x52, 0x26, 0x14, 0x81, 0xe4, 0x0a, 0xcd, 0x43, 0xbd, 0x58, 0x65, 0xd7, 0xb8, 0x06, 0xf4, 0xf7}
	if got, want := c.String(), "81142652-0ae4-43cd-bd58-65d7b806f4f7"; got != want {
		t.Fatalf("String = %s, pmempool printed %s", got, want)
	}
}

func TestLocalArchMatchesC(t *testing.T) {
	a := LocalArch()
	if a.AlignmentDesc != 0x000007f737777310 || a.MachineClass != 2 || a.Data != 1 {
		t.Fatalf("arch %+v", a)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, k := range []Kind{Log, Blk, Obj, {Signature: "X", Major: 3}} {
		h := NewHeader(k)
		b := make([]byte, HeaderSize)
		h.Encode(b)
		if err := h.Validate(k); err != nil {
			t.Fatalf("%s: Validate fresh: %v", k.Signature, err)
		}
		d, err := DecodeHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		if *d != *h {
			t.Fatalf("%s: decode(encode(h)) differs", k.Signature)
		}
		if err := d.Validate(k); err != nil {
			t.Fatalf("%s: Validate decoded: %v", k.Signature, err)
		}
		b2 := make([]byte, HeaderSize)
		d.Encode(b2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("%s: re-encode differs", k.Signature)
		}
	}
}

func TestDecodeShort(t *testing.T) {
	for _, n := range []int{0, 1, HeaderSize - 1} {
		if _, err := DecodeHeader(make([]byte, n)); !errors.Is(err, core.ErrCorrupt) {
			t.Fatalf("len %d: err %v", n, err)
		}
	}
}

func TestValidateWrongKind(t *testing.T) {
	h := NewHeader(Log)
	h.Encode(make([]byte, HeaderSize))
	if err := h.Validate(Blk); !errors.Is(err, ErrWrongType) || errors.Is(err, core.ErrCorrupt) || err.Error() != `wrong pool type: "PMEMLOG"` {
		t.Fatalf("log header as blk: %v", err)
	}
	h2 := NewHeader(Obj)
	h2.Encode(make([]byte, HeaderSize))
	if err := h2.Validate(Kind{Signature: "PMEMOBJ", Major: 5}); !errors.Is(err, ErrVersion) || errors.Is(err, core.ErrCorrupt) ||
		err.Error() != "pool version 6 (library expects 5)" {
		t.Fatalf("major 6 as 5: %v", err)
	}
}

func TestProblemsReportsEveryField(t *testing.T) {
	h := NewHeader(Log)
	h.Encode(make([]byte, HeaderSize))
	if p := h.Problems(Log); len(p) != 0 {
		t.Fatalf("fresh header: %v", p)
	}
	h.Major = 9
	h.Arch.Machine = 1
	h.Arch.Data = 2
	h.NextReplUUID[0] ^= 1
	h.Unused[5] = 1
	var fields []string
	for _, err := range h.Problems(Log) {
		var ce *core.CorruptError
		switch {
		case errors.Is(err, ErrVersion):
			fields = append(fields, "pool header: major")
		case !errors.As(err, &ce):
			t.Fatalf("%v is not a CorruptError", err)
		default:
			fields = append(fields, ce.Field)
		}
	}
	want := []string{"major", "checksum", "arch_flags.machine", "arch_flags.data", "next_repl_uuid (single-file pool links to itself)", "unused (must be zero)"}
	if len(fields) != len(want) {
		t.Fatalf("problems %q, want %d", fields, len(want))
	}
	for i, w := range want {
		if fields[i] != "pool header: "+w {
			t.Fatalf("problem %d: %q, want %q", i, fields[i], w)
		}
	}
	if err := h.Validate(Log); !errors.Is(err, ErrVersion) {
		t.Fatalf("Validate reports the first: %v", err)
	}
}
