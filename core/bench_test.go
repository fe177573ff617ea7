package core_test

import (
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/internal/cpeer"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal"
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
			if cpeer.Available() {
				b.Run("c", func(b *testing.B) {
					b.SetBytes(int64(size))
					// One cgo call for the whole run: the loop is in C.
					cpeer.PersistLoop(m.Bytes(), stride, benchPoolSize/stride, size, 0, uint64(b.N))
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
			if cpeer.Available() {
				b.Run("c", func(b *testing.B) {
					b.SetBytes(int64(size))
					cpeer.MemcpyLoop(m.Bytes(), stride, benchPoolSize/stride, src, 0, uint64(b.N))
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
