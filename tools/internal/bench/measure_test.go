package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMeasureContention: two workers that serialise on a lock whose holder
// sleeps. The threads spend nearly all the elapsed time parked, so the CPU
// clock, which does not count parked time, gives a far higher rate than
// the wall clock, and the busy fraction is low. The margins are wide: the
// true factor is in the hundreds, since a sleep costs microseconds of CPU
// and holds the lock for a millisecond.
func TestMeasureContention(t *testing.T) {
	if _, ok := threadCPU(); !ok {
		t.Skip("no thread CPU clock here")
	}
	var mu sync.Mutex
	w := func(first, n uint64) (uint64, error) {
		for range n {
			mu.Lock()
			time.Sleep(time.Millisecond)
			mu.Unlock()
		}
		return n, nil
	}
	// A loaded machine can keep a woken worker waiting for a CPU long
	// enough to blur the clocks: the property must hold in one of a few
	// samples, not in each.
	var problems []string
	for range 5 {
		s, err := measure(t.Context(), []worker{w, w}, make([]uint64, 2), 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if s.ops == 0 || s.cpu == 0 {
			t.Fatalf("sample %+v: no operations or no CPU time", s)
		}
		problems = problems[:0]
		if s.cpuRate() < 4*s.wallRate() || s.busy() > 0.25 {
			problems = append(problems, fmt.Sprintf("contended workers: cpu rate %.0f/s, wall rate %.0f/s, busy %.2f: "+
				"the CPU clock should count far less time than the wall clock", s.cpuRate(), s.wallRate(), s.busy()))
		}
		// Parked is what is left of the wall time without CPU time and
		// runqueue time: nearly all of it here.
		if !s.noRunq() && s.parked() < 0.5 {
			problems = append(problems, fmt.Sprintf("contended workers: parked %.2f of the time (busy %.2f, runqueue %.3fs of %.3fs), want most of it",
				s.parked(), s.busy(), s.runq, s.wall))
		}
		if len(problems) == 0 {
			return
		}
	}
	t.Error(strings.Join(problems, "\n"))
}

var spinSink atomic.Uint64

// TestMeasureSpinning: workers that never block are never parked, however
// loaded the machine is: they are either on a CPU or waiting for one.
func TestMeasureSpinning(t *testing.T) {
	if _, ok := threadRunqueue(); !ok {
		t.Skip("no runqueue time here")
	}
	w := func(first, n uint64) (uint64, error) {
		x := first
		for range n * 1000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		spinSink.Store(x)
		return n, nil
	}
	s, err := measure(t.Context(), []worker{w, w}, make([]uint64, 2), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if s.noRunq() || s.parked() > 0.5 {
		t.Errorf("spinning workers: parked %.2f of the time (busy %.2f, runqueue %.3fs of %.3fs), want little",
			s.parked(), s.busy(), s.runq, s.wall)
	}
}

// TestResultFill checks the reduction of samples to a row on fixed input.
func TestResultFill(t *testing.T) {
	// Go: 100, 300, 200 ops per wall second; CPU time half the wall time
	// (busy 0.5), a quarter waiting for a CPU (parked 0.25). C: 100, 100,
	// 400 per wall second, never waiting.
	goS := []sample{{ops: 100, wall: 1, cpu: 0.5, runq: 0.25}, {ops: 300, wall: 1, cpu: 0.5, runq: 0.25}, {ops: 200, wall: 1, cpu: 0.5, runq: 0.25}}
	cS := []sample{{ops: 100, wall: 1, cpu: 1}, {ops: 100, wall: 1, cpu: 1}, {ops: 400, wall: 1, cpu: 1}}
	r := Result{Size: 1000, Threads: 2}
	r.fill(goS, cS, nil, nil)

	w := r.Wall
	if w.GoOps != 200 || *w.COps != 100 || *w.Ratio != 2 {
		t.Errorf("wall medians: Go %v, C %v, ratio %v; want 200, 100, 2", w.GoOps, *w.COps, *w.Ratio)
	}
	if want := []float64{1, 3, 0.5}; !slices.Equal(w.Ratios, want) {
		t.Errorf("wall per-repetition ratios %v, want %v", w.Ratios, want)
	}
	if *w.PairRatio != 1 || *w.RatioMin != 0.5 || *w.RatioMax != 3 || *w.BestRatio != 0.75 {
		t.Errorf("wall pair %v, min %v, max %v, best %v; want 1, 0.5, 3, 0.75", *w.PairRatio, *w.RatioMin, *w.RatioMax, *w.BestRatio)
	}
	if w.GoNsPerOp != 1e7 || math.Abs(w.GoMBps-0.2) > 1e-12 || w.GoSpread != 100 {
		t.Errorf("wall Go ns/op %v, MB/s %v, spread %v; want 1e7, 0.2, 100", w.GoNsPerOp, w.GoMBps, w.GoSpread)
	}
	if r.CPU == nil {
		t.Fatal("no CPU figures")
	}
	if c := r.CPU; c.GoOps != 400 || *c.COps != 100 || *c.PairRatio != 2 || *c.RatioMax != 6 {
		t.Errorf("cpu: Go %v, C %v, pair %v, max %v; want 400, 100, 2, 6", c.GoOps, *c.COps, *c.PairRatio, *c.RatioMax)
	}
	if r.GoBusy != 0.5 || *r.CBusy != 1 {
		t.Errorf("busy: Go %v, C %v; want 0.5, 1", r.GoBusy, *r.CBusy)
	}
	if r.GoParked == nil || *r.GoParked != 0.25 || *r.CParked != 0 {
		t.Errorf("parked: Go %v, C %v; want 0.25, 0", r.GoParked, r.CParked)
	}

	// A side without runqueue time: no parked figures.
	cS[2].runq = -1
	r = Result{Size: 1000, Threads: 1}
	r.fill(goS, cS, nil, nil)
	if r.GoParked != nil || r.CParked != nil || r.CBusy == nil {
		t.Errorf("without runqueue time: parked %v, %v; busy %v", r.GoParked, r.CParked, r.CBusy)
	}

	// A side without a CPU clock: wall figures only.
	goS[1].cpu = 0
	r = Result{Size: 1000, Threads: 1}
	r.fill(goS, cS, nil, nil)
	if r.CPU != nil || r.CBusy != nil || r.Wall.PairRatio == nil {
		t.Errorf("without a CPU clock: CPU %v, CBusy %v, wall pair %v", r.CPU, r.CBusy, r.Wall.PairRatio)
	}
}
