package bench

import (
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

// BenchmarkScenarios runs pmembench's scenarios as Go benchmarks, in
// forced-pmem mode: for each scenario and size the sub-benchmarks go, c
// (with -tags cpeer) and limit (the non-temporal store loop) run the same
// operations, so benchstat or the eye can take the ratios. log-walk is left
// out: one of its operations is a chunk of a whole-log walk, which b.N
// cannot count; pmembench measures it.
func BenchmarkScenarios(b *testing.B) {
	restore, err := setForce(ModeForcedPmem)
	if err != nil {
		b.Fatal(err)
	}
	defer restore()
	cfg := (&Config{Mode: ModeForcedPmem}).withDefaults()
	for _, sc := range scenarios {
		if sc.name == "log-walk" {
			continue
		}
		for _, size := range sc.sizes {
			b.Run(sc.name+"/"+FormatSize(size), func(b *testing.B) {
				e := newEnv(sc, cfg, pmemtest.Dir(b), size, 1, cpeer.Available())
				var r row
				defer func() {
					if err := r.close(); err != nil {
						b.Error(err)
					}
				}()
				if err := sc.setup(e, &r); err != nil {
					b.Fatal(err)
				}
				for _, side := range []struct {
					name string
					ws   []worker
				}{{"go", r.goW}, {"c", r.cW}, {"limit", r.limitW}} {
					if side.ws == nil {
						continue
					}
					b.Run(side.name, func(b *testing.B) {
						// One batch of b.N operations, not b.Loop: the C
						// side would otherwise pay a cgo call per
						// operation, which pmembench does not.
						b.SetBytes(int64(size))
						b.ResetTimer()
						if _, err := side.ws[0](0, uint64(b.N)); err != nil {
							b.Fatal(err)
						}
					})
				}
			})
		}
	}
}
