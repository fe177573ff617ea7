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
// of 1 or 64 blocks of one size, then freeing them: batch 1 is glibc's
// best case, its tcache; 64 overflows that) with glibc's malloc, under
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
	for _, bt := range []struct{ threads, size, batch int }{
		{1, 16, 1}, {1, 16, 64}, {1, 256, 1}, {1, 256, 64}, {1, 4096, 1}, {1, 4096, 64}, {1, 65536, 1}, {1, 65536, 64},
		{2, 16, 1}, {2, 16, 64}, {2, 256, 1}, {2, 256, 64}, {2, 4096, 1}, {2, 4096, 64}, {2, 65536, 1}, {2, 65536, 64},
	} {
		threads, size, batch := bt.threads, bt.size, bt.batch
		b.Run(fmt.Sprintf("threads=%d/size=%d/batch=%d", threads, size, batch), func(b *testing.B) {
			cfg := preload(b, 64<<20)
			cfg.LogStats, cfg.LogFile = false, ""
			dir := b.TempDir()
			// glibc is slow on sizes its tcache does not hold
			// (batches of 64 go to its bins and trim the heap):
			// fewer rounds there keep the benchmark short.
			iters := 1280000 / batch
			if size >= 4096 && batch > 1 {
				iters = 200
			}
			args := []string{strconv.Itoa(threads), strconv.Itoa(size), strconv.Itoa(iters), strconv.Itoa(batch)}
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
