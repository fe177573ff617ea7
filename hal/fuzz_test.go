package hal_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/haltest"
)

const fuzzArena = 32 << 10

// fuzzSetup maps one arena for a fuzz target and returns every kernel set,
// each with the default threshold and with non-temporal stores from 1 byte.
func fuzzSetup(f *testing.F) ([]byte, []byte, []*hal.Kernels) {
	mem := haltest.MapFile(f, fuzzArena)
	return mem, make([]byte, fuzzArena), append(haltest.All(0), haltest.All(1)...)
}

func fill(seed uint64, bufs ...[]byte) {
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range bufs[0] {
		bufs[0][i] = byte(r.Uint32())
	}
	for _, b := range bufs[1:] {
		copy(b, bufs[0])
	}
}

// FuzzMemmove moves n bytes from dst+delta to dst inside one mapping with
// every kernel set and compares the whole mapping with Go's copy.
func FuzzMemmove(f *testing.F) {
	for _, s := range []struct {
		n     uint16
		dst   uint16
		delta int16
		flags uint8
	}{
		{0, 0, 0, 0}, {1, 1, 1, 0}, {64, 0, 64, 0}, {255, 3, -1, 0}, {256, 0, 4096, 0},
		{257, 363, -300, 0}, {4097, 17, 33, 0}, {8448, 8005, -8000, 0}, {300, 1, 1, 4}, {1000, 2, -2, 8},
		{100, 0, 5, 2}, {5000, 125, -64, 16},
	} {
		f.Add(s.n, s.dst, s.delta, s.flags, uint64(s.n))
	}
	mem, want, sets := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, n, dst uint16, delta int16, flags uint8, seed uint64) {
		d := int(dst) % (fuzzArena / 2)
		s := d + int(delta)
		ln := int(n)
		if s < 0 || s+ln > fuzzArena || d+ln > fuzzArena {
			t.Skip("out of the arena")
		}
		fill(seed, mem, want)
		for _, k := range sets {
			k.Memmove(mem[d:d+ln], mem[s:s+ln], hal.MemFlags(flags)&0x3f)
			copy(want[d:d+ln], want[s:s+ln])
			if i := firstDiff(mem, want); i >= 0 {
				t.Fatalf("%v: Memmove(dst %d, src %d, n %d, flags %#x): byte %d is %#x, want %#x",
					k, d, s, ln, flags&0x3f, i, mem[i], want[i])
			}
		}
	})
}

// FuzzMemset fills n bytes at dst with every kernel set and compares the
// whole mapping with a byte loop.
func FuzzMemset(f *testing.F) {
	for _, s := range []struct {
		n, dst uint16
		c      byte
		flags  uint8
	}{
		{0, 0, 0, 0}, {1, 63, 1, 0}, {64, 0, 0xff, 0}, {255, 1, 2, 0}, {256, 64, 3, 0},
		{257, 33, 4, 0}, {4097, 7, 5, 0}, {8448, 0, 6, 8}, {100, 3, 7, 4}, {20000, 11, 8, 2},
	} {
		f.Add(s.n, s.dst, s.c, s.flags, uint64(s.n))
	}
	mem, want, sets := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, n, dst uint16, c byte, flags uint8, seed uint64) {
		d, ln := int(dst)%fuzzArena, int(n)
		if d+ln > fuzzArena {
			t.Skip("out of the arena")
		}
		fill(seed, mem, want)
		for _, k := range sets {
			k.Memset(mem[d:d+ln], c, hal.MemFlags(flags)&0x3f)
			copy(want[d:d+ln], bytes.Repeat([]byte{c}, ln))
			if i := firstDiff(mem, want); i >= 0 {
				t.Fatalf("%v: Memset(dst %d, n %d, c %#x, flags %#x): byte %d is %#x, want %#x",
					k, d, ln, c, flags&0x3f, i, mem[i], want[i])
			}
			c++
		}
	})
}

// FuzzFlushRange flushes any range of a mapping with every flush kind: it
// must neither fault nor change a byte.
func FuzzFlushRange(f *testing.F) {
	for _, s := range [][2]uint16{{0, 0}, {0, 1}, {63, 2}, {64, 64}, {1, 4096}, {fuzzArena - 1, 1}, {100, 30000}} {
		f.Add(s[0], s[1])
	}
	mem, want, sets := fuzzSetup(f)
	fill(1, mem, want)
	f.Fuzz(func(t *testing.T, off, n uint16) {
		o, ln := int(off)%fuzzArena, int(n)
		if o+ln > fuzzArena {
			ln = fuzzArena - o
		}
		for _, k := range sets {
			k.FlushRange(mem[o : o+ln])
			k.Fence()
		}
		if i := firstDiff(mem, want); i >= 0 {
			t.Fatalf("FlushRange(%d, %d) changed byte %d", o, ln, i)
		}
	})
}

// FuzzCopy copies n bytes from dst+delta to dst inside one mapping with
// every kernel set and compares the whole mapping with Go's copy.
func FuzzCopy(f *testing.F) {
	for _, s := range []struct {
		n     uint16
		dst   uint16
		delta int16
	}{
		{0, 0, 0}, {255, 3, 4000}, {256, 0, 4096}, {257, 363, -300}, {512, 64, 8192}, {4097, 17, 5000},
		{8448, 8005, -8000}, {300, 1, 1}, {1000, 2, -2}, {5000, 125, -64},
	} {
		f.Add(s.n, s.dst, s.delta, uint64(s.n))
	}
	mem, want, sets := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, n, dst uint16, delta int16, seed uint64) {
		d := int(dst) % (fuzzArena / 2)
		s := d + int(delta)
		ln := int(n)
		if s < 0 || s+ln > fuzzArena || d+ln > fuzzArena {
			t.Skip("out of the arena")
		}
		fill(seed, mem, want)
		for _, k := range sets {
			k.Copy(mem[d:d+ln], mem[s:s+ln])
			copy(want[d:d+ln], want[s:s+ln])
			if i := firstDiff(mem, want); i >= 0 {
				t.Fatalf("%v: Copy(dst %d, src %d, n %d): byte %d is %#x, want %#x", k, d, s, ln, i, mem[i], want[i])
			}
		}
	})
}
