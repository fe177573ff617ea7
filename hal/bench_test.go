package hal_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/haltest"
	"github.com/gopmdk/pmdk/hal/internal/cpeer"
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
			if cpeer.Available {
				b.Run("c-pmem_memcpy_persist", func(b *testing.B) {
					b.SetBytes(int64(size))
					cpeer.MemcpyPersistN(dst, src, b.N)
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
			if cpeer.Available {
				b.Run("c-pmem_memset_persist", func(b *testing.B) {
					b.SetBytes(int64(size))
					cpeer.MemsetPersistN(dst, 0x5a, b.N)
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
