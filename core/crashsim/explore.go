package crashsim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal"
)

// Workload is a piece of code under crash test and the check of what it
// leaves behind.
type Workload struct {
	// Size of the device in bytes.
	Size int
	// Setup, if not nil, prepares the device (creates a pool, say). It has
	// no crash points: what it leaves is fully durable when it returns.
	Setup func(m *core.Map) error
	// Run is the code under test. Its fences are the crash points; it must
	// issue the same fences on every run.
	Run func(m *core.Map) error
	// Check gets a device holding one post-crash image: it reopens
	// (recovers) what Run left and returns an error if an invariant does
	// not hold. It may write to m; m is valid until Check returns.
	//
	// Setup, Run, Recover and Check may Close their m (a library's Close
	// may do so): the memory stays mapped until Run is done with it.
	Check func(m *core.Map, c Crash) error
	// Recover, if not nil, runs on each post-crash image before Check: the
	// library's open and repair, which may itself be cut off by a crash
	// (Options.RecoveryPoints). It must leave the image as the library
	// would after a clean open, so that Check may follow it.
	Recover func(m *core.Map) error
}

// Crash names one post-crash image: the crash point and the strategy that
// chose the surviving words. Exploring the same workload with [Options]
// Points: []int{Point} and the strategy reproduces it.
type Crash struct {
	Point    int    // 1-based fence at which Run was cut off; Fences+1: after Run returned
	Fences   int    // fences Run issues when it is not cut off
	Strategy string // "pessimistic", "optimistic", "random" or "exhaustive"
	Seed     int64  // seed of random, image index of exhaustive
	// RecoveryPoint, if > 0, is the fence of Recover at which a second
	// crash cut the recovery of this image off; Check then saw the image
	// that crash left (chosen by the same strategy) after a new Recover.
	RecoveryPoint int
}

// Acknowledged returns how many steps of a workload had returned before
// the crash, given the fence count recorded as each returned (acked[i],
// from Device.Fences; zero off the simulator, where Run is not cut off):
// all of them after Run, else those whose fences all came before Point.
func (c Crash) Acknowledged(acked []int) int {
	done := 0
	for done < len(acked) && (c.Point > c.Fences || acked[done] < c.Point) {
		done++
	}
	return done
}

func (c Crash) String() string {
	where := fmt.Sprintf("crash at fence %d of %d", c.Point, c.Fences)
	if c.Point > c.Fences {
		where = fmt.Sprintf("crash after the last of %d fences", c.Fences)
	}
	strat := "crashsim." + strings.ToUpper(c.Strategy[:1]) + c.Strategy[1:]
	switch c.Strategy {
	case "random":
		strat = fmt.Sprintf("crashsim.Random(%d)", c.Seed)
	case "exhaustive":
		where += fmt.Sprintf(", image %d", c.Seed)
	}
	if c.RecoveryPoint > 0 {
		where += fmt.Sprintf(", then a crash at fence %d of its recovery", c.RecoveryPoint)
		return fmt.Sprintf("%s, %s (reproduce: crashsim.Options{Points: []int{%d}, Strategies: []crashsim.Strategy{%s}, RecoveryPoints: -1})",
			where, c.Strategy, c.Point, strat)
	}
	return fmt.Sprintf("%s, %s (reproduce: crashsim.Options{Points: []int{%d}, Strategies: []crashsim.Strategy{%s}})",
		where, c.Strategy, c.Point, strat)
}

// Options tune [Run] and [Explore]. The zero value explores every crash
// point with Pessimistic, Optimistic and Random(1).
type Options struct {
	// MaxPoints, if > 0, caps the crash points explored: when the workload
	// has more, a sample seeded by Seed is taken (the last point, after Run
	// returned, is always in it).
	MaxPoints int
	// Strategies applied at each crash point; empty means Pessimistic,
	// Optimistic and Random(Seed).
	Strategies []Strategy
	// Seed of the point sample and of the default Random strategy; 0 means 1.
	Seed int64
	// Points, if not nil, are the only crash points explored (to reproduce
	// a failure); MaxPoints is then ignored.
	Points []int
	// ExhaustiveLimit caps the images of Exhaustive per crash point; 0 means
	// DefaultExhaustiveLimit.
	ExhaustiveLimit int
	// Kernels, if not nil, perform the devices' memmove/memset stores.
	Kernels *hal.Kernels
	// KeepImages is how many failing post-crash images the Report keeps
	// (0 means 3; negative: none).
	KeepImages int
	// RecoveryPoints, for a workload with Recover, is how many crash points
	// of each image's recovery are explored too (a seeded sample): 0 none,
	// -1 all of them.
	RecoveryPoints int
}

// Report is what [Run] found.
type Report struct {
	Fences   int   // fences of Run when not cut off
	Points   []int // crash points explored, ascending
	Images   int   // post-crash images checked
	Failures []Failure
	// MaxUncertain is the most cache lines a crash left uncertain.
	MaxUncertain int
	// Sampled counts the crash points where Exhaustive had more
	// combinations than its limit and checked a seeded sample.
	Sampled int
}

// Failure is one post-crash image whose Check failed, or one crash point at
// which the workload misbehaved (panicked, or returned an error it did not
// return uncut).
type Failure struct {
	Crash Crash
	Err   error
	// Image is the post-crash image, kept for the first few failures
	// (Options.KeepImages), else nil.
	Image []byte
}

func (f Failure) String() string { return f.Crash.String() + ": " + f.Err.Error() }

// Err returns nil when there is no failure, else an error naming the first
// one and how many there are.
func (r Report) Err() error {
	if len(r.Failures) == 0 {
		return nil
	}
	return fmt.Errorf("crashsim: %d failures; first: %v", len(r.Failures), r.Failures[0])
}

func (r Report) String() string {
	s := fmt.Sprintf("%d fences, %d crash points explored, %d post-crash images checked, %d failures",
		r.Fences, len(r.Points), r.Images, len(r.Failures))
	if r.Sampled > 0 {
		s += fmt.Sprintf(" (exhaustive sampled at %d points, up to %d uncertain lines)", r.Sampled, r.MaxUncertain)
	}
	return s
}

// Run explores w: it runs it once uncut to count its fences F, then for each
// crash point p in 1..F+1 (or the sample Options ask for) runs it again on
// a fresh device cut off at fence p (p = F+1: crashed after Run returned),
// and checks every post-crash image the strategies give, each on a fresh
// device. The error is for a workload that cannot be explored at all (bad
// Size, Setup failing, Run failing uncut); crash-consistency failures are
// in the Report.
func Run(w Workload, o Options) (Report, error) {
	var rep Report
	if w.Run == nil || w.Check == nil {
		return rep, errors.New("crashsim: workload needs Run and Check")
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if len(o.Strategies) == 0 {
		o.Strategies = []Strategy{Pessimistic, Optimistic, Random(o.Seed)}
	}
	if o.KeepImages == 0 {
		o.KeepImages = 3
	}
	// The uncut run: counts the fences and is the last crash point.
	last, err := prepare(w, o)
	if err != nil {
		return rep, err
	}
	defer last.Close()
	if err := execute(last, w.Run); err != nil {
		return rep, fmt.Errorf("crashsim: run without crash: %w", err)
	}
	rep.Fences = last.Fences()
	last.Crash()
	rep.Points = choosePoints(rep.Fences+1, o)

	ck := &checker{rep: &rep, w: w, o: o, size: w.Size, limit: o.ExhaustiveLimit}
	if ck.limit <= 0 {
		ck.limit = DefaultExhaustiveLimit
	}
	ck.limit = min(ck.limit, math.MaxInt-1)
	defer ck.close()
	for _, p := range rep.Points {
		d := last
		if p <= rep.Fences {
			if d, err = prepare(w, o); err != nil {
				return rep, err
			}
			d.CrashAt(p)
			err := execute(d, w.Run)
			if !d.Crashed() {
				// Fewer fences than the uncut run: check where it stopped.
				d.Crash()
				if err == nil {
					err = fmt.Errorf("run ended after %d fences, the uncut run issued %d", d.Fences(), rep.Fences)
				}
			}
			if err != nil {
				rep.Failures = append(rep.Failures, Failure{
					Crash: Crash{Point: p, Fences: rep.Fences, Strategy: o.Strategies[0].Name(), Seed: o.Strategies[0].Seed()},
					Err:   fmt.Errorf("workload: %w", err)})
			}
		}
		ck.point(d, p)
		if d != last {
			d.Close()
		}
	}
	return rep, nil
}

// prepare returns a fresh device after Setup, settled.
func prepare(w Workload, o Options) (*Device, error) {
	d, err := NewDeviceConfig(DeviceConfig{Size: w.Size, Kernels: o.Kernels, KeepOnClose: true})
	if err != nil {
		return nil, err
	}
	if w.Setup != nil {
		if err := execute(d, w.Setup); err != nil {
			d.Close()
			return nil, fmt.Errorf("crashsim: setup: %w", err)
		}
	}
	d.Settle()
	d.renewMap()
	return d, nil
}

// execute runs fn on d's map, turning a panic other than the device's
// crash into an error. A crash returns nil: the device knows it crashed.
func execute(d *Device, fn func(*core.Map) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if IsCrash(v) && d.Crashed() {
				err = nil
				return
			}
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	err = fn(d.Map())
	if d.Crashed() {
		return nil
	}
	return err
}

// checker checks the post-crash images of one Run. Its two scratch
// devices are reused from image to image (one mapping each, not one per
// image): 0 holds the image of the workload's crash, 1 the image a crash
// during the recovery of that one left.
type checker struct {
	rep     *Report
	w       Workload
	o       Options
	size    int
	limit   int
	scratch [2]*Device
}

func (ck *checker) close() {
	for _, d := range ck.scratch {
		if d != nil {
			d.Close()
		}
	}
}

// load makes scratch device i hold the image of cs that s and variant
// choose.
func (ck *checker) load(i int, cs *crashState, s Strategy, variant int64) (*Device, error) {
	if d := ck.scratch[i]; d != nil {
		if d.loadCrash(cs, s, variant, ck.limit) {
			return d, nil
		}
		d.Close() // closed by a Check, or the wrong size
		ck.scratch[i] = nil
	}
	d, err := NewDeviceConfig(DeviceConfig{Size: ck.size, Kernels: ck.o.Kernels, KeepOnClose: true})
	if err != nil {
		return nil, err
	}
	ck.scratch[i] = d
	if !d.loadCrash(cs, s, variant, ck.limit) {
		return nil, errors.New("crashsim: cannot load a post-crash image")
	}
	return d, nil
}

func (ck *checker) fail(c Crash, err error, image func() []byte) {
	f := Failure{Crash: c, Err: err}
	if ck.o.KeepImages > 0 {
		f.Image = image() // deterministic: the image Check saw
		ck.o.KeepImages--
	}
	ck.rep.Failures = append(ck.rep.Failures, f)
}

// point checks every image the strategies give for the crashed d.
func (ck *checker) point(d *Device, p int) {
	cs := d.state()
	ck.rep.MaxUncertain = max(ck.rep.MaxUncertain, len(cs.lines))
	for _, s := range ck.o.Strategies {
		n := 1
		if s.kind == kindExhaustive {
			n = cs.combinations(ck.limit)
			if n > ck.limit {
				n = ck.limit
				ck.rep.Sampled++
			}
		}
		for k := range int64(n) {
			c := Crash{Point: p, Fences: ck.rep.Fences, Strategy: s.Name(), Seed: s.Seed()}
			if s.kind == kindExhaustive {
				c.Seed = k
			}
			ck.rep.Images++
			dev, err := ck.load(0, cs, s, k)
			if err == nil {
				err = ck.recoverAndCheck(dev, c)
			}
			if err != nil {
				ck.fail(c, err, func() []byte { return cs.image(ck.size, s, k, ck.limit) })
			}
			if ck.o.RecoveryPoints != 0 && ck.w.Recover != nil {
				ck.recoveryCrashes(cs, s, k, c)
			}
		}
		if len(cs.lines) == 0 {
			return // every strategy gives the same image
		}
	}
}

// recoverAndCheck runs Recover, if any, then Check on d, turning a panic
// into an error.
func (ck *checker) recoverAndCheck(d *Device, c Crash) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("check panicked: %v\n%s", v, debug.Stack())
		}
	}()
	m := d.Map()
	if ck.w.Recover != nil {
		if err := ck.w.Recover(m); err != nil {
			return fmt.Errorf("recover: %w", err)
		}
	}
	return ck.w.Check(m, c)
}

// recoveryCrashes cuts the recovery of one image off at each of its fences
// (or a sample), and checks what that second crash leaves.
func (ck *checker) recoveryCrashes(cs *crashState, s Strategy, variant int64, c Crash) {
	d, err := ck.load(0, cs, s, variant)
	if err != nil || execute(d, ck.w.Recover) != nil {
		return // the uncut recovery failed: reported by the image's check
	}
	o := ck.o
	o.Points = nil
	o.MaxPoints = max(ck.o.RecoveryPoints, 0)
	o.Seed += int64(c.Point)*7919 + variant
	inner := s
	if s.kind == kindExhaustive {
		inner = Random(variant)
	}
	for _, q := range choosePoints(d.Fences(), o) {
		d, err := ck.load(0, cs, s, variant)
		if err != nil {
			return
		}
		d.CrashAt(q)
		if execute(d, ck.w.Recover) != nil || !d.Crashed() {
			continue // a recovery that is not deterministic: not this check's business
		}
		cs2, ok := d.stateIfOpen()
		if !ok {
			continue // the recovery closed its map
		}
		c2 := c
		c2.RecoveryPoint = q
		ck.rep.Images++
		d2, err := ck.load(1, cs2, inner, 0)
		if err == nil {
			err = ck.recoverAndCheck(d2, c2)
		}
		if err != nil {
			ck.fail(c2, err, func() []byte { return cs2.image(ck.size, inner, 0, ck.limit) })
		}
	}
}

// choosePoints returns the crash points 1..n to explore.
func choosePoints(n int, o Options) []int {
	if o.Points != nil {
		var ps []int
		for _, p := range o.Points {
			if p >= 1 && p <= n {
				ps = append(ps, p)
			}
		}
		slices.Sort(ps)
		return slices.Compact(ps)
	}
	if o.MaxPoints <= 0 || n <= o.MaxPoints {
		ps := make([]int, n)
		for i := range ps {
			ps[i] = i + 1
		}
		return ps
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x63726173))
	ps := []int{n}
	for _, i := range rng.Perm(n - 1)[:o.MaxPoints-1] {
		ps = append(ps, i+1)
	}
	slices.Sort(ps)
	return ps
}

// Explore runs [Run] as part of test t: one t.Errorf per failure (the
// first ten; the images of the first few are saved under t.ArtifactDir,
// run go test with -artifacts to keep them, and load one back with
// [NewDeviceFromImage]), and a summary with t.Logf. It returns the
// report.
func Explore(t testing.TB, w Workload, o Options) Report {
	t.Helper()
	rep, err := Run(w, o)
	if err != nil {
		t.Errorf("%v", err)
		return rep
	}
	for i, f := range rep.Failures {
		if i == 10 {
			t.Errorf("... and %d more failures", len(rep.Failures)-i)
			break
		}
		msg := f.String()
		if f.Image != nil {
			name := fmt.Sprintf("crash-%d-%s-%d.img", f.Crash.Point, f.Crash.Strategy, f.Crash.Seed)
			path := filepath.Join(t.ArtifactDir(), name)
			if err := os.WriteFile(path, f.Image, 0o644); err == nil {
				msg += "\n\tpost-crash image: " + path
			}
		}
		t.Errorf("%s", msg)
	}
	t.Logf("crashsim: %v", rep)
	return rep
}
