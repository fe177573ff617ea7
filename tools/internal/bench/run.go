package bench

import (
	"errors"
	"fmt"
	"math"
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

// Result is one row of the report: one scenario at one size and thread
// count. Throughputs are medians over the repetitions; spreads are
// (max-min)/median in percent. Fields for the C peer and the references are
// nil where they were not measured.
type Result struct {
	Scenario  string   `json:"scenario"`
	Size      int      `json:"size"`
	Threads   int      `json:"threads"`
	Mode      Mode     `json:"mode"`
	Kernels   string   `json:"kernels"`
	Reps      int      `json:"reps"`
	Clock     Clock    `json:"clock"`
	GoOps     float64  `json:"go_ops_per_sec"`
	GoSpread  float64  `json:"go_spread_pct"`
	GoNsPerOp float64  `json:"go_ns_per_op"`
	COps      *float64 `json:"c_ops_per_sec,omitempty"`
	CSpread   *float64 `json:"c_spread_pct,omitempty"`
	CNsPerOp  *float64 `json:"c_ns_per_op,omitempty"`
	Ratio     *float64 `json:"ratio,omitempty"`      // Go/C ops per second: above 1, Go is faster
	PairRatio *float64 `json:"pair_ratio,omitempty"` // median of Go/C within each repetition
	BestRatio *float64 `json:"best_ratio,omitempty"` // best Go / best C: robust on a busy machine
	GoMBps    float64  `json:"go_mb_per_sec"`
	CMBps     *float64 `json:"c_mb_per_sec,omitempty"`
	LimitMBps *float64 `json:"limit_mb_per_sec,omitempty"` // non-temporal stores, no flush
	CopyMBps  *float64 `json:"copy_mb_per_sec,omitempty"`  // plain copy into the mapping
	GoOfLimit *float64 `json:"go_of_limit,omitempty"`      // GoMBps / LimitMBps
}

// Machine describes where and how the figures were taken.
type Machine struct {
	CPU          string `json:"cpu"`
	Cores        int    `json:"cores"`
	OS           string `json:"os"`
	GoVersion    string `json:"go_version"`
	Kernels      string `json:"kernels"`
	KernelReason string `json:"kernel_reason"`
	Mode         Mode   `json:"mode"`
	Clock        Clock  `json:"clock"`
	Granularity  string `json:"go_granularity"`
	CIsPmem      *bool  `json:"c_is_pmem,omitempty"`
	CPeer        string `json:"c_peer"`
	Limit        string `json:"limit"`
	Dir          string `json:"dir"`
}

// Reporter receives the machine description once, then each row as soon as
// it is measured.
type Reporter interface {
	Machine(Machine) error
	Row(Result) error
}

// Run runs the scenarios cfg selects and reports them to rep. It sets
// PMEM_IS_PMEM_FORCE for the mode (1 or 0) while it runs, as C PMDK reads
// it, and restores it after.
func Run(cfg Config, rep Reporter) error {
	c := cfg.withDefaults()
	if _, err := ParseClock(string(c.Clock)); err != nil {
		return err
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
	mach.Clock = c.Clock
	if err != nil {
		return err
	}
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
				res, err := runRow(sc, c, dir, size, threads, peer)
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
func runRow(sc scenario, c Config, dir string, size, threads int, peer bool) (res Result, err error) {
	e := newEnv(sc, c, dir, size, threads, peer)
	var r row
	defer func() { err = errors.Join(err, r.close()) }()
	if err := sc.setup(e, &r); err != nil {
		return res, err
	}

	sides := [][]worker{r.goW, r.cW, r.limitW, r.cpyW}
	rates := make([][]float64, len(sides))
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
			ops, err := measure(sides[i], counters[i], c.Duration, c.Clock)
			if err != nil {
				return res, err
			}
			rates[i] = append(rates[i], ops)
		}
	}

	res = Result{
		Scenario: sc.name, Size: size, Threads: threads, Mode: c.Mode,
		Kernels: hal.Selected().Name(), Reps: c.Reps, Clock: c.Clock,
	}
	mb := float64(size) / 1e6
	res.GoOps, res.GoSpread = median(rates[0]), spread(rates[0])
	res.GoNsPerOp = float64(threads) * 1e9 / res.GoOps
	res.GoMBps = res.GoOps * mb
	if rates[1] != nil {
		cops, csp := median(rates[1]), spread(rates[1])
		res.COps, res.CSpread = &cops, &csp
		res.CNsPerOp = new(float64(threads) * 1e9 / cops)
		res.CMBps = new(cops * mb)
		res.Ratio = new(res.GoOps / cops)
		res.BestRatio = new(slices.Max(rates[0]) / slices.Max(rates[1]))
		pairs := make([]float64, len(rates[1]))
		for i := range pairs {
			pairs[i] = rates[0][i] / rates[1][i]
		}
		res.PairRatio = new(median(pairs))
	}
	if rates[2] != nil {
		res.LimitMBps = new(median(rates[2]) * mb)
		res.GoOfLimit = new(res.GoMBps / *res.LimitMBps)
	}
	if rates[3] != nil {
		res.CopyMBps = new(median(rates[3]) * mb)
	}
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

// measure runs the workers, one per OS thread, for about d and returns the
// operations per second of all of them together, per wall or per thread CPU
// second (see Clock). Each worker runs batches, doubling the batch while it
// takes under d/100, so the clock is read rarely; counters carry each
// worker's operation number across calls.
func measure(ws []worker, counters []uint64, d time.Duration, clock Clock) (float64, error) {
	ops := make([]uint64, len(ws))
	cpu := make([]int64, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for t, w := range ws {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0, ok := threadCPU()
			if !ok && clock == ClockCPU {
				errs[t] = errors.New("bench: no thread CPU clock here")
				return
			}
			defer func() {
				cpu1, _ := threadCPU()
				cpu[t] = cpu1 - cpu0
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
				if now.Sub(b0) < d/100 && n < 1<<30 {
					n *= 2
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	var total uint64
	for _, o := range ops {
		total += o
	}
	secs := elapsed.Seconds()
	if clock == ClockCPU {
		var sum int64
		for _, c := range cpu {
			sum += c
		}
		// A thread that used no measurable CPU time cannot give a rate.
		secs = max(float64(sum)/float64(len(ws))/1e9, 1e-9)
	}
	return float64(total) / secs, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is (max-min)/median in percent.
func spread(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	return (slices.Max(v) - slices.Min(v)) / median(v) * 100
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
