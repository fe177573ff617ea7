package vmmalloc

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkMallocFree runs testdata/bench.c (threads allocating batches
// of 64 blocks of one size, then freeing them) with glibc's malloc, under
// the preload, and with memkind's PMEM kind where libmemkind-dev is
// installed, alternating the three every round; it reports the medians in
// ns per malloc+free pair and the ratio glibc/vmmalloc (>1: the preload is
// faster).
func BenchmarkMallocFree(b *testing.B) {
	plain := cprog(b, "bench")
	var mk string
	if _, err := os.Stat("/usr/include/memkind.h"); err == nil {
		mk = cprog(b, "bench", "-DMEMKIND", "-lmemkind")
	}
	for _, threads := range []int{1, 2} {
		for _, size := range []int{16, 64, 256, 1024, 4096, 16384, 65536} {
			b.Run(fmt.Sprintf("threads=%d/size=%d", threads, size), func(b *testing.B) {
				cfg := preload(b, 64<<20)
				cfg.LogStats, cfg.LogFile = false, ""
				dir := b.TempDir()
				// glibc is slow on sizes its tcache does not hold
				// (batches of 64 go to its bins and trim the heap):
				// fewer rounds there keep the benchmark short.
				iters := "20000"
				if size >= 4096 {
					iters = "200"
				}
				args := []string{strconv.Itoa(threads), strconv.Itoa(size), iters}
				var g, v, m []float64
				for i := 0; i < b.N; i++ {
					g = append(g, benchRun(b, nil, plain, args...))
					v = append(v, benchRun(b, &cfg, plain, args...))
					if mk != "" {
						m = append(m, benchRun(b, nil, mk, append(args, dir)...))
					}
				}
				b.ReportMetric(median(g), "glibc-ns/op")
				b.ReportMetric(median(v), "vmmalloc-ns/op")
				b.ReportMetric(median(g)/median(v), "glibc/vmmalloc")
				if mk != "" {
					b.ReportMetric(median(m), "memkind-ns/op")
					b.ReportMetric(median(m)/median(v), "memkind/vmmalloc")
				}
			})
		}
	}
}

func benchRun(b *testing.B, cfg *Config, exe string, args ...string) float64 {
	r := run(b, cfg, b.TempDir(), nil, exe, args...)
	ns, err := strconv.ParseFloat(strings.TrimSpace(string(r.out)), 64)
	if r.code != 0 || err != nil {
		b.Fatalf("%s %v: exit %d, %q %q", exe, args, r.code, r.out, r.stderr)
	}
	return ns
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}
