package crashsim_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/crashsim/examples"
)

// all is every strategy; Exhaustive makes the verdicts independent of luck.
var all = crashsim.Options{Strategies: []crashsim.Strategy{
	crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(7), crashsim.Exhaustive}}

func runRecord(t *testing.T, bug examples.Bug, o crashsim.Options) crashsim.Report {
	t.Helper()
	rep, err := crashsim.Run(examples.Record(bug), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: %v", bug, rep)
	return rep
}

func TestCrashCatchesMissingFlush(t *testing.T) {
	rep := runRecord(t, examples.MissingFlush, crashsim.Options{})
	if len(rep.Failures) == 0 {
		t.Fatal("a record whose payload is never flushed passed")
	}
	if rep.Failures[0].Crash.Strategy != "pessimistic" {
		t.Errorf("first failure %v: want the pessimistic strategy to catch it", rep.Failures[0])
	}
}

func TestCrashCatchesMissingFence(t *testing.T) {
	rep := runRecord(t, examples.MissingFence, all)
	if len(rep.Failures) == 0 {
		t.Fatal("a record whose flag is stored before its payload is fenced passed")
	}
	for _, f := range rep.Failures {
		if f.Crash.Strategy == "pessimistic" || f.Crash.Strategy == "optimistic" {
			t.Errorf("%v: only reordering can expose a missing fence", f)
		}
	}
}

func TestCrashCatchesFlagBeforeData(t *testing.T) {
	rep := runRecord(t, examples.FlagBeforeData, crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
	if len(rep.Failures) == 0 {
		t.Fatal("a record flagged before its payload was written passed")
	}
}

func TestCrashCorrectRecord(t *testing.T) {
	rep := crashsim.Explore(t, examples.Record(examples.Correct), all)
	// 2 fences per record, plus the point after the last fence.
	if rep.Fences != 8 || len(rep.Points) != 9 {
		t.Errorf("fences %d, points %d: want 8 and 9", rep.Fences, len(rep.Points))
	}
}

// Every example structure, every bug: the broken versions must be caught,
// the correct ones must pass, and the uncut run of each must pass.
func TestCrashExamples(t *testing.T) {
	o := all
	o.RecoveryPoints = -1
	for _, st := range examples.Structures {
		for _, bug := range st.Bugs {
			t.Run(st.Name+"/"+bug.String(), func(t *testing.T) {
				w := st.Workload(bug)
				if bug == examples.Correct {
					crashsim.Explore(t, w, o)
					return
				}
				rep, err := crashsim.Run(w, o)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Failures) == 0 {
					t.Fatalf("not caught: %v", rep)
				}
				t.Logf("caught: %v; first: %v", rep, rep.Failures[0])
				// Without a crash every version leaves a valid state.
				uncut, err := crashsim.Run(w, crashsim.Options{Points: []int{rep.Fences + 1}, Strategies: []crashsim.Strategy{crashsim.Optimistic}})
				if err != nil || len(uncut.Failures) != 0 {
					t.Errorf("uncut run fails: %v %v", err, uncut.Failures)
				}
			})
		}
	}
}

// A recovery that retires its log before restoring the data passes every
// crash of the workload; only a crash during the recovery shows the bug.
func TestCrashCatchesBadRecovery(t *testing.T) {
	w := examples.Undo(examples.BadRecovery)
	rep, err := crashsim.Run(w, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 0 {
		t.Fatalf("without recovery crashes: %v", rep.Failures[0])
	}
	o := all
	o.RecoveryPoints = -1
	rep, err = crashsim.Run(w, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("a recovery that is not crash-safe passed: %v", rep)
	}
	f := rep.Failures[0]
	if f.Crash.RecoveryPoint == 0 {
		t.Errorf("first failure %v: want one in the recovery", f)
	}
	t.Log(f)
}

func TestCrashCorrectUndoWithRecoveryCrashes(t *testing.T) {
	o := all
	o.RecoveryPoints = -1
	rep := crashsim.Explore(t, examples.Undo(examples.Correct), o)
	if rep.Images <= 3*(rep.Fences+1) {
		t.Errorf("%v: recovery crashes were not explored", rep)
	}
}

func TestCrashReproducible(t *testing.T) {
	o := crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Random(3), crashsim.Exhaustive}}
	a := runRecord(t, examples.MissingFence, o)
	if len(a.Failures) == 0 {
		t.Fatal("no failure to reproduce")
	}
	for _, f := range a.Failures[:min(5, len(a.Failures))] {
		o := crashsim.Options{Points: []int{f.Crash.Point}, Strategies: []crashsim.Strategy{crashsim.Random(3), crashsim.Exhaustive}}
		b := runRecord(t, examples.MissingFence, o)
		found := false
		for _, g := range b.Failures {
			if g.Crash == f.Crash && g.Err.Error() == f.Err.Error() {
				found = true
			}
		}
		if !found {
			t.Errorf("%v did not reproduce", f)
		}
	}
}

func TestDeviceFenceMakesFlushedDurable(t *testing.T) {
	d, err := crashsim.NewDevice(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m := d.Map()
	b := m.Bytes()
	copy(b[0:], "flushed")
	copy(b[128:], "stored")
	m.Flush(b[0:8])
	if got := d.Durable(); got[0] != 0 {
		t.Fatal("flush alone made data durable")
	}
	copy(b[0:], "FLUSHED") // after the flush: not part of the snapshot
	m.Drain()
	dur := d.Durable()
	if string(dur[0:7]) != "flushed" || dur[128] != 0 {
		t.Fatalf("durable after fence: %q / %q", dur[0:7], dur[128:134])
	}
	if d.Fences() != 1 {
		t.Fatalf("fences %d", d.Fences())
	}
	if img := d.CrashImage(crashsim.Pessimistic); !bytes.Equal(img, dur) {
		t.Error("pessimistic image differs from the durable one")
	}
	opt := d.CrashImage(crashsim.Optimistic)
	if string(opt[0:7]) != "FLUSHED" || string(opt[128:134]) != "stored" {
		t.Errorf("optimistic image: %q / %q", opt[0:7], opt[128:134])
	}
	if d.Uncertain() != 2 {
		t.Errorf("uncertain lines %d, want 2", d.Uncertain())
	}
}

func TestDeviceMemFlags(t *testing.T) {
	d, err := crashsim.NewDevice(1024)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m := d.Map()
	b := m.Bytes()
	m.Memcpy(b[0:300], bytes.Repeat([]byte{1}, 300), 0)
	m.Memset(b[512:600], 2, core.MemNoDrain)
	m.Memset(b[640:700], 3, core.MemNoFlush)
	if d.Fences() != 2 { // the NoFlush memset still fences
		t.Fatalf("fences %d, want 2", d.Fences())
	}
	m.Drain()
	dur := d.Durable()
	if dur[299] != 1 || dur[512] != 2 || dur[599] != 2 || dur[640] != 0 {
		t.Fatalf("durable: %d %d %d %d", dur[299], dur[512], dur[599], dur[640])
	}
}

func TestCrashImageWordAtomicity(t *testing.T) {
	d, err := crashsim.NewDevice(64)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m := d.Map()
	for i := range 8 {
		binary.LittleEndian.PutUint64(m.Bytes()[i*8:], 0x0101010101010101*uint64(i+1))
	}
	m.Flush(m.Bytes())
	d.Crash()
	seen := map[string]bool{}
	for _, img := range d.CrashImages(crashsim.Exhaustive, 0) {
		for i := range 8 {
			w := binary.LittleEndian.Uint64(img[i*8:])
			if w != 0 && w != 0x0101010101010101*uint64(i+1) {
				t.Fatalf("torn word %d: %#x", i, w)
			}
		}
		seen[string(img)] = true
	}
	if len(seen) != 256 {
		t.Errorf("exhaustive gave %d distinct images of 8 uncertain words, want 256", len(seen))
	}
	// Random images stay within the same choices and depend on the seed.
	a, b := d.CrashImage(crashsim.Random(1)), d.CrashImage(crashsim.Random(1))
	if !bytes.Equal(a, b) {
		t.Error("same seed, different images")
	}
}

func TestCrashAtPanicsAndFreezes(t *testing.T) {
	d, err := crashsim.NewDevice(256)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.CrashAt(2)
	m := d.Map()
	m.Persist(m.Bytes()[:8])
	func() {
		defer func() {
			if v := recover(); !crashsim.IsCrash(v) {
				t.Fatalf("recovered %v, want ErrCrash", v)
			}
		}()
		m.Persist(m.Bytes()[64:72])
		t.Fatal("fence 2 did not crash")
	}()
	func() {
		defer func() {
			v := recover()
			if err, _ := v.(error); !errors.Is(err, crashsim.ErrCrash) {
				t.Fatalf("persist after crash: %v", v)
			}
		}()
		m.Persist(m.Bytes()[:8])
	}()
}

func TestCrashCheckPanicIsFailure(t *testing.T) {
	w := examples.Record(examples.Correct)
	calls := 0
	w.Check = func(m *core.Map, c crashsim.Crash) error {
		calls++
		if c.Point == 3 {
			panic("check bug")
		}
		return nil
	}
	rep, err := crashsim.Run(w, crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].Crash.Point != 3 {
		t.Fatalf("failures %v, want one at point 3", rep.Failures)
	}
	if calls != rep.Images {
		t.Errorf("%d checks, report says %d", calls, rep.Images)
	}
}

func TestCrashSampledPoints(t *testing.T) {
	rep, err := crashsim.Run(examples.Record(examples.Correct), crashsim.Options{MaxPoints: 4, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Points) != 4 || rep.Points[3] != rep.Fences+1 {
		t.Fatalf("points %v of %d fences", rep.Points, rep.Fences)
	}
	again, _ := crashsim.Run(examples.Record(examples.Correct), crashsim.Options{MaxPoints: 4, Seed: 5})
	if !equalInts(rep.Points, again.Points) {
		t.Errorf("same seed, points %v then %v", rep.Points, again.Points)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Concurrent persists from several goroutines, and a crash among them.
func TestDeviceConcurrent(t *testing.T) {
	d, err := crashsim.NewDevice(64 * 64)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m := d.Map()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 16 {
				line := m.Bytes()[(g*16+i)*64 : (g*16+i)*64+64]
				m.Memset(line, byte(g+1), 0)
			}
		})
	}
	wg.Wait()
	if d.Fences() != 64 {
		t.Fatalf("fences %d", d.Fences())
	}
	dur := d.Durable()
	for g := range 4 {
		if dur[g*16*64] != byte(g+1) {
			t.Errorf("goroutine %d's stores not durable", g)
		}
	}
}

// A workload that swallows the crash panic and goes on persisting is still
// cut off: nothing after the crash becomes durable, and nothing deadlocks.
func TestCrashWorkloadSwallowsPanic(t *testing.T) {
	swallow := func(fn func()) {
		defer func() { _ = recover() }()
		fn()
	}
	w := crashsim.Workload{
		Size: 4096,
		Run: func(m *core.Map) error {
			b := m.Bytes()
			for i := range 4 {
				b[i*64] = 1
				swallow(func() { m.Persist(b[i*64 : i*64+1]) })
				swallow(func() { m.Drain() })
				swallow(func() { m.Memset(b[i*64+8:i*64+16], 1, 0) })
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			// Step i persists byte i*64 at fence 3i+1 and sets i*64+8 at
			// fence 3i+3: durable exactly when that fence completed, i.e.
			// came before the crash point.
			b := m.Bytes()
			for i := range 4 {
				if got, want := b[i*64] == 1, 3*i+1 < c.Point; got != want {
					return fmt.Errorf("step %d: persisted byte durable %v, want %v", i, got, want)
				}
				if got, want := b[i*64+8] == 1, 3*i+3 < c.Point; got != want {
					return fmt.Errorf("step %d: memset byte durable %v, want %v", i, got, want)
				}
			}
			return nil
		},
	}
	rep, err := crashsim.Run(w, crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 0 {
		t.Fatal(rep.Failures[0])
	}
	if rep.Fences != 12 {
		t.Errorf("fences %d, want 12", rep.Fences)
	}
}

// Libraries close their Map on Close; the driver's devices stay usable.
func TestCrashWorkloadClosesMap(t *testing.T) {
	w := examples.Record(examples.Correct)
	setup, run, check := w.Setup, w.Run, w.Check
	w.Setup = func(m *core.Map) error {
		if setup != nil {
			if err := setup(m); err != nil {
				return err
			}
		}
		return m.Close()
	}
	w.Run = func(m *core.Map) error {
		if err := run(m); err != nil {
			return err
		}
		return m.Close()
	}
	w.Check = func(m *core.Map, c crashsim.Crash) error {
		if err := check(m, c); err != nil {
			return err
		}
		return m.Close()
	}
	rep := crashsim.Explore(t, w, crashsim.Options{})
	if rep.Images == 0 {
		t.Fatal("nothing checked")
	}
}

// Goroutines of a workload persist concurrently; the crash cuts them all
// off (each recovers the crash panic, as the package docs ask) and every
// goroutine's records stay consistent.
func TestCrashConcurrentWorkload(t *testing.T) {
	const workers, records = 4, 6
	slot := func(b []byte, g, i int) (flag, data []byte) {
		off := (g*records + i) * 192
		return b[off : off+8], b[off+64 : off+192]
	}
	w := crashsim.Workload{
		Size: workers * records * 192,
		Run: func(m *core.Map) error {
			var wg sync.WaitGroup
			for g := range workers {
				wg.Go(func() {
					defer func() {
						if v := recover(); v != nil && !crashsim.IsCrash(v) {
							panic(v)
						}
					}()
					for i := range records {
						flag, data := slot(m.Bytes(), g, i)
						m.Memset(data, byte(g*records+i+1), 0)
						binary.LittleEndian.PutUint64(flag, 1)
						m.Persist(flag)
					}
				})
			}
			wg.Wait()
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			for g := range workers {
				for i := range records {
					flag, data := slot(m.Bytes(), g, i)
					if binary.LittleEndian.Uint64(flag) == 1 && !bytes.Equal(data, bytes.Repeat([]byte{byte(g*records + i + 1)}, len(data))) {
						return fmt.Errorf("worker %d record %d flagged without its data", g, i)
					}
				}
			}
			return nil
		},
	}
	rep := crashsim.Explore(t, w, crashsim.Options{MaxPoints: 16})
	if rep.Fences != 2*workers*records {
		t.Errorf("fences %d, want %d", rep.Fences, 2*workers*records)
	}
}

func TestCrashAcknowledged(t *testing.T) {
	acked := []int{2, 4, 4, 7} // fence counts as each of four steps returned
	for _, tc := range []struct {
		point, fences, want int
	}{
		{1, 7, 0}, {2, 7, 0}, {3, 7, 1}, {4, 7, 1}, {5, 7, 3}, {7, 7, 3}, {8, 7, 4},
	} {
		c := crashsim.Crash{Point: tc.point, Fences: tc.fences}
		if got := c.Acknowledged(acked); got != tc.want {
			t.Errorf("%v: Acknowledged = %d, want %d", c, got, tc.want)
		}
	}
	if got := (crashsim.Crash{Point: 1, Fences: 0}).Acknowledged(make([]int, 3)); got != 3 {
		t.Errorf("uncut run (no fences recorded): Acknowledged = %d, want 3", got)
	}
}
