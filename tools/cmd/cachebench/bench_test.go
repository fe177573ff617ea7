package main

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkGet is the get scenario as a Go benchmark, for profiles:
// go test -bench Get -cpu 1,2 -cpuprofile cpu.out ./tools/cmd/cachebench
func BenchmarkGet(b *testing.B) {
	const size, value = 64 << 20, 1000
	vs := newValues(value)
	n := size / 2 / (value + keySize)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key('g', uint64(i))
	}
	for _, name := range cacheNames {
		b.Run(name, func(b *testing.B) {
			c, err := newCache(name, b.TempDir(), size, value+keySize)
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			fill(c, 'g', n, vs)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(1, 2))
				buf := make([]byte, len(vs.data))
				for pb.Next() {
					c.get(keys[r.IntN(n)], buf)
				}
			})
		})
	}
}
