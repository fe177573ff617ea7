package bench_test

import (
	"testing"

	"github.com/gopmdk/pmdk/tools/internal/bench"
)

// FuzzParseSizes: any input gives sizes or an error, never a panic, and
// every accepted size is positive and survives FormatSize.
func FuzzParseSizes(f *testing.F) {
	for _, s := range []string{"64,256,4K,64K,2M", "1G", "", ",", "K", "-1", "99999999999999999999", "4k, 8M ,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sizes, err := bench.ParseSizes(s)
		if err != nil {
			return
		}
		for _, n := range sizes {
			if n <= 0 {
				t.Fatalf("ParseSizes(%q) gave %d", s, n)
			}
			back, err := bench.ParseSizes(bench.FormatSize(n))
			if err != nil || len(back) != 1 || back[0] != n {
				t.Fatalf("FormatSize(%d) = %q parses to %v, %v", n, bench.FormatSize(n), back, err)
			}
		}
	})
}
