package bench_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/tools/internal/bench"
)

// TestTableColumnsAndNoise: each scenario shows only its columns (a new
// header when they change), a ratio whose repetitions spread beyond ±20%
// is marked, and Go/C is by the clock the row names.
func TestTableColumnsAndNoise(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	rates := func(lo, mid, hi float64, mb bool, limit bool) bench.Rates {
		r := bench.Rates{GoOps: 1e6, COps: f(1e6), CSpread: f(1), PairRatio: f(mid), RatioMin: f(lo), RatioMax: f(hi)}
		if mb {
			r.GoMBps = 64
		}
		if limit {
			r.LimitMBps, r.CopyMBps, r.GoOfLimit = f(1000), f(900), f(0.064)
		}
		return r
	}
	rows := []bench.Result{
		{Scenario: "memcpy-persist", Size: 64, Threads: 1, Clock: "cpu",
			Wall: rates(0.5, 1.0, 1.5, true, true), CPU: new(rates(0.98, 1.01, 1.03, true, true))},
		{Scenario: "log-walk", Size: 64, Threads: 2, Clock: "wall",
			Wall: rates(0.7, 1.0, 1.3, false, false), CPU: new(rates(0.9, 1.0, 1.1, false, false))},
	}
	var out bytes.Buffer
	tab := bench.NewTable(&out)
	for _, r := range rows {
		if err := tab.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	var heads, data []string
	for line := range strings.Lines(out.String()) {
		switch {
		case strings.HasPrefix(line, "scenario"):
			heads = append(heads, line)
		case strings.HasPrefix(line, "memcpy"), strings.HasPrefix(line, "log-walk"):
			data = append(data, line)
		}
	}
	if len(heads) != 2 || len(data) != 2 {
		t.Fatalf("%d headers, %d rows, want 2 and 2:\n%s", len(heads), len(data), out.String())
	}
	for _, want := range []string{"Go MB/s", "limit", "copy"} {
		if !strings.Contains(heads[0], want) {
			t.Errorf("memcpy header lacks %q: %s", want, heads[0])
		}
		if strings.Contains(heads[1], want) {
			t.Errorf("log-walk header has %q: %s", want, heads[1])
		}
	}
	// memcpy: Go/C by cpu (steady, unmarked), the wall ratio spread ±50%: marked.
	if !strings.Contains(data[0], "1.01 [0.98-1.03] cpu") || !strings.Contains(data[0], "~1.00 [0.50-1.50]") {
		t.Errorf("memcpy row: %s", data[0])
	}
	// log-walk, 2 threads: Go/C by wall, ±30%: marked.
	if !strings.Contains(data[1], "~1.00 [0.70-1.30] wall") {
		t.Errorf("log-walk row: %s", data[1])
	}
}
