package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

// Reporter receives the machine description once, then each row as soon as
// it is measured.
type Reporter interface {
	Machine(Machine) error
	Row(Result) error
}

// Run runs the scenarios cfg selects and reports them to rep. It sets
// PMEM_IS_PMEM_FORCE for the mode (1 or 0) while it runs, as C PMDK reads
// it, and restores it after. A Run pattern that selects no scenario is an
// error. When ctx is done (the command's SIGINT or SIGTERM) it stops
// within a batch of operations and returns ctx's error, having removed its
// pool directory as on every other return.
func Run(ctx context.Context, cfg Config, rep Reporter) error {
	c := cfg.withDefaults()
	if c.Run != nil && !slices.ContainsFunc(scenarios, func(sc scenario) bool { return c.Run.MatchString(sc.name) }) {
		return fmt.Errorf("bench: -run %q matches no scenario (see -list)", c.Run)
	}
	restore, err := setForce(c.Mode)
	if err != nil {
		return err
	}
	defer restore()
	root := c.Dir
	if root == "" {
		root = defaultDir()
	}
	dir, err := os.MkdirTemp(root, "pmembench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	peer := cpeer.Available() && !c.NoPeer
	mach, err := describe(dir, c.Mode, peer)
	if err != nil {
		return err
	}
	mach.Reps, mach.Duration = c.Reps, c.Duration.String()
	if err := rep.Machine(mach); err != nil {
		return err
	}
	for _, sc := range scenarios {
		if c.Run != nil && !c.Run.MatchString(sc.name) {
			continue
		}
		sizes := sc.sizes
		if len(c.Sizes) > 0 {
			sizes = c.Sizes
		}
		for _, size := range sizes {
			if size < sc.minSize {
				continue
			}
			for _, threads := range c.Threads {
				res, err := runRow(ctx, sc, c, dir, size, threads, peer)
				if err != nil {
					return fmt.Errorf("%s size %d threads %d: %w", sc.name, size, threads, err)
				}
				if err := rep.Row(res); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func setForce(m Mode) (restore func(), err error) {
	old, had := os.LookupEnv("PMEM_IS_PMEM_FORCE")
	v := "0"
	switch m {
	case ModeForcedPmem:
		v = "1"
	case ModePageCache:
	default:
		return nil, fmt.Errorf("bench: unknown mode %q", m)
	}
	if err := os.Setenv("PMEM_IS_PMEM_FORCE", v); err != nil {
		return nil, err
	}
	return func() {
		if had {
			os.Setenv("PMEM_IS_PMEM_FORCE", old)
		} else {
			os.Unsetenv("PMEM_IS_PMEM_FORCE")
		}
	}, nil
}

func defaultDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "pmembench-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// runRow sets up one row, runs its repetitions and closes it.
func runRow(ctx context.Context, sc scenario, c Config, dir string, size, threads int, peer bool) (res Result, err error) {
	e := newEnv(sc, c, dir, size, threads, peer)
	var r row
	defer func() { err = errors.Join(err, r.close()) }()
	if err := sc.setup(e, &r); err != nil {
		return res, err
	}

	sides := [][]worker{r.goW, r.cW, r.limitW, r.cpyW}
	samples := make([][]sample, len(sides))
	counters := make([][]uint64, len(sides))
	for i := range sides {
		counters[i] = make([]uint64, threads)
	}
	for rep := range c.Reps {
		// Rotate the order so no side always runs first or last.
		for k := range sides {
			i := (k + rep) % len(sides)
			if sides[i] == nil {
				continue
			}
			s, err := measure(ctx, sides[i], counters[i], c.Duration)
			if err != nil {
				return res, err
			}
			samples[i] = append(samples[i], s)
		}
	}
	res = Result{
		Scenario: sc.name, Size: size, Threads: threads, Mode: c.Mode,
		Kernels: hal.Selected().Name(), Reps: c.Reps,
	}
	if sc.goal > 0 {
		res.Goal = new(sc.goal)
	}
	res.fill(samples[0], samples[1], samples[2], samples[3])
	if sc.noBytes {
		res.Wall.noBytes()
		if res.CPU != nil {
			res.CPU.noBytes()
		}
	}
	res.chooseClock()
	return res, nil
}

// newEnv lays out a row: each thread owns region bytes (a multiple of the
// 64-byte aligned stride, at least 4 operations) of the pool.
func newEnv(sc scenario, c Config, dir string, size, threads int, peer bool) *env {
	stride := (size + 63) &^ 63
	region := max(c.Region, 4*stride)
	region = (region + stride - 1) / stride * stride
	return &env{
		dir: dir, mode: c.Mode, size: size, threads: threads, region: region,
		slots: cpeer.Slots{Stride: stride, Count: region / stride},
		src:   pattern(size), peer: peer,
		name: fmt.Sprintf("%s-%d-%d", sc.name, size, threads),
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

// sample is one repetition of one side: how many operations its workers
// did, in how much elapsed time and in how much CPU time.
type sample struct {
	ops  uint64
	wall float64 // seconds from the start to the end of the last worker
	cpu  float64 // CPU seconds (user + system) of the worker threads, averaged over them; 0: no thread CPU clock
	runq float64 // seconds the worker threads were runnable but off a CPU, averaged; -1: not kept here
}

// measure runs the workers, one per OS thread, for about d and returns
// what they did, timed by both clocks. Each worker runs batches, doubling
// the batch while it takes under d/100, so the clocks are read rarely;
// counters carry each worker's operation number across calls.
//
// The elapsed time counts every moment a worker waits: parked on a lock
// another worker holds, or runnable without a CPU. The CPU time counts
// neither, so the two rates part exactly when the threads wait; the
// runqueue time (Linux) tells the two waits apart.
func measure(ctx context.Context, ws []worker, counters []uint64, d time.Duration) (sample, error) {
	ops := make([]uint64, len(ws))
	cpu, runq := make([]int64, len(ws)), make([]int64, len(ws))
	cpuOK, runqOK := make([]bool, len(ws)), make([]bool, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for t, w := range ws {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0, ok := threadCPU()
			runq0, rok := threadRunqueue()
			defer func() {
				runq1, rok1 := threadRunqueue()
				cpu1, ok1 := threadCPU()
				cpu[t], cpuOK[t] = cpu1-cpu0, ok && ok1
				runq[t], runqOK[t] = runq1-runq0, rok && rok1
			}()
			n := uint64(1)
			for {
				b0 := time.Now()
				done, err := w(counters[t], n)
				if err != nil {
					errs[t] = err
					return
				}
				counters[t] += done
				ops[t] += done
				now := time.Now()
				if now.After(deadline) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[t] = err
					return
				}
				if now.Sub(b0) < d/100 && n < 1<<30 {
					n *= 2
				}
			}
		})
	}
	wg.Wait()
	s := sample{wall: time.Since(start).Seconds(), runq: -1}
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	var cpuSum, runqSum int64
	for t := range ws {
		s.ops += ops[t]
		cpuSum += cpu[t]
		runqSum += runq[t]
	}
	if !slices.Contains(cpuOK, false) {
		// A thread that used no measurable CPU time cannot give a rate.
		s.cpu = max(float64(cpuSum)/float64(len(ws))/1e9, 1e-9)
	}
	if !slices.Contains(runqOK, false) {
		s.runq = float64(runqSum) / float64(len(ws)) / 1e9
	}
	return s, nil
}

// describe takes the machine's description, probing how a pool file in dir
// maps for Go (and for C when the peer runs).
func describe(dir string, mode Mode, peer bool) (Machine, error) {
	ch := hal.SelectedChoice()
	m := Machine{
		CPU: cpuModel(), Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		GoVersion: runtime.Version(), Kernels: hal.Selected().String(), KernelReason: ch.Reason(),
		Mode: mode, Dir: dir, CPeer: "absent (build without -tags cpeer)", Limit: "not measured (no assembly in this build)",
	}
	if haveNT {
		m.Limit = ntName() + ", no flush"
	}
	probe := dir + "/probe.go.pool"
	gm, err := core.MapFile(probe, 1<<20, core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		return m, err
	}
	m.Granularity = gm.Granularity().String()
	if err := gm.Close(); err != nil {
		return m, err
	}
	os.Remove(probe)
	if cpeer.Available() {
		m.CPeer = "libpmem (C PMDK) via cgo"
		if !peer {
			m.CPeer = "built in, disabled"
		}
	}
	if peer {
		probe := dir + "/probe.c.pool"
		cm, err := cpeer.MapFile(probe, 1<<20, mode == ModeForcedPmem)
		if err != nil {
			return m, err
		}
		is := cm.IsPmem()
		m.CIsPmem = &is
		if err := cm.Close(); err != nil {
			return m, err
		}
		os.Remove(probe)
	}
	return m, nil
}

// cpuModel reads the CPU's model name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
