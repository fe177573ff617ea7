package hal_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/cpmem"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// benchSizes are the copy lengths of the memmove-persist benchmarks.
var benchSizes = []int{64, 256, 4 << 10, 64 << 10, 2 << 20}

// benchRef is a reference copy the kernels are compared with.
type benchRef struct {
	name string
	fn   func(dst, src []byte)
}

// benchRefs: plain copy (temporal stores, nothing flushed) everywhere; the
// amd64 build adds the bare non-temporal store loops (no flush, no fence),
// the memory write bandwidth limit of large copies.
var benchRefs = []benchRef{{name: "copy", fn: func(dst, src []byte) { copy(dst, src) }}}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkMemmovePersist copies into a shared file mapping on /dev/shm
// (or $PMEM_TEST_DIR) with every kernel set, flush and fence included,
// beside the references of benchRefs on the same mapping and, built with
// the cpeer tag, C libpmem's pmem_memcpy_persist.
func BenchmarkMemmovePersist(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			dst := haltest.MapFile(b, size)
			src := make([]byte, size)
			r := rand.New(rand.NewPCG(uint64(size), 0))
			for i := range src {
				src[i] = byte(r.Uint32())
			}
			for _, ref := range benchRefs {
				b.Run(ref.name, func(b *testing.B) {
					b.SetBytes(int64(size))
					for b.Loop() {
						ref.fn(dst, src)
					}
				})
			}
			if cpmem.Available {
				b.Run("c-pmem_memcpy_persist", func(b *testing.B) {
					b.SetBytes(int64(size))
					memcpyPersistN(b, dst, src, b.N)
				})
			}
			haltest.ForEachKernelB(b, func(b *testing.B, k *hal.Kernels) {
				if k.Flush() == hal.FlushMsync && size < 4<<10 && testing.Short() {
					b.Skip("msync is a system call per copy")
				}
				b.SetBytes(int64(size))
				for b.Loop() {
					k.Memmove(dst, src, 0)
				}
			})
		})
	}
}

// BenchmarkMemsetPersist fills a file mapping with every kernel set.
func BenchmarkMemsetPersist(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			dst := haltest.MapFile(b, size)
			if cpmem.Available {
				b.Run("c-pmem_memset_persist", func(b *testing.B) {
					b.SetBytes(int64(size))
					memsetPersistN(b, dst, 0x5a, b.N)
				})
			}
			haltest.ForEachKernelB(b, func(b *testing.B, k *hal.Kernels) {
				b.SetBytes(int64(size))
				for b.Loop() {
					k.Memset(dst, 0x5a, 0)
				}
			})
		})
	}
}

// BenchmarkMemmovePersistRatio measures each kernel set and its references
// in alternation, a batch of each per iteration, and reports the median
// per-iteration ratio reference time / kernel time (above 1: the kernel is
// faster). Pairing keeps the ratios meaningful on a loaded machine, where
// separate benchmarks drift apart. Metrics: vs-copy, vs-ntloop (the bare
// non-temporal loop of the same vector width; the widest for generic sets)
// and vs-C (libpmem's pmem_memcpy_persist, with -tags cpeer). At small
// sizes vs-ntloop compares a persisted copy with stores that are merely
// posted; it is the bandwidth limit only from some KiB on.
func BenchmarkMemmovePersistRatio(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			dst := haltest.MapFile(b, size)
			src := make([]byte, size)
			for i := range src {
				src[i] = byte(i * 7)
			}
			// Batches long enough that the switch between phases (cache
			// state, pending write-combining buffers) is a small part.
			batch := max(8, (256<<10)/size)
			haltest.ForEachKernelB(b, func(b *testing.B, k *hal.Kernels) {
				if k.Flush() == hal.FlushMsync && testing.Short() {
					b.Skip("msync is a system call per copy")
				}
				refs := map[string]func(n int){
					"vs-copy": func(n int) {
						for range n {
							copy(dst, src)
						}
					},
				}
				if nt, ok := ntLoopFor(k.Move()); ok {
					refs["vs-ntloop"] = func(n int) {
						for range n {
							nt(dst, src)
						}
						k.Fence() // drain once per batch, not per copy
					}
				}
				if cpmem.Available {
					refs["vs-C"] = func(n int) { memcpyPersistN(b, dst, src, n) }
				}
				b.SetBytes(int64(size * batch))
				pairedRatios(b, batch, func(n int) {
					for range n {
						k.Memmove(dst, src, 0)
					}
				}, refs)
			})
		})
	}
}

// pairedRatios runs batch operations of kernel and then of each reference
// (in a fixed order) per iteration and reports, per reference, the median
// of reference time / kernel time. Each timed batch follows a short untimed
// warm-up of the same operation, so that the cache state another phase left
// behind is not charged to it.
func pairedRatios(b *testing.B, batch int, kernel func(n int), refs map[string]func(n int)) {
	names := slices.Sorted(maps.Keys(refs))
	warm := max(1, batch/16)
	timed := func(fn func(n int)) time.Duration {
		fn(warm)
		t0 := time.Now()
		fn(batch)
		return time.Since(t0)
	}
	ratios := map[string][]float64{}
	for b.Loop() {
		tk := timed(kernel)
		for _, name := range names {
			ratios[name] = append(ratios[name], float64(timed(refs[name]))/float64(max(tk, 1)))
		}
	}
	for name, r := range ratios {
		slices.Sort(r)
		b.ReportMetric(r[len(r)/2], name)
	}
}

// BenchmarkMemsetPersistRatio is [BenchmarkMemmovePersistRatio] for
// memset, against plain filling with temporal stores (vs-fill) and
// libpmem's pmem_memset_persist (vs-C).
func BenchmarkMemsetPersistRatio(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			dst := haltest.MapFile(b, size)
			batch := max(8, (256<<10)/size)
			haltest.ForEachKernelB(b, func(b *testing.B, k *hal.Kernels) {
				if k.Flush() == hal.FlushMsync && testing.Short() {
					b.Skip("msync is a system call per fill")
				}
				refs := map[string]func(n int){
					"vs-fill": func(n int) {
						for range n {
							dst[0] = 0x5a
							for i := 1; i < len(dst); i *= 2 {
								copy(dst[i:], dst[:i])
							}
						}
					},
				}
				if cpmem.Available {
					refs["vs-C"] = func(n int) { memsetPersistN(b, dst, 0x5a, n) }
				}
				b.SetBytes(int64(size * batch))
				pairedRatios(b, batch, func(n int) {
					for range n {
						k.Memset(dst, 0x5a, 0)
					}
				}, refs)
			})
		})
	}
}

// ntLoopFor returns the bare non-temporal loop for move kind m (the widest
// one for MoveGeneric), if this build has one.
func ntLoopFor(m hal.MoveKind) (func(dst, src []byte), bool) {
	var last func(dst, src []byte)
	for _, r := range benchRefs {
		if r.name == "ntloop-"+m.String() {
			return r.fn, true
		}
		if strings.HasPrefix(r.name, "ntloop-") {
			last = r.fn
		}
	}
	return last, last != nil && m == hal.MoveGeneric
}

// memcpyPersistN calls C's pmem_memcpy_persist(dst, src, len(src)) n times
// in one cgo call.
func memcpyPersistN(tb testing.TB, dst, src []byte, n int) {
	l := cpmem.Loop{Op: cpmem.MemcpyPersist, Stride: len(src), Count: 1, Size: len(src), Src: src}
	if err := cpmem.Run(dst, l, 0, uint64(n)); err != nil {
		tb.Fatal(err)
	}
}

// memsetPersistN calls C's pmem_memset_persist on dst n times in one cgo
// call, filling with byte(first), byte(first+1), ...
func memsetPersistN(tb testing.TB, dst []byte, first byte, n int) {
	l := cpmem.Loop{Op: cpmem.MemsetPersist, Stride: len(dst), Count: 1, Size: len(dst)}
	if err := cpmem.Run(dst, l, uint64(first), uint64(n)); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkCopy copies random blocks of a 16 MiB file mapping into a heap
// buffer (what blk's reads do) with Copy of each move kind and with the
// builtin copy.
func BenchmarkCopy(b *testing.B) {
	const mapSize = 16 << 20
	m := haltest.MapFile(b, mapSize)
	for i := range m {
		m[i] = byte(i)
	}
	for _, size := range []int{512, 4 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			buf := make([]byte, size)
			run := func(b *testing.B, cp func(dst, src []byte) int) {
				b.SetBytes(int64(size))
				r := rand.New(rand.NewPCG(1, 2))
				for b.Loop() {
					off := r.IntN(mapSize/size) * size
					cp(buf, m[off:off+size])
				}
			}
			b.Run("builtin", func(b *testing.B) { run(b, func(dst, src []byte) int { return copy(dst, src) }) })
			seen := map[hal.MoveKind]bool{} // only the move kind matters
			for _, k := range haltest.All(0) {
				if !seen[k.Move()] {
					seen[k.Move()] = true
					b.Run(k.Move().String(), func(b *testing.B) { run(b, k.Copy) })
				}
			}
		})
	}
}
