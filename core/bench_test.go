package core_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/cpmem"
)

// benchPoolSize is the forced-pmem file the persist benchmarks write into;
// operations walk through it so the small sizes do not stay on one line.
const benchPoolSize = 32 << 20

// benchMap maps a fresh, prefaulted forced-pmem file (CPU flush path) on
// the test pool directory (/dev/shm), through MapFile so the facade finds
// it too.
func benchMap(b *testing.B) *core.Map {
	b.Helper()
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	m, err := core.MapFile(pmemtest.Path(b, "bench"), benchPoolSize, core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	if m.Granularity() != core.GranularityCacheLine {
		b.Fatalf("forced map has granularity %v", m.Granularity())
	}
	clear(m.Bytes()) // first-touch faults must not land in the measurement
	return m
}

// slot returns the i-th size-byte slot of the map, wrapping.
func slot(m *core.Map, size, stride int, i int) []byte {
	n := benchPoolSize / stride
	off := (i % n) * stride
	return m.Bytes()[off : off+size]
}

func dirty(p []byte, v byte) {
	for off := 0; off < len(p); off += 64 {
		p[off] = v
	}
}

// BenchmarkPersist dirties size bytes (a store per cache line) and persists
// them: through core's Map (one interface call to the persister), through
// the package-level facade (registry lookup first), straight through hal's
// kernels, and through C libpmem's pmem_persist when the cpeer tag is set.
func BenchmarkPersist(b *testing.B) {
	k := hal.Selected()
	for _, size := range []int{64, 4096} {
		stride := max(size, 4096)
		b.Run(sizeName(size), func(b *testing.B) {
			m := benchMap(b)
			b.Run("hal", func(b *testing.B) {
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					p := slot(m, size, stride, i)
					dirty(p, byte(i))
					k.FlushRange(p)
					k.Fence()
					i++
				}
			})
			b.Run("core", func(b *testing.B) {
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					p := slot(m, size, stride, i)
					dirty(p, byte(i))
					m.Persist(p)
					i++
				}
			})
			b.Run("facade", func(b *testing.B) {
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					p := slot(m, size, stride, i)
					dirty(p, byte(i))
					core.Persist(p)
					i++
				}
			})
			if cpmem.Available {
				b.Run("c", func(b *testing.B) {
					b.SetBytes(int64(size))
					// One cgo call for the whole run: the loop is in C.
					cLoop(b, m.Bytes(), cpmem.Loop{Op: cpmem.DirtyPersist, Stride: stride, Count: benchPoolSize / stride, Size: size}, 0, uint64(b.N))
				})
			}
		})
	}
}

// BenchmarkMemcpyPersist copies size bytes into the forced-pmem map and
// persists them, through the same four paths as BenchmarkPersist.
func BenchmarkMemcpyPersist(b *testing.B) {
	k := hal.Selected()
	for _, size := range []int{64, 256, 4096, 64 << 10, 2 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			m := benchMap(b)
			src := make([]byte, size)
			for i := range src {
				src[i] = byte(i)
			}
			stride := max(size, 4096)
			b.Run("hal", func(b *testing.B) {
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					k.Memmove(slot(m, size, stride, i), src, 0)
					i++
				}
			})
			b.Run("core", func(b *testing.B) {
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					m.Memcpy(slot(m, size, stride, i), src, 0)
					i++
				}
			})
			b.Run("facade", func(b *testing.B) {
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					core.MemcpyPersist(slot(m, size, stride, i), src)
					i++
				}
			})
			if cpmem.Available {
				b.Run("c", func(b *testing.B) {
					b.SetBytes(int64(size))
					cLoop(b, m.Bytes(), cpmem.Loop{Op: cpmem.MemcpyPersist, Stride: stride, Count: benchPoolSize / stride, Size: len(src), Src: src}, 0, uint64(b.N))
				})
			}
		})
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkLayering measures what core's layering costs over hal's kernels,
// and Go against C libpmem, robustly on a busy machine: every iteration
// runs a block of operations through hal, through core's Map and (with the
// cpeer tag) through C, in rotating order, timing each block, so that
// contention from other processes hits all paths alike. It reports ns/op
// of each path and the ratios core/hal and core/c (1.0 = same cost), and
// control/hal, hal against itself, the resolution of the run.
func BenchmarkLayering(b *testing.B) {
	k := hal.Selected()
	type op struct {
		name      string
		size      int
		persist   bool // dirty + persist; else memcpy + persist
		blockSize int
	}
	ops := []op{
		{"Persist/64B", 64, true, 64},
		{"Persist/4KiB", 4096, true, 32},
		{"MemcpyPersist/64B", 64, false, 64},
		{"MemcpyPersist/4KiB", 4096, false, 32},
		{"MemcpyPersist/64KiB", 64 << 10, false, 8},
		{"MemcpyPersist/2MiB", 2 << 20, false, 2},
	}
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			m := benchMap(b)
			src := make([]byte, o.size)
			for i := range src {
				src[i] = byte(i * 7)
			}
			stride := max(o.size, 4096)
			count := benchPoolSize / stride
			paths := []struct {
				name string
				run  func(first int)
			}{
				{"hal", func(first int) {
					for i := first; i < first+o.blockSize; i++ {
						p := slot(m, o.size, stride, i)
						if o.persist {
							dirty(p, byte(i))
							k.FlushRange(p)
							k.Fence()
						} else {
							k.Memmove(p, src, 0)
						}
					}
				}},
				{"core", func(first int) {
					for i := first; i < first+o.blockSize; i++ {
						p := slot(m, o.size, stride, i)
						if o.persist {
							dirty(p, byte(i))
							m.Persist(p)
						} else {
							m.Memcpy(p, src, 0)
						}
					}
				}},
			}
			// A second hal path is the control: its ratio to the first shows
			// how much of a difference this run can resolve.
			paths = append(paths, paths[0])
			paths[2].name = "control"
			if cpmem.Available {
				paths = append(paths, struct {
					name string
					run  func(first int)
				}{"c", func(first int) {
					if o.persist {
						cLoop(b, m.Bytes(), cpmem.Loop{Op: cpmem.DirtyPersist, Stride: stride, Count: count, Size: o.size}, uint64(first), uint64(o.blockSize))
					} else {
						cLoop(b, m.Bytes(), cpmem.Loop{Op: cpmem.MemcpyPersist, Stride: stride, Count: count, Size: len(src), Src: src}, uint64(first), uint64(o.blockSize))
					}
				}})
			}
			// Per-block times: the minimum is the cost without interference
			// (the machine is shared), the median a typical cost.
			blocks := make([][]time.Duration, len(paths))
			b.SetBytes(int64(o.size * o.blockSize * len(paths)))
			iter := 0
			for b.Loop() {
				for j := range paths {
					p := (iter + j) % len(paths) // rotate who goes first
					t0 := time.Now()
					paths[p].run(iter * o.blockSize)
					blocks[p] = append(blocks[p], time.Since(t0))
				}
				iter++
			}
			stat := func(j int, median bool) float64 {
				d := slices.Clone(blocks[j])
				slices.Sort(d)
				v := d[0]
				if median {
					v = d[len(d)/2]
				}
				return float64(v.Nanoseconds()) / float64(o.blockSize)
			}
			for j, p := range paths {
				b.ReportMetric(stat(j, false), p.name+"-min-ns/op")
			}
			b.ReportMetric(stat(1, false)/stat(0, false), "core/hal-min")
			b.ReportMetric(stat(1, true)/stat(0, true), "core/hal-median")
			b.ReportMetric(stat(2, false)/stat(0, false), "control/hal-min")
			if len(paths) == 4 {
				b.ReportMetric(stat(1, false)/stat(3, false), "core/c-min")
				b.ReportMetric(stat(1, true)/stat(3, true), "core/c-median")
			}
		})
	}
}

// cLoop runs a loop of C libpmem operations on base (one cgo call).
func cLoop(b *testing.B, base []byte, l cpmem.Loop, first, n uint64) {
	if err := cpmem.Run(base, l, first, n); err != nil {
		b.Fatal(err)
	}
}
