package hal_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/cpmem"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// boundaryLengths sit on and around the widths the kernels switch at: the
// vector sizes, the cache line, the default threshold and a page.
var boundaryLengths = []int{
	0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
	191, 192, 193, 255, 256, 257, 319, 320, 321, 511, 512, 513,
	1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 8448,
}

// flagCases are the flag sets every kernel runs with: the default (the
// threshold decides), each store-kind override and the skips.
var flagCases = []hal.MemFlags{
	0,
	hal.MemNonTemporal,
	hal.MemTemporal,
	hal.MemWC | hal.MemNoDrain,
	hal.MemWB,
	hal.MemNoFlush,
}

const (
	arenaSize = 64 << 10
	maxLen    = 8448  // largest length tried: past 8 KiB with a partial line
	dstBase   = 12288 // dst = dstBase + alignment
	farSrc    = 40960
)

// arena is a 64-byte-aligned test buffer with a shadow copy that the
// reference operations (plain Go copy) run on.
type arena struct {
	mem, shadow []byte
	rng         *rand.Rand
}

func memories(t *testing.T) map[string]func(t *testing.T) []byte {
	return map[string]func(t *testing.T) []byte{
		"heap": func(t *testing.T) []byte {
			b := make([]byte, arenaSize+64)
			off := int(-uintptr(unsafe.Pointer(&b[0])) & 63)
			return b[off : off+arenaSize]
		},
		"mapping": func(t *testing.T) []byte { return haltest.MapFile(t, arenaSize) },
	}
}

func newArena(mem []byte, seed uint64) *arena {
	a := &arena{mem: mem, shadow: make([]byte, len(mem)), rng: rand.New(rand.NewPCG(seed, 1))}
	a.randomize()
	return a
}

// randomize fills mem and shadow with a fresh random block of a prime
// length, tiled (so a misplaced cache line or page cannot match by chance),
// written with copy to keep -race runs fast.
func (a *arena) randomize() {
	var block [4093]byte
	for i := range block {
		block[i] = byte(a.rng.Uint32())
	}
	for i := 0; i < len(a.mem); i += len(block) {
		copy(a.mem[i:], block[:])
	}
	copy(a.shadow, a.mem)
}

// check compares mem with the shadow in [lo, hi), widened by guard bytes.
func (a *arena) check(t *testing.T, lo, hi int, what string) {
	t.Helper()
	lo, hi = max(lo-128, 0), min(hi+128, len(a.mem))
	if i := firstDiff(a.mem[lo:hi], a.shadow[lo:hi]); i >= 0 {
		t.Fatalf("%s: byte %d differs: got %#x, want %#x", what, lo+i, a.mem[lo+i], a.shadow[lo+i])
	}
}

func firstDiff(got, want []byte) int {
	if bytes.Equal(got, want) {
		return -1
	}
	for i := range got {
		if got[i] != want[i] {
			return i
		}
	}
	return len(got)
}

// move runs one kernel memmove and the reference, then compares.
func (a *arena) move(t *testing.T, k *hal.Kernels, dst, src, n int, flags hal.MemFlags) {
	t.Helper()
	k.Memmove(a.mem[dst:dst+n], a.mem[src:src+n], flags)
	copy(a.shadow[dst:dst+n], a.shadow[src:src+n])
	a.check(t, dst, dst+n, fmt.Sprintf("Memmove(dst %d, src %d, n %d, flags %#x)", dst, src, n, flags))
}

func (a *arena) set(t *testing.T, k *hal.Kernels, dst, n int, c byte, flags hal.MemFlags) {
	t.Helper()
	k.Memset(a.mem[dst:dst+n], c, flags)
	if n > 0 {
		ref := a.shadow[dst : dst+n]
		ref[0] = c
		for i := 1; i < n; i *= 2 {
			copy(ref[i:], ref[:i])
		}
	}
	a.check(t, dst, dst+n, fmt.Sprintf("Memset(dst %d, n %d, c %#x, flags %#x)", dst, n, c, flags))
}

// alignStep is 1 (every alignment) unless -short asks for a sample.
func alignStep() int {
	if testing.Short() {
		return 5
	}
	return 1
}

// pickLen cycles through the boundary lengths, with a random length up to
// maxLen every third time.
func (a *arena) pickLen(i int) int {
	if i%3 == 2 {
		return a.rng.IntN(maxLen + 1)
	}
	return boundaryLengths[(i/3*2+i%3)%len(boundaryLengths)]
}

func TestMemmove(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		for name, mk := range memories(t) {
			t.Run(name, func(t *testing.T) {
				a := newArena(mk(t), 1)
				for _, flags := range flagCases {
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
							case 0: // disjoint
								src = farSrc + sa
							default: // overlapping, either direction, or equal
								lines := n/64 + 1
								src = dstBase + 64*(a.rng.IntN(2*lines+1)-lines) + sa
							}
							a.move(t, k, dst, src, n, flags)
						}
					}
					a.check(t, 0, len(a.mem), "whole arena")
				}
			})
		}
	})
}

// TestMemmoveOverlapAllDistances moves one region over itself by every
// distance up to two cache lines and more, both ways, at lengths that take
// the non-temporal path.
func TestMemmoveOverlapAllDistances(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		a := newArena(haltest.MapFile(t, arenaSize), 2)
		for _, n := range []int{65, 300, 1000, 4097} {
			for d := 1; d <= 200; d++ {
				for _, flags := range []hal.MemFlags{0, hal.MemNonTemporal} {
					dst := dstBase + d%7
					a.move(t, k, dst, dst+d, n, flags) // dst below src
					a.move(t, k, dst+d, dst, n, flags) // dst above src
				}
			}
		}
	})
}

func TestMemset(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		for name, mk := range memories(t) {
			t.Run(name, func(t *testing.T) {
				a := newArena(mk(t), 3)
				for _, flags := range flagCases {
					i := 0
					for da := 0; da < 64; da += alignStep() {
						for range 64 / alignStep() {
							i++
							a.set(t, k, dstBase+da, a.pickLen(i), byte(a.rng.Uint32()), flags)
						}
					}
					a.check(t, 0, len(a.mem), "whole arena")
				}
			})
		}
	})
}

// TestFlushRange flushes ranges of every alignment, including the first
// and last bytes of a mapping, and checks that nothing changes.
func TestFlushRange(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		a := newArena(haltest.MapFile(t, arenaSize), 4)
		for off := range 130 {
			for _, n := range []int{0, 1, 63, 64, 65, 4096, 4097} {
				end := len(a.mem) - off
				if err := errors.Join(k.FlushRange(a.mem[off:off+n]), k.FlushRange(a.mem[end-n:end])); err != nil {
					t.Fatalf("FlushRange at %d, %d bytes: %v", off, n, err)
				}
			}
		}
		k.Fence()
		a.check(t, 0, len(a.mem), "after flushes")
	})
}

// TestKernelsDoNotAllocate: the persistence kernels run on hot paths.
func TestKernelsDoNotAllocate(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		m := haltest.MapFile(t, 16<<10)
		for _, n := range []int{64, 4096} {
			allocs := testing.AllocsPerRun(20, func() {
				k.Memmove(m[1:1+n], m[8192:8192+n], 0)
				k.Memset(m[3:3+n], 7, 0)
				k.FlushRange(m[:n])
				k.Fence()
			})
			if allocs != 0 {
				t.Errorf("n=%d: %v allocations per run", n, allocs)
			}
		}
	})
}

func TestForEachKernelCoversCPU(t *testing.T) {
	c := hal.CPU()
	want := map[string]bool{"msync+generic": true, "none+generic": true}
	for _, f := range []hal.FlushKind{hal.FlushCLFLUSH, hal.FlushCLFLUSHOPT, hal.FlushCLWB} {
		for _, m := range []hal.MoveKind{hal.MoveGeneric, hal.MoveSSE2, hal.MoveAVX, hal.MoveAVX512F} {
			if hal.Supported(f, m) {
				want[f.String()+"+"+m.String()] = true
			}
		}
	}
	got := map[string]bool{}
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) { got[k.Name()] = true })
	for name := range want {
		if !got[name] {
			t.Errorf("ForEachKernel skipped supported set %s", name)
		}
	}
	t.Logf("%d kernel sets: CPU %+v", len(got), c)
}

// TestKernelsConcurrent runs one kernel set from several goroutines on
// disjoint parts of one mapping (run it with -race): a Kernels value is
// shared, read-only state.
func TestKernelsConcurrent(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		const workers, part = 4, 8 << 10
		m := haltest.MapFile(t, workers*part)
		var wg sync.WaitGroup
		for w := range workers {
			mine := m[w*part : (w+1)*part]
			wg.Go(func() {
				src := bytes.Repeat([]byte{byte(w + 1)}, part/2)
				for i := range 50 {
					k.Memmove(mine[i%64:], src[:part/2-64], 0)
					k.Memset(mine[part/2+i%64:], byte(w+1), hal.MemNonTemporal|hal.MemNoDrain)
					k.Fence()
				}
			})
		}
		wg.Wait()
		for w := range workers {
			mine := m[w*part : (w+1)*part]
			for _, r := range [][2]int{{64, part/2 - 64}, {part/2 + 64, part}} {
				for i := r[0]; i < r[1]; i++ {
					if mine[i] != byte(w+1) {
						t.Fatalf("worker %d: byte %d is %#x", w, i, mine[i])
					}
				}
			}
		}
	})
}

// TestMemmoveLarge crosses the size at which the kernels split a
// non-temporal body into several assembly calls, in both directions.
func TestMemmoveLarge(t *testing.T) {
	const n = 3<<20 + 100
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		if testing.Short() && k.Flush() != hal.Selected().Flush() {
			t.Skip("-short: the split is in the store path, one flush kind covers it")
		}
		a := newArena(haltest.MapFile(t, 8<<20), 5)
		for _, c := range []struct{ dst, src int }{{1 << 20, 4<<20 + 61}, {100, 164}, {4160, 4097}, {4<<20 + 7, 13}} {
			a.move(t, k, c.dst, c.src, n, 0)
		}
		a.set(t, k, 33, n, 0xc3, 0)
		a.check(t, 0, len(a.mem), "whole mapping")
	})
}

// TestInteropCPeer checks the C peer of the benchmarks: libpmem's
// pmem_memcpy_persist and pmem_memset_persist leave the same bytes as the
// kernels, so the benchmarks compare equal work.
func TestInteropCPeer(t *testing.T) {
	if !cpmem.Available {
		t.Skip("C peer not built: needs -tags cpeer and libpmem (Debian libpmem-dev)")
	}
	m := haltest.MapFile(t, 64<<10)
	src := make([]byte, 20000)
	for i := range src {
		src[i] = byte(i*31 + 1)
	}
	want := make([]byte, len(m))
	for _, off := range []int{0, 1, 63, 4096 + 17} {
		memcpyPersistN(t, m[off:], src, 1)
		copy(want[off:], src)
		if i := firstDiff(m, want); i >= 0 {
			t.Fatalf("pmem_memcpy_persist at %d: byte %d is %#x, want %#x", off, i, m[i], want[i])
		}
		memsetPersistN(t, m[off+30000:off+30000+len(src)], byte(off), 1)
		copy(want[off+30000:], bytes.Repeat([]byte{byte(off)}, len(src)))
		if i := firstDiff(m, want); i >= 0 {
			t.Fatalf("pmem_memset_persist at %d: byte %d is %#x, want %#x", off+30000, i, m[i], want[i])
		}
	}
}

// TestMemmoveHeapToMapping copies from ordinary heap memory into a file
// mapping, the common direction of a persistent write, at every pair of
// alignments.
func TestMemmoveHeapToMapping(t *testing.T) {
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		m := haltest.MapFile(t, 16<<10)
		want := make([]byte, len(m))
		src := make([]byte, 10<<10)
		r := rand.New(rand.NewPCG(6, 6))
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		for da := 0; da < 64; da += alignStep() {
			for sa := 0; sa < 64; sa += alignStep() {
				n := r.IntN(maxLen + 1)
				k.Memmove(m[4096+da:], src[sa:sa+n], 0)
				copy(want[4096+da:], src[sa:sa+n])
				if i := firstDiff(m, want); i >= 0 {
					t.Fatalf("dst align %d, src align %d, n %d: byte %d is %#x, want %#x", da, sa, n, i, m[i], want[i])
				}
			}
		}
	})
}
