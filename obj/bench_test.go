package obj

import (
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// BenchmarkAllocFree measures an atomic allocation and free pair (a
// destination outside the pool, as pmembench's obj_alloc/free scenario).
func BenchmarkAllocFree(b *testing.B) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1") // CPU flushes, as on pmem: not msync
	for _, size := range []int{64, 256, 4096} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			p, err := Create(pmemtest.Path(b, "pool"), 64<<20, 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.RunParallel(func(pb *testing.PB) {
				var oid OID
				for pb.Next() {
					if err := p.AllocTo(&oid, size, 1, nil); err != nil {
						b.Error(err)
						return
					}
					if err := p.FreeOID(&oid); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mops/s")
		})
	}
}

// BenchmarkTx measures whole transactions, as pmembench's obj-tx scenarios:
// an empty one, an allocation and free, and a 64-byte snapshot and write.
func BenchmarkTx(b *testing.B) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	run := func(b *testing.B, p *Pool, f func(*Tx) error) {
		for b.Loop() {
			if err := p.Tx(f); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mtx/s")
	}
	b.Run("empty", func(b *testing.B) {
		p, _ := newPool(b, 64<<20)
		run(b, p, func(*Tx) error { return nil })
	})
	b.Run("alloc-free", func(b *testing.B) {
		p, _ := newPool(b, 64<<20)
		run(b, p, func(tx *Tx) error {
			o, err := tx.Alloc(64, 1)
			if err != nil {
				return err
			}
			return tx.Free(o)
		})
	})
	b.Run("add-range", func(b *testing.B) {
		p, _ := newPool(b, 64<<20)
		o, err := p.Zalloc(64, 1)
		if err != nil {
			b.Fatal(err)
		}
		buf := p.Bytes(o)[:64]
		b.SetBytes(int64(len(buf)))
		run(b, p, func(tx *Tx) error {
			if err := tx.AddRangeDirect(buf); err != nil {
				return err
			}
			buf[0]++
			return nil
		})
	})
}

// BenchmarkAllocFreeStats measures BenchmarkAllocFree's pair with each
// stats.enabled mode: the cost of the heap counters (an atomic add per
// counter kept, on paths that already persisted).
func BenchmarkAllocFreeStats(b *testing.B) {
	b.Setenv("PMEM_IS_PMEM_FORCE", "1")
	for _, mode := range []StatsEnabled{StatsDisabled, StatsTransient, StatsBoth} {
		b.Run(fmt.Sprintf("mode=%d", mode), func(b *testing.B) {
			p, err := Create(pmemtest.Path(b, "pool"), 64<<20, 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			if err := p.CtlSet("stats.enabled", mode); err != nil {
				b.Fatal(err)
			}
			b.RunParallel(func(pb *testing.PB) {
				var oid OID
				for pb.Next() {
					if err := p.AllocTo(&oid, 64, 1, nil); err != nil {
						b.Error(err)
						return
					}
					if err := p.FreeOID(&oid); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
