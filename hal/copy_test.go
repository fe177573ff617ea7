package hal_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// copyOne runs one Kernels.Copy and the reference (the builtin copy on the
// shadow), then compares the arena and the counts.
func (a *arena) copyOne(t *testing.T, k *hal.Kernels, dst, src, nd, ns int) {
	t.Helper()
	got := k.Copy(a.mem[dst:dst+nd], a.mem[src:src+ns])
	want := copy(a.shadow[dst:dst+nd], a.shadow[src:src+ns])
	what := fmt.Sprintf("Copy(dst %d+%d, src %d+%d)", dst, nd, src, ns)
	if got != want {
		t.Fatalf("%s = %d, want %d", what, got, want)
	}
	a.check(t, dst, dst+nd, what)
}

// TestCopy: every dst and src alignment within a cache line, lengths on
// and around the widths Copy switches at and random ones, disjoint and
// overlapping both ways, dst and src of unequal lengths, in the heap and
// in a mapping, for every kernel set: the bytes are the builtin copy's,
// the bytes around dst untouched.
func TestCopy(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		for name, mk := range memories(t) {
			t.Run(name, func(t *testing.T) {
				a := newArena(mk(t), 3)
				i := 0
				for da := 0; da < 64; da += alignStep() {
					for sa := 0; sa < 64; sa += alignStep() {
						i++
						if i%64 == 0 {
							a.randomize()
						}
						n := a.pickLen(i)
						dst := dstBase + da
						var src int
						switch i % 4 {
						case 0, 1: // disjoint
							src = farSrc + sa
						default: // overlapping, either direction, or equal
							lines := n/64 + 1
							src = dstBase + 64*(a.rng.IntN(2*lines+1)-lines) + sa
						}
						nd, ns := n, n
						if i%5 == 0 { // the shorter side decides
							nd = a.rng.IntN(n + 1)
						} else if i%5 == 1 {
							ns = a.rng.IntN(n + 1)
						}
						a.copyOne(t, k, dst, src, nd, ns)
					}
				}
				a.check(t, 0, len(a.mem), "whole arena")
			})
		}
	})
}

// TestCopyLarge crosses the 1 MiB pieces Copy feeds its vector bodies.
func TestCopyLarge(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		const n = 2<<20 + 4096 + 100
		src := make([]byte, n)
		r := rand.New(rand.NewPCG(5, 5))
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		dst := haltest.MapFile(t, n+64)
		if got := k.Copy(dst[7:], src); got != n {
			t.Fatalf("Copy = %d, want %d", got, n)
		}
		if i := firstDiff(dst[7:7+n], src); i >= 0 {
			t.Fatalf("byte %d differs", i)
		}
	})
}
