package vmemcache_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopmdk/pmdk/vmem/vmemcache"
)

// BenchmarkGet reads 1000-byte values of a half-full 16 MiB cache.
func BenchmarkGet(b *testing.B) {
	c := newCache(b, &vmemcache.Options{Size: 16 << 20})
	const n = 8000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%012d", i)
		if err := c.Put(keys[i], make([]byte, 1000)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 1000)
		for pb.Next() {
			if _, _, err := c.Get(keys[r.IntN(n)], buf, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPut puts 1000-byte values of new keys into a full cache.
func BenchmarkPut(b *testing.B) {
	c := newCache(b, &vmemcache.Options{Size: 16 << 20})
	val := make([]byte, 1000)
	key := make([]byte, 16)
	i := 0
	for b.Loop() {
		i++
		key = fmt.Appendf(key[:0], "key-%012d", i)
		if err := c.Put(key, val); err != nil {
			b.Fatal(err)
		}
	}
}
