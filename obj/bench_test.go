package obj

import (
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// BenchmarkAllocFree measures an atomic allocation and free pair (a
// destination outside the pool, as pmembench's obj_alloc/free scenario).
func BenchmarkAllocFree(b *testing.B) {
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
