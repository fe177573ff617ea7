package layout

import (
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/core"
)

func TestRoundTrip(t *testing.T) {
	img := make([]byte, DataStart)
	want := Descriptor{StartOffset: DataStart, EndOffset: 4 << 20, WriteOffset: DataStart + 77}
	want.Encode(img)
	got, err := Decode(img)
	if err != nil || got != want {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, want)
	}
	// Little-endian at the offsets C uses.
	if img[WriteOffsetAt] != 77 || img[WriteOffsetAt+1] != DataStart>>8 {
		t.Fatalf("write_offset bytes % x", img[WriteOffsetAt:WriteOffsetAt+8])
	}
	if p := want.Problems(4 << 20); len(p) != 0 {
		t.Fatalf("valid descriptor: %v", p)
	}
	if p := New(4 << 20); p != (Descriptor{DataStart, 4 << 20, DataStart}) {
		t.Fatalf("New: %+v", p)
	}
}

func TestDecodeShort(t *testing.T) {
	for _, n := range []int{0, DescOffset, DescOffset + DescSize - 1} {
		_, err := Decode(make([]byte, n))
		var ce *core.CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, core.ErrCorrupt) {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}

func TestUsableSize(t *testing.T) {
	for n, want := range map[int]uint64{-1: 0, 0: 0, 4095: 0, 4096: 4096, 3000000: 0x2dc000} {
		if got := UsableSize(n); got != want {
			t.Errorf("UsableSize(%d) = %#x, want %#x", n, got, want)
		}
	}
}
