package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal"
)

func TestDemoReportsKernelsAndRoundTrip(t *testing.T) {
	dir := pmemtest.Dir(t)
	var out bytes.Buffer
	if err := run(&out, options{dir: dir}); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"kernel set: " + hal.Selected().Name(),
		"mapping granularity: ",
		"round trip: ok",
		"log round trip: ok",
		"blk round trip: ok",
		`"a string in a vmem pool" and a pair (6, 7)`,
		`"a value cached off the Go heap" (30 bytes)`,
		"DAX: false", // /dev/shm and the temp dir are never DAX
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if _, err := exec.LookPath("pmempool"); err == nil {
		for _, want := range []string{"demo.log: demo.log: consistent", "demo.blk: demo.blk: consistent"} {
			if !strings.Contains(s, want) {
				t.Errorf("output lacks pmempool's %q:\n%s", want, s)
			}
		}
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("without -keep the demo left %d entries in %s", len(left), dir)
	}
}

func TestDemoKeep(t *testing.T) {
	dir := pmemtest.Dir(t)
	var out bytes.Buffer
	if err := run(&out, options{dir: dir, keep: true}); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || !strings.Contains(out.String(), "pool files kept in") {
		t.Fatalf("-keep: %d entries left, output:\n%s", len(left), out.String())
	}
}

func TestDemoForcedPmem(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "1")
	var out bytes.Buffer
	if err := run(&out, options{dir: pmemtest.Dir(t)}); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "PMEM_IS_PMEM_FORCE=1") || !strings.Contains(s, "round trip: ok") {
		t.Fatalf("forced pmem run:\n%s", s)
	}
}

func TestDemoBadDir(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, options{dir: "/nonexistent/gopmdk"}); err == nil {
		t.Fatal("run in a missing directory succeeded")
	}
}
