package kv_test

import (
	"fmt"
	"testing"
)

// BenchmarkEngines measures durable puts and gets of 64-byte values with
// 16-byte keys on each engine (pool files as forced pmem).
func BenchmarkEngines(b *testing.B) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	const n = 20000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%016d", (i*7919)%n)
	}
	value := make([]byte, 64)
	for _, ec := range engines {
		b.Run(ec.name, func(b *testing.B) {
			cfg := ec.config(b)
			cfg.Size = 128 << 20
			db := openEngine(b, ec, cfg)
			b.Run("put", func(b *testing.B) {
				b.SetBytes(64)
				i := 0
				for b.Loop() {
					if err := db.Put(keys[i%n], value); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("get", func(b *testing.B) {
				b.SetBytes(64)
				for _, k := range keys { // untimed: b.Loop starts the clock
					if err := db.Put(k, value); err != nil {
						b.Fatal(err)
					}
				}
				buf := make([]byte, 64)
				i := 0
				for b.Loop() {
					if _, err := db.GetCopy(keys[i%n], buf); err != nil && ec.keepsData {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
