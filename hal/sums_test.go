package hal

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// sums32Plain is the definition: the word-by-word running sums.
func sums32Plain(b []byte) (s, t uint32) {
	for i := 0; i < len(b); i += 4 {
		s += binary.LittleEndian.Uint32(b[i:])
		t += s
	}
	return s, t
}

func TestSums32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 9000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= 4200; n += 4 {
		for _, off := range []int{0, 4, 60} { // unaligned starts too
			b := buf[off : off+n]
			ws, wt := sums32Plain(b)
			if s, tt := Sums32(b); s != ws || tt != wt {
				t.Fatalf("Sums32 of %d bytes at %d: (%#x, %#x), want (%#x, %#x)", n, off, s, tt, ws, wt)
			}
			if s, tt := sums32Generic(b); s != ws || tt != wt {
				t.Fatalf("generic sums of %d bytes at %d: (%#x, %#x), want (%#x, %#x)", n, off, s, tt, ws, wt)
			}
		}
	}
	// All ones: every addition wraps.
	ff := make([]byte, 4096)
	for i := range ff {
		ff[i] = 0xff
	}
	ws, wt := sums32Plain(ff)
	if s, tt := Sums32(ff); s != ws || tt != wt {
		t.Fatalf("wrapping sums: (%#x, %#x), want (%#x, %#x)", s, tt, ws, wt)
	}
}

func TestSums32OddLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Sums32 of 6 bytes did not panic")
		}
	}()
	Sums32(make([]byte, 6))
}

func BenchmarkSums32(b *testing.B) {
	buf := make([]byte, 4096)
	for _, impl := range []struct {
		name string
		f    func([]byte) (uint32, uint32)
	}{{"kernel", Sums32}, {"generic", sums32Generic}, {"plain", sums32Plain}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				impl.f(buf)
			}
		})
	}
}
