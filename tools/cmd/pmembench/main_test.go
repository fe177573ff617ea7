package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

func TestPmembenchJSONLines(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"-run", "memcpy", "-sizes", "64,4K", "-reps", "1", "-duration", "2ms", "-dir", pmemtest.Dir(t), "-json"}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	n := 0
	for line := range strings.Lines(out.String()) {
		var r struct {
			Scenario string  `json:"scenario"`
			Size     int     `json:"size"`
			GoOps    float64 `json:"go_ops_per_sec"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.Scenario != "memcpy-persist" || r.GoOps <= 0 {
			t.Errorf("row %+v", r)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d rows, want 2 (sizes 64 and 4K):\n%s", n, out.String())
	}
	if !strings.Contains(errOut.String(), `"kernels"`) {
		t.Errorf("machine description missing from stderr: %s", errOut.String())
	}
}

func TestPmembenchCPUProfile(t *testing.T) {
	prof := t.TempDir() + "/cpu.pprof"
	var out bytes.Buffer
	args := []string{"-run", "^persist$", "-sizes", "64", "-reps", "1", "-duration", "2ms", "-dir", pmemtest.Dir(t), "-cpuprofile", prof}
	if err := run(args, &out, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Fatalf("no profile written: %v", err)
	}
}

func TestPmembenchFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "dax"}, {"-clock", "tsc"}, {"-sizes", "abc"}, {"-threads", "0"}, {"-run", "("}, {"-reps", "0"}, {"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err == nil {
			t.Errorf("pmembench %q succeeded", args)
		}
	}
}

func TestPmembenchList(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-list"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"memcpy-persist", "memset-persist", "persist", "log-append", "log-walk", "blk-write", "blk-read"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("-list lacks %s:\n%s", s, out.String())
		}
	}
}
