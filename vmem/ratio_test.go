package vmem

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPeerRatios measures vmem against memkind (the C peer) and Go's
// allocator on BenchmarkMallocFree's workloads, in one process, the three
// alternating, and logs the median throughput of several repetitions per
// wall-clock second and per CPU second (the process's user+system time,
// which counts Go's GC workers and any spinning). It asserts nothing and
// runs only when VMEM_RATIOS is set (and memkind only with -tags cpeer):
// a measurement, not a test.
//
//	VMEM_RATIOS=1 go test -tags cpeer -run PeerRatios -v ./vmem
func TestPeerRatios(t *testing.T) {
	if os.Getenv("VMEM_RATIOS") == "" {
		t.Skip("set VMEM_RATIOS=1 to measure")
	}
	const reps = 5
	ops := map[string]int{"64B": 1_000_000, "4KiB": 500_000, "1MiB": 10_000, "mixed": 200_000}
	// One pool and one kind for every workload. VMEM_RATIOS may name
	// workloads (64B,mixed) and VMEM_RATIOS_G one goroutine count, to
	// measure in separate processes: memkind crashes now and then (see
	// memkindImpl).
	impls := []benchImpl{vmemImpl(t), goImpl(t)}
	if mk, ok := memkindImpl(t); ok {
		impls = append(impls, mk)
	}
	defer func() {
		for _, im := range impls {
			im.done()
		}
	}()
	var report strings.Builder
	fmt.Fprintf(&report, "%-6s %2s %-8s %12s %12s %10s %10s %10s %10s\n",
		"size", "g", "impl", "Mops/s wall", "Mops/cpu-s", "vs memkind", "(cpu)", "vs go", "(cpu)")
	only := os.Getenv("VMEM_RATIOS")
	for _, ws := range benchSizes {
		if only != "1" && !strings.Contains(only, ws.name) {
			continue
		}
		for _, g := range []int{1, 2} {
			if gs := os.Getenv("VMEM_RATIOS_G"); gs != "" && gs != fmt.Sprint(g) {
				continue
			}
			n := ops[ws.name]
			wall := make([][]float64, len(impls))
			cpu := make([][]float64, len(impls))
			for _, im := range impls { // warm up: fault the pages in
				if err := runSplit(im, ws.size, n/4, g); err != nil {
					t.Fatal(im.name, err)
				}
			}
			for r := range reps {
				for k := range impls {
					k = (k + r) % len(impls) // rotate the order
					im := impls[k]
					c0, t0 := cpuTime(), time.Now()
					if err := runSplit(im, ws.size, n, g); err != nil {
						t.Fatal(im.name, err)
					}
					w, c := time.Since(t0).Seconds(), (cpuTime() - c0).Seconds()
					wall[k] = append(wall[k], float64(n)/w/1e6)
					cpu[k] = append(cpu[k], float64(n)/c/1e6)
				}
			}
			med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
			mw, mc := make([]float64, len(impls)), make([]float64, len(impls))
			for k := range impls {
				mw[k], mc[k] = med(wall[k]), med(cpu[k])
			}
			var rows strings.Builder
			for k, im := range impls {
				report := &rows
				fmt.Fprintf(report, "%-6s %2d %-8s %12.2f %12.2f", ws.name, g, im.name, mw[k], mc[k])
				if k == 0 {
					if len(impls) > 2 {
						fmt.Fprintf(report, " %10.2f %10.2f", mw[0]/mw[2], mc[0]/mc[2])
					} else {
						fmt.Fprintf(report, " %10s %10s", "-", "-")
					}
					fmt.Fprintf(report, " %10.2f %10.2f", mw[0]/mw[1], mc[0]/mc[1])
				}
				report.WriteString("\n")
			}
			t.Logf("%s, %d goroutines:\n%s", ws.name, g, rows.String())
			report.WriteString(rows.String())
		}
	}
	t.Log("\n" + report.String())
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
