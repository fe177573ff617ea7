package bench_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/tools/internal/bench"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

// tinySizes has one size below blk's smallest block, one above.
var tinySizes = []int{64, 4096}

// tinyConfig runs every scenario briefly on small pools.
func tinyConfig(t *testing.T, mode bench.Mode) bench.Config {
	return bench.Config{
		Sizes: tinySizes, Threads: []int{1, 2}, Reps: 2,
		Duration: 2 * time.Millisecond, Dir: pmemtest.Dir(t), Mode: mode, Region: 64 << 10,
	}
}

func runJSON(t *testing.T, cfg bench.Config) []map[string]any {
	t.Helper()
	var rows, mach bytes.Buffer
	if err := bench.Run(t.Context(), cfg, bench.NewJSON(&rows, &mach)); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(mach.Bytes(), &m); err != nil {
		t.Fatalf("machine line %q: %v", mach.String(), err)
	}
	if m["kernels"] == "" || m["go_granularity"] == "" {
		t.Errorf("machine line lacks kernels or granularity: %v", m)
	}
	var out []map[string]any
	for line := range strings.Lines(rows.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestRunEveryScenarioJSON(t *testing.T) {
	for _, mode := range []bench.Mode{bench.ModeForcedPmem, bench.ModePageCache} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := tinyConfig(t, mode)
			if mode == bench.ModePageCache {
				cfg.Threads = []int{1} // the threaded paths are the same
			}
			rows := runJSON(t, cfg)
			seen := map[string]int{}
			for _, r := range rows {
				name, _ := r["scenario"].(string)
				seen[name]++
				if r["mode"] != string(mode) {
					t.Errorf("%s: mode %v", name, r["mode"])
				}
				for _, f := range []string{"size", "threads"} {
					if v, ok := r[f].(float64); !ok || v <= 0 {
						t.Errorf("%s: field %s = %v, want a positive number", name, f, r[f])
					}
				}
				// Both clocks, every row (the CI machines are unix: they have a
				// thread CPU clock).
				for _, clock := range []string{"wall", "cpu"} {
					rs, ok := r[clock].(map[string]any)
					if !ok {
						t.Errorf("%s: no %s figures: %v", name, clock, r)
						continue
					}
					checkRates(t, name+" "+clock, rs)
				}
				if b, ok := r["go_busy"].(float64); !ok || b <= 0 {
					t.Errorf("%s: go_busy = %v, want a positive number", name, r["go_busy"])
				}
				for _, f := range []string{"go_parked", "c_parked"} {
					if v, ok := r[f].(float64); ok && (v < 0 || v > 1) {
						t.Errorf("%s: %s = %v, want a fraction", name, f, v)
					}
				}
				if _, ok := r["c_busy"]; ok != cpeer.Available() {
					t.Errorf("%s: c_busy present=%v, C peer built in=%v", name, ok, cpeer.Available())
				}
			}
			// Each size the scenario takes, at each thread count.
			for _, s := range bench.Scenarios() {
				want := 0
				for _, size := range tinySizes {
					if size >= s.MinSize {
						want += len(cfg.Threads)
					}
				}
				if want == 0 || seen[s.Name] != want {
					t.Errorf("scenario %s: %d rows, want %d", s.Name, seen[s.Name], want)
				}
			}
		})
	}
}

// checkRates checks the figures of one clock of one row.
func checkRates(t *testing.T, what string, rs map[string]any) {
	t.Helper()
	for _, f := range []string{"go_ops_per_sec", "go_mb_per_sec", "go_ns_per_op"} {
		if strings.HasPrefix(what, "log-walk") && f == "go_mb_per_sec" {
			// A walk moves no bytes: no MB/s.
			if _, ok := rs[f]; ok {
				t.Errorf("%s: field %s present for a walk", what, f)
			}
			continue
		}
		if v, ok := rs[f].(float64); !ok || v <= 0 {
			t.Errorf("%s: field %s = %v, want a positive number", what, f, rs[f])
		}
	}
	for _, f := range []string{"c_ops_per_sec", "ratio", "pair_ratio", "ratio_min", "ratio_max", "best_ratio", "ratios"} {
		if _, ok := rs[f]; ok != cpeer.Available() {
			t.Errorf("%s: field %s present=%v, C peer built in=%v", what, f, ok, cpeer.Available())
		}
	}
	if ratio, ok := rs["ratio"].(float64); ok {
		want := rs["go_ops_per_sec"].(float64) / rs["c_ops_per_sec"].(float64)
		if d := ratio/want - 1; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: ratio %v, Go/C gives %v", what, ratio, want)
		}
		lo, mid, hi := rs["ratio_min"].(float64), rs["pair_ratio"].(float64), rs["ratio_max"].(float64)
		if !(lo > 0 && lo <= mid && mid <= hi) {
			t.Errorf("%s: ratio_min %v, pair_ratio %v, ratio_max %v out of order", what, lo, mid, hi)
		}
		if n := len(rs["ratios"].([]any)); n != 2 {
			t.Errorf("%s: %d per-repetition ratios, want one per repetition (2)", what, n)
		}
	}
	_, hasLimit := rs["limit_mb_per_sec"]
	name, _, _ := strings.Cut(what, " ")
	if copyRow := strings.HasSuffix(name, "set-persist") || strings.HasSuffix(name, "cpy-persist"); copyRow && !hasLimit && bench.LimitBuilt {
		t.Errorf("%s: no limit_mb_per_sec", what)
	} else if !copyRow && hasLimit {
		t.Errorf("%s: limit reported for a non-copy scenario", what)
	}
}

func TestRunFilterAndTable(t *testing.T) {
	cfg := tinyConfig(t, bench.ModeForcedPmem)
	cfg.Run = regexp.MustCompile("^persist$")
	cfg.Threads = []int{1}
	var out bytes.Buffer
	if err := bench.Run(t.Context(), cfg, bench.NewTable(&out)); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	wants := []string{"kernels:", "mode:     forced-pmem", "persist", "busy", "Go MB/s"}
	if cpeer.Available() {
		wants = append(wants, "Go/C", "other clock", " cpu ")
	}
	for _, want := range wants {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	for line := range strings.Lines(s) {
		// persist has no reference loop: its header has no limit column.
		if strings.HasPrefix(line, "scenario") && strings.Contains(line, "limit") {
			t.Errorf("persist rows show a limit column:\n%s", s)
		}
	}
	if strings.Contains(s, "memcpy-persist ") {
		t.Errorf("-run ^persist$ ran memcpy-persist:\n%s", s)
	}
}

// TestRunGoal: the scenarios with a goal carry it into their rows, the
// others have none.
func TestRunGoal(t *testing.T) {
	cfg := tinyConfig(t, bench.ModeForcedPmem)
	cfg.Run = regexp.MustCompile("^(blk-read|persist)$")
	cfg.Sizes, cfg.Threads = []int{4096}, []int{1}
	goals := map[string]float64{}
	for _, s := range bench.Scenarios() {
		goals[s.Name] = s.Goal
	}
	rows := runJSON(t, cfg)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, r := range rows {
		name := r["scenario"].(string)
		g, ok := r["goal"].(float64)
		if want := goals[name]; ok != (want > 0) || g != want {
			t.Errorf("%s: goal %v (present %v), want %v", name, r["goal"], ok, want)
		}
	}
}

func TestRunNoPeer(t *testing.T) {
	cfg := tinyConfig(t, bench.ModeForcedPmem)
	cfg.Run = regexp.MustCompile("memset")
	cfg.Sizes, cfg.Threads, cfg.NoPeer = []int{256}, []int{1}, true
	for _, r := range runJSON(t, cfg) {
		if _, ok := r["c_ops_per_sec"]; ok {
			t.Errorf("C figures with NoPeer: %v", r)
		}
	}
}

func TestParseSizes(t *testing.T) {
	got, err := bench.ParseSizes("64, 256,4K,64k,2M,1G")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{64, 256, 4096, 65536, 2 << 20, 1 << 30}; !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for _, bad := range []string{"0", "-1", "4X", "K", "1.5K", "99999999G"} {
		if _, err := bench.ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q) succeeded", bad)
		}
	}
	for _, n := range got {
		back, err := bench.ParseSizes(bench.FormatSize(n))
		if err != nil || back[0] != n {
			t.Errorf("FormatSize(%d) = %q does not parse back", n, bench.FormatSize(n))
		}
	}
}

func TestParseModeAndThreads(t *testing.T) {
	if _, err := bench.ParseMode("dax"); err == nil {
		t.Error("ParseMode(dax) succeeded")
	}
	if ts, err := bench.ParseThreads("1,2,4"); err != nil || !slices.Equal(ts, []int{1, 2, 4}) {
		t.Errorf("ParseThreads: %v %v", ts, err)
	}
	if _, err := bench.ParseThreads("0"); err == nil {
		t.Error("ParseThreads(0) succeeded")
	}
}
