package pmreorder_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/crashsim/examples"
	"github.com/gopmdk/pmdk/tools/pmreorder"
)

// checking lists the engines that check images.
var checking = []pmreorder.Engine{
	pmreorder.NoReorderDoCheck, pmreorder.ReorderFull, pmreorder.ReorderPartial,
	pmreorder.ReorderAccumulative, pmreorder.ReorderReverseAccumulative,
}

// The sequences of each engine on three stores, as pmreorder's manual
// lists them (ReorderPartial: three distinct subsets in recorded order).
func TestEngineSequences(t *testing.T) {
	want := map[pmreorder.Engine]string{
		pmreorder.NoReorderNoCheck:           "",
		pmreorder.NoReorderDoCheck:           "[0 1 2]",
		pmreorder.ReorderAccumulative:        "[] [0] [0 1] [0 1 2]",
		pmreorder.ReorderReverseAccumulative: "[] [2] [2 1] [2 1 0]",
		pmreorder.ReorderFull: "[] [0] [1] [2] [0 1] [0 2] [1 0] [1 2] [2 0] [2 1] " +
			"[0 1 2] [0 2 1] [1 0 2] [1 2 0] [2 0 1] [2 1 0]",
	}
	for e, w := range want {
		var got []string
		for s := range e.Sequences(3, nil) {
			got = append(got, fmt.Sprint(s))
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%v: %s, want %s", e, strings.Join(got, " "), w)
		}
	}
	subsets := map[string]bool{}
	for s := range pmreorder.ReorderPartial.Sequences(3, rand.New(rand.NewPCG(7, 7))) {
		if !slices.IsSorted(s) || subsets[fmt.Sprint(s)] {
			t.Errorf("ReorderPartial: %v is not a new subset in recorded order", s)
		}
		subsets[fmt.Sprint(s)] = true
	}
	if len(subsets) != 3 {
		t.Errorf("ReorderPartial gave %d subsets of 3 stores, want 3", len(subsets))
	}
}

// Every engine yields as many sequences as Count says, and the counts are
// those the definitions give: n!/(n-k)! summed over k for ReorderFull,
// n+1 prefixes, 3 draws (fewer when there are fewer subsets).
func TestEngineCounts(t *testing.T) {
	fact := func(n int) int {
		f := 1
		for i := 2; i <= n; i++ {
			f *= i
		}
		return f
	}
	for n := range 7 {
		full := 0
		for k := 0; k <= n; k++ {
			full += fact(n) / fact(n-k)
		}
		want := map[pmreorder.Engine]int{
			pmreorder.NoReorderNoCheck:           0,
			pmreorder.NoReorderDoCheck:           1,
			pmreorder.ReorderFull:                full,
			pmreorder.ReorderPartial:             min(3, 1<<n),
			pmreorder.ReorderAccumulative:        n + 1,
			pmreorder.ReorderReverseAccumulative: n + 1,
		}
		for _, e := range pmreorder.Engines {
			got := 0
			seen := map[string]bool{}
			for s := range e.Sequences(n, nil) {
				got++
				seen[fmt.Sprint(s)] = true
			}
			if got != want[e] || e.Count(n) != want[e] || len(seen) != got {
				t.Errorf("%v on %d stores: %d sequences (%d distinct), Count %d, want %d", e, n, got, len(seen), e.Count(n), want[e])
			}
		}
	}
	if c := pmreorder.ReorderFull.Count(30); c <= 1<<62 {
		t.Errorf("ReorderFull.Count(30) = %d: want it saturated", c)
	}
	// 12 stores: at most 1000 of the 924 subsets of 6 are drawn from, and
	// every draw is a valid subset.
	for s := range pmreorder.ReorderPartial.Sequences(12, rand.New(rand.NewPCG(1, 1))) {
		if !slices.IsSorted(s) || len(s) > 12 || (len(s) > 0 && s[len(s)-1] >= 12) {
			t.Errorf("ReorderPartial on 12 stores: bad subset %v", s)
		}
	}
	for _, name := range []string{"ReorderFull", "NoReorderNoCheck"} {
		if e, err := pmreorder.ParseEngine(name); err != nil || e.String() != name {
			t.Errorf("ParseEngine(%s) = %v, %v", name, e, err)
		}
	}
	if _, err := pmreorder.ParseEngine("ReorderSome"); err == nil {
		t.Error("ParseEngine of an unknown name: no error")
	}
}

// replayWorkload records w and replays it with engine e as the default.
func replayWorkload(t *testing.T, w crashsim.Workload, e pmreorder.Engine) pmreorder.Result {
	t.Helper()
	l, err := pmreorder.Record(w)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: e, Check: pmreorder.WorkloadChecker(w)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The crash simulator's example structures: every correct version passes
// every engine; each broken one is caught by the engines whose sequences
// hold the image that shows its bug. A missing flush and a flag persisted
// before its data show in the stores as recorded (NoReorderDoCheck); a
// missing fence needs the flag's store without the data's, first
// (ReorderFull, ReorderReverseAccumulative), which the growing prefixes of
// ReorderAccumulative never give.
func TestExamples(t *testing.T) {
	caught := map[examples.Bug][]pmreorder.Engine{
		examples.Correct:        nil,
		examples.MissingFlush:   checking,
		examples.FlagBeforeData: checking,
		examples.MissingFence:   {pmreorder.ReorderFull, pmreorder.ReorderReverseAccumulative},
	}
	for _, st := range examples.Structures {
		for _, bug := range examples.Bugs {
			for _, e := range checking {
				if bug == examples.MissingFence && e == pmreorder.ReorderPartial {
					continue // caught or not depending on the draw
				}
				t.Run(st.Name+"/"+bug.String()+"/"+e.String(), func(t *testing.T) {
					res := replayWorkload(t, st.Workload(bug), e)
					want := slices.Contains(caught[bug], e)
					if got := res.Inconsistent != nil; got != want {
						t.Fatalf("inconsistent image found: %v, want %v (%d images; %v)", got, want, res.Images, res.Inconsistent)
					}
					if res.Images == 0 {
						t.Fatal("no image checked")
					}
				})
			}
		}
	}
}

// The reordering reported reproduces the inconsistency: the image of the
// stores before its fence, then its sequence, is the image reported and
// the checker rejects it.
func TestInconsistencyReproduces(t *testing.T) {
	w := examples.Record(examples.MissingFence)
	l, err := pmreorder.Record(w)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: pmreorder.ReorderFull, Check: pmreorder.WorkloadChecker(w)})
	if err != nil || res.Inconsistent == nil {
		t.Fatalf("replay: %v, %v", res.Inconsistent, err)
	}
	x := res.Inconsistent
	// Every store before the first pending one was fenced before it.
	img := l.Image()
	for _, o := range l.Ops[:x.Pending[0]] {
		if o.Kind == crashsim.OpStore {
			copy(img[o.Off:], o.Data)
		}
	}
	for i, p := range x.Sequence {
		if l.Ops[p].Off != x.Ops[i].Off {
			t.Fatal("Ops do not match Sequence")
		}
		copy(img[x.Ops[i].Off:], x.Ops[i].Data)
	}
	if string(img) != string(x.Image) {
		t.Fatal("the reported image is not the stores before the fence plus the sequence")
	}
	d, err := crashsim.NewDeviceFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if pmreorder.WorkloadChecker(w)(d.Map()) == nil {
		t.Fatal("the checker accepts the reported image")
	}
	if !strings.Contains(x.String(), "engine ReorderFull") {
		t.Errorf("report %q does not name the engine", x.String())
	}
}

// markedWorkload persists a payload and its flag in one fence (a missing
// fence) inside a region marked BUGGY, and does the same correctly outside
// it.
func markedWorkload() crashsim.Workload {
	return crashsim.Workload{
		Size: 4096,
		Run: func(m *core.Map) error {
			b := m.Bytes()
			crashsim.Mark(m, "BUGGY.BEGIN")
			copy(b[64:], "payload")
			m.Flush(b[64:71])
			b[0] = 1
			m.Persist(b[0:1])
			crashsim.Mark(m, "BUGGY.END")
			copy(b[192:], "payload")
			m.Persist(b[192:199])
			b[128] = 1
			m.Persist(b[128:129])
			return nil
		},
		Check: func(m *core.Map, _ crashsim.Crash) error {
			b := m.Bytes()
			for _, off := range []int{0, 128} {
				if b[off] == 1 && string(b[off+64:off+71]) != "payload" {
					return fmt.Errorf("flag at %d set without its payload", off)
				}
			}
			return nil
		},
	}
}

// A marker's engine rules its region: the bug inside BUGGY is found only
// when BUGGY gets an engine that reorders.
func TestMarkers(t *testing.T) {
	w := markedWorkload()
	l, err := pmreorder.Record(w)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "markers.json")
	if err := os.WriteFile(cfgFile, []byte(`{"BUGGY": "ReorderFull"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		def     pmreorder.Engine
		markers string
		want    bool
	}{
		{pmreorder.ReorderFull, "", true},
		{pmreorder.NoReorderDoCheck, "", false},
		{pmreorder.NoReorderNoCheck, "BUGGY=ReorderFull", true},
		{pmreorder.NoReorderNoCheck, cfgFile, true},
		{pmreorder.ReorderFull, "BUGGY=NoReorderNoCheck", false},
		{pmreorder.ReorderFull, "BUGGY=ReorderAccumulative", false},
	} {
		var markers map[string]pmreorder.Engine
		if tc.markers != "" {
			if markers, err = pmreorder.ParseMarkers(tc.markers); err != nil {
				t.Fatal(err)
			}
		}
		res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: tc.def, Markers: markers, Check: pmreorder.WorkloadChecker(w)})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Inconsistent != nil; got != tc.want {
			t.Errorf("default %v, markers %q: inconsistent %v, want %v", tc.def, tc.markers, got, tc.want)
		}
		if res.Inconsistent != nil && !slices.Equal(res.Inconsistent.Markers, []string{"BUGGY"}) {
			t.Errorf("reported markers %v, want BUGGY", res.Inconsistent.Markers)
		}
	}
	for _, bad := range []string{"BUGGY", "BUGGY=Reorder", "=ReorderFull"} {
		if _, err := pmreorder.ParseMarkers(bad); err == nil {
			t.Errorf("ParseMarkers(%q): no error", bad)
		}
	}
	if err := os.WriteFile(cfgFile, []byte(`["BUGGY"]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pmreorder.ParseMarkers(cfgFile); err == nil {
		t.Error("ParseMarkers of a JSON array: no error")
	}
}

// Markers that do not pair up are errors, as are checkers that fail and
// engines that would check too many images.
func TestReplayErrors(t *testing.T) {
	log := func(markers ...string) *crashsim.StoreLog {
		l := &crashsim.StoreLog{Size: 128}
		for _, m := range markers {
			l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpMarker, Marker: m})
		}
		return l
	}
	ok := func(*core.Map) error { return nil }
	for _, ms := range [][]string{{"A.END"}, {"A.BEGIN", "B.BEGIN", "A.END"}, {"A"}} {
		if _, err := pmreorder.Replay(t.Context(), log(ms...), pmreorder.Config{Check: ok}); err == nil {
			t.Errorf("markers %v: no error", ms)
		}
	}
	l := log("A.BEGIN", "A.END")
	for i := range 10 {
		l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpStore, Off: i * 8, Data: []byte{1}})
	}
	l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpFence})
	if _, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: pmreorder.ReorderFull, Check: ok, MaxSequences: 1000}); !errors.Is(err, pmreorder.ErrTooManySequences) {
		t.Errorf("ReorderFull on 10 stores with a cap of 1000: %v, want ErrTooManySequences", err)
	}
	broken := func(*core.Map) error { return fmt.Errorf("%w: cannot run", pmreorder.ErrChecker) }
	if _, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: pmreorder.NoReorderDoCheck, Check: broken}); !errors.Is(err, pmreorder.ErrChecker) {
		t.Errorf("failing checker: %v, want ErrChecker", err)
	}
	if _, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: pmreorder.NoReorderDoCheck}); err == nil {
		t.Error("no checker: no error")
	}
	res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{})
	if err != nil || res.Images != 0 || res.Stores != 10 || res.Fences != 1 {
		t.Errorf("NoReorderNoCheck: %+v, %v: want no image, 10 stores, 1 fence", res, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := pmreorder.Replay(ctx, l, pmreorder.Config{Check: ok}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// Stores flushed after the last fence are checked as at a fence at the
// end of the log.
func TestStoresAfterLastFence(t *testing.T) {
	l := &crashsim.StoreLog{Size: 128, Ops: []crashsim.Op{
		{Kind: crashsim.OpStore, Off: 64, Data: []byte{1}},
		{Kind: crashsim.OpStore, Off: 0, Data: []byte{1}},
	}}
	check := func(m *core.Map) error {
		if b := m.Bytes(); b[0] == 1 && b[64] != 1 {
			return errors.New("flag without data")
		}
		return nil
	}
	res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: pmreorder.ReorderReverseAccumulative, Check: check})
	if err != nil || res.Inconsistent == nil || res.Inconsistent.Fence != 1 || res.Fences != 0 {
		t.Fatalf("%+v, %v: want an inconsistency at the end of the log (fence 1)", res, err)
	}
}

// On a log whose fences follow 1, 2, 3 and 4 stores, each engine checks
// the images its definition gives at each fence, and no more.
func TestReplayCounts(t *testing.T) {
	l := &crashsim.StoreLog{Size: 4096}
	off := 0
	for _, n := range []int{1, 2, 3, 4} {
		for range n {
			l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpStore, Off: off, Data: []byte{byte(n)}})
			off += 64
		}
		l.Ops = append(l.Ops, crashsim.Op{Kind: crashsim.OpFence})
	}
	want := map[pmreorder.Engine]int{
		pmreorder.NoReorderNoCheck:           0,
		pmreorder.NoReorderDoCheck:           4,
		pmreorder.ReorderFull:                2 + 5 + 16 + 65,
		pmreorder.ReorderPartial:             2 + 3 + 3 + 3,
		pmreorder.ReorderAccumulative:        2 + 3 + 4 + 5,
		pmreorder.ReorderReverseAccumulative: 2 + 3 + 4 + 5,
	}
	for _, e := range pmreorder.Engines {
		seen := 0
		check := func(m *core.Map) error { seen++; return nil }
		res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{Default: e, Check: check})
		if err != nil {
			t.Fatal(err)
		}
		if res.Images != want[e] || seen != want[e] || res.Stores != 10 || res.Fences != 4 {
			t.Errorf("%v: %d images (checker called %d times), %d stores, %d fences: want %d images, 10 stores, 4 fences",
				e, res.Images, seen, res.Stores, res.Fences, want[e])
		}
	}
}
