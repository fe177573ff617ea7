package bench_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/tools/internal/bench"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// rates builds the figures of one clock from per-repetition ratios.
func rates(ratios ...float64) bench.Rates {
	lo, mid, hi := ratios[0], ratios[0], ratios[0]
	for _, r := range ratios {
		lo, hi = min(lo, r), max(hi, r)
	}
	if len(ratios) >= 3 {
		mid = ratios[len(ratios)/2] // callers pass the median in the middle
	}
	return bench.Rates{GoOps: 1e6 * mid, COps: new(1e6), Ratio: new(mid),
		Ratios: ratios, PairRatio: new(mid), RatioMin: new(lo), RatioMax: new(hi)}
}

func pr(r bench.Rates) *bench.Rates { return &r }

// chartMachine and chartRows are the fixed input of the golden chart: two
// scenarios, one with a goal, one size with two thread counts, a row
// without CPU figures and one without the C peer (left out).
var chartMachine = bench.Machine{
	CPU: "Test CPU @ 1 GHz", Cores: 2, OS: "linux/amd64", GoVersion: "go1.26",
	Kernels: "clwb+avx512f (movnt threshold 256)", Mode: bench.ModeForcedPmem, Reps: 5, Duration: "200ms",
}

var chartRows = []bench.Result{
	{Scenario: "log-append", Size: 64, Threads: 1, Wall: rates(1.02, 1.10, 1.14), CPU: pr(rates(1.08, 1.12, 1.15))},
	{Scenario: "log-append", Size: 64, Threads: 2, Wall: rates(1.6, 2.1, 2.6), CPU: pr(rates(1.3, 1.4, 1.5))},
	{Scenario: "log-append", Size: 4096, Threads: 1, Wall: rates(0.97, 1.01, 1.05)},
	{Scenario: "blk-write", Size: 512, Threads: 1, Goal: new(1.2), Wall: rates(0.93, 0.99, 1.07), CPU: pr(rates(0.98, 1.0, 1.03))},
	{Scenario: "blk-write", Size: 512, Threads: 2, Goal: new(1.2), Wall: rates(0.72, 0.81, 0.90), CPU: pr(rates(1.01, 1.05, 1.08))},
	{Scenario: "blk-write", Size: 4096, Threads: 2, Goal: new(1.2), Wall: bench.Rates{GoOps: 1}},
}

func TestWriteSVGGolden(t *testing.T) {
	var b bytes.Buffer
	if err := bench.WriteSVG(&b, chartMachine, chartRows); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "chart.svg.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestWriteSVGGolden -update writes it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		got := filepath.Join(t.ArtifactDir(), "chart.svg")
		os.WriteFile(got, b.Bytes(), 0o644)
		t.Errorf("SVG differs from %s (got: %s); if the change is meant, rerun with -update", golden, got)
	}
}

// svgCounts parses an SVG strictly and counts its elements by name; it
// fails the test when the document is not well-formed XML or its root is
// not an svg element of the SVG namespace.
func svgCounts(t *testing.T, doc []byte) (map[string]int, string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	counts := map[string]int{}
	var text strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element %v, want svg in the SVG namespace", tok.Name)
			}
			depth++
			counts[tok.Name.Local]++
		case xml.EndElement:
			depth--
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	if depth != 0 || counts["svg"] != 1 {
		t.Fatalf("unbalanced document or %d svg elements", counts["svg"])
	}
	return counts, text.String()
}

func TestWriteSVGWellFormed(t *testing.T) {
	rows := append([]bench.Result(nil), chartRows...)
	// Names and machine strings with XML's special characters.
	rows[0].Scenario = `a<b & "c" 'd'>`
	m := chartMachine
	m.CPU = "Intel(R) <Xeon> & co"
	var b bytes.Buffer
	if err := bench.WriteSVG(&b, m, rows); err != nil {
		t.Fatal(err)
	}
	counts, text := svgCounts(t, b.Bytes())
	// Charted rows: 5 (one has no C figures); wall markers are circles,
	// CPU markers diamonds; one more of each in the legend.
	if counts["circle"] != 5+1 {
		t.Errorf("%d circles, want 6 (5 wall markers and the legend's)", counts["circle"])
	}
	if counts["polygon"] != 4+1 {
		t.Errorf("%d diamonds, want 5 (4 CPU markers and the legend's)", counts["polygon"])
	}
	for _, want := range []string{`a<b & "c" 'd'>`, "Intel(R) <Xeon> & co", "blk-write", "goal 1.2×",
		"512 · 2 goroutines", "Go/C throughput ratio (log scale)", "1×", "2.10", "0.81", "1.05"} {
		if !strings.Contains(text, want) {
			t.Errorf("chart text lacks %q", want)
		}
	}
}

func TestWriteSVGNoRatios(t *testing.T) {
	rows := []bench.Result{{Scenario: "persist", Size: 64, Threads: 1, Wall: bench.Rates{GoOps: 1}}}
	if err := bench.WriteSVG(io.Discard, chartMachine, rows); !errors.Is(err, bench.ErrNoRatios) {
		t.Errorf("WriteSVG without C figures: %v, want ErrNoRatios", err)
	}
}
