package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/tools/internal/cmdtest"
)

// TestMain runs the test binary as kvbench itself when asked, so that the
// signal test can start it as a process.
func TestMain(m *testing.M) {
	if os.Getenv("KVBENCH_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func tiny(t *testing.T) config {
	cfg := defaultConfig()
	cfg.num, cfg.reps, cfg.dir = 100, 1, t.TempDir()
	cfg.engines = append(cfg.engines, "blackhole")
	return cfg
}

// TestRunTable runs every workload on every engine and peer: each has a
// row per workload, kv's engines with their ratios, and the work
// directory is gone after.
func TestRunTable(t *testing.T) {
	cfg := tiny(t)
	var out strings.Builder
	if err := run(t.Context(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, b := range allBenchmarks {
		for _, e := range cfg.engines {
			if !strings.Contains(s, "\n"+padRight(b, 13)+" "+padRight(e, 10)) {
				t.Errorf("no row for %s on %s:\n%s", b, e, s)
			}
		}
	}
	for _, want := range []string{"stree      ", "/bbolt ", "/pebble ", "/gomap "} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	assertEmpty(t, cfg.dir)
}

func padRight(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len(s))) }

// TestRunJSON: one JSON object per engine and workload, with the
// repetitions' figures and the ratios to the peers.
func TestRunJSON(t *testing.T) {
	cfg := tiny(t)
	cfg.json, cfg.reps = true, 2
	cfg.engines = []string{"stree", "vcmap", peerBolt, peerPebble, peerMap}
	cfg.benchmarks = []string{"fillrandom", "readrandom"}
	cfg.values = []int{8, 200}
	var out strings.Builder
	if err := run(t.Context(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	n := 0
	for sc := bufio.NewScanner(strings.NewReader(out.String())); sc.Scan(); n++ {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if len(r.OpsPerSec) != cfg.reps || r.Median <= 0 {
			t.Errorf("%+v", r)
		}
		if r.Engine == "stree" && (r.Ratios["bbolt"] <= 0 || r.Ratios["pebble"] <= 0) ||
			r.Engine == "vcmap" && r.Ratios["gomap"] <= 0 {
			t.Errorf("ratios of %s: %v", r.Engine, r.Ratios)
		}
	}
	if want := len(cfg.engines) * len(cfg.benchmarks) * len(cfg.values); n != want {
		t.Fatalf("%d lines, want %d", n, want)
	}
	assertEmpty(t, cfg.dir)
}

func TestBadFlags(t *testing.T) {
	cfg := defaultConfig()
	for _, args := range [][4]string{
		{"stree", "nosuch", "64", "1"},
		{"stree", "fillseq", "x", "1"},
		{"stree", "fillseq", "64", "0"},
	} {
		if err := cfg.parse(args[0], args[1], args[2], args[3]); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if err := cfg.parse("stree,nosuch", "fillseq", "64", "1"); err == nil {
		t.Error("unknown engine accepted")
	}
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	if es, err := os.ReadDir(dir); err != nil || len(es) != 0 {
		t.Errorf("%s: %d entries left (%v)", dir, len(es), err)
	}
}

// TestInterruptRemovesDir: SIGINT or SIGTERM during a run stops it, exit
// 130, with its work directory removed.
func TestInterruptRemovesDir(t *testing.T) {
	cmdtest.InterruptRemovesDir(t, "KVBENCH_TEST_AS_MAIN=1",
		[]string{"-num", "2000", "-reps", "100000", "-engines", "stree,gomap"},
		func(t *testing.T) string { return t.TempDir() }, "kvbench: ", "kvbench-")
}
