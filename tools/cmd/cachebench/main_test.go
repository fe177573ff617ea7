package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func tiny(t *testing.T) config {
	return config{size: 2 << 20, heapSize: 2 << 20, value: 200, threads: []int{1, 2},
		reps: 2, duration: 5 * time.Millisecond, dir: t.TempDir()}
}

// TestRunTiny runs every scenario on tiny caches: the report has each
// section with a row per cache, and the work directory is gone after.
func TestRunTiny(t *testing.T) {
	cfg := tiny(t)
	var out strings.Builder
	if err := run(t.Context(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"get        1", "get        2", "put        2", "Zipf", "Go heap",
		"\nvmemcache ", "\nbigcache ", "\nristretto "} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "\nvmemcache ") != 2 {
		t.Errorf("vmemcache should have a hit-ratio and a heap row:\n%s", s)
	}
	assertEmpty(t, cfg.dir)
}

// TestRunCancelled: a run stopped (as SIGINT stops it) returns the
// context's error and still removes its work directory.
func TestRunCancelled(t *testing.T) {
	cfg := tiny(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out strings.Builder
	if err := run(ctx, cfg, &out); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	assertEmpty(t, cfg.dir)
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("work directory left behind: %v %v", ents, err)
	}
}

func TestFlags(t *testing.T) {
	var n int64
	for in, want := range map[string]int64{"64M": 64 << 20, "1G": 1 << 30, "4096": 4096, "8K": 8 << 10} {
		if err := sizeFlag(&n)(in); err != nil || n != want {
			t.Errorf("size %q: %d %v", in, n, err)
		}
	}
	for _, bad := range []string{"", "M", "-1M", "x"} {
		if err := sizeFlag(&n)(bad); err == nil {
			t.Errorf("size %q accepted", bad)
		}
	}
	if got, err := parseInts("1, 2,4"); err != nil || len(got) != 3 || got[2] != 4 {
		t.Errorf("threads: %v %v", got, err)
	}
	if _, err := parseInts("0"); err == nil {
		t.Error("0 threads accepted")
	}
}
