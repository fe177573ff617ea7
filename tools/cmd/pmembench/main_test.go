package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

func TestPmembenchJSONLines(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"-run", "memcpy", "-sizes", "64,4K", "-reps", "1", "-duration", "2ms", "-dir", pmemtest.Dir(t), "-json"}
	if err := run(t.Context(), args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	n := 0
	for line := range strings.Lines(out.String()) {
		var r struct {
			Scenario string `json:"scenario"`
			Size     int    `json:"size"`
			Wall     struct {
				GoOps float64 `json:"go_ops_per_sec"`
			} `json:"wall"`
			CPU struct {
				GoOps float64 `json:"go_ops_per_sec"`
			} `json:"cpu"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.Scenario != "memcpy-persist" || r.Wall.GoOps <= 0 || r.CPU.GoOps <= 0 {
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
	if err := run(t.Context(), args, &out, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Fatalf("no profile written: %v", err)
	}
}

func TestPmembenchFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "dax"}, {"-svg", "x.svg", "-no-c"}, {"-sizes", "abc"}, {"-threads", "0"}, {"-run", "("}, {"-reps", "0"}, {"extra"},
		{"-run", "no-such-scenario", "-dir", pmemtest.Dir(t)},
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("pmembench %q succeeded", args)
		}
	}
}

// TestPmembenchSVG: -svg writes a well-formed chart of the run with the C
// peer, and refuses to run without it.
func TestPmembenchSVG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chart.svg")
	var out bytes.Buffer
	args := []string{"-run", "^persist$", "-sizes", "64", "-threads", "1,2", "-reps", "2", "-duration", "2ms",
		"-dir", pmemtest.Dir(t), "-svg", path}
	err := run(t.Context(), args, &out, &out)
	if !cpeer.Available() {
		if err == nil {
			t.Fatal("-svg without the C peer succeeded")
		}
		t.Skip("-svg needs the C peer: build with -tags cpeer")
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		XMLName xml.Name
		Circles []struct{} `xml:"circle"`
	}
	if err := xml.Unmarshal(doc, &root); err != nil {
		t.Fatalf("chart is not well-formed XML: %v", err)
	}
	// Two rows (one per thread count), a wall marker each, one in the legend.
	if root.XMLName.Local != "svg" || len(root.Circles) != 3 {
		t.Errorf("root %v with %d circles, want svg with 3", root.XMLName, len(root.Circles))
	}
	if !strings.Contains(string(doc), "2 goroutines") {
		t.Errorf("chart lacks the 2-goroutine row")
	}
}

func TestPmembenchList(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-list"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"memcpy-persist", "memset-persist", "persist", "log-append", "log-walk", "blk-write", "blk-read"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("-list lacks %s:\n%s", s, out.String())
		}
	}
}
