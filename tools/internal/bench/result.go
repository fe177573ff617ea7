package bench

import (
	"math"
	"slices"
)

// Result is one row of the report: one scenario at one size and thread
// count, timed by both clocks in every repetition. Fields for the C peer
// and the references are nil where they were not measured.
type Result struct {
	Scenario string   `json:"scenario"`
	Size     int      `json:"size"`
	Threads  int      `json:"threads"`
	Mode     Mode     `json:"mode"`
	Kernels  string   `json:"kernels"`
	Reps     int      `json:"reps"`
	Goal     *float64 `json:"goal,omitempty"` // the Go/C ratio aimed at, where the scenario has one
	// Clock names the clock whose figures the table shows first: "cpu"
	// for one thread (steadier: other work on the machine does not count),
	// "wall" where threads contend (waiting on each other is the cost),
	// and wherever there is no thread CPU clock.
	Clock string `json:"clock"`

	// Wall divides by elapsed time: what a user sees, including every
	// moment a thread waits on a lock another holds (and, on a busy
	// machine, for a CPU).
	Wall Rates `json:"wall"`
	// CPU divides by the CPU time of the worker threads (user + system,
	// averaged over the threads): steady on a busy machine, but blind to
	// time parked on a lock. Nil where the system has no thread CPU clock.
	CPU *Rates `json:"cpu,omitempty"`

	// GoBusy and CBusy are the medians over the repetitions of CPU time
	// over elapsed time of a worker thread (averaged over the threads):
	// 1 means the threads never waited; 0.6 with two threads means they
	// spent 40% of the time parked on each other's locks or waiting for a
	// CPU. Zero or nil without a thread CPU clock.
	GoBusy float64  `json:"go_busy"`
	CBusy  *float64 `json:"c_busy,omitempty"`
	// GoParked and CParked are the medians of the fraction of elapsed time
	// a worker thread was neither on a CPU nor waiting for one: parked on
	// a lock (or in a system call that sleeps, such as msync). Unlike
	// busy, a loaded machine does not lower it: it is the contention. Nil
	// where the kernel keeps no runqueue time (Linux without
	// CONFIG_SCHED_INFO, other systems).
	GoParked *float64 `json:"go_parked,omitempty"`
	CParked  *float64 `json:"c_parked,omitempty"`
}

// Rates are the throughputs of one row by one clock. Throughputs are
// medians over the repetitions; spreads are (max-min)/median in percent.
type Rates struct {
	GoOps     float64  `json:"go_ops_per_sec"`
	GoSpread  float64  `json:"go_spread_pct"`
	GoNsPerOp float64  `json:"go_ns_per_op"`            // per thread: threads / ops per second
	GoMBps    float64  `json:"go_mb_per_sec,omitempty"` // 0 where an operation moves no bytes
	COps      *float64 `json:"c_ops_per_sec,omitempty"`
	CSpread   *float64 `json:"c_spread_pct,omitempty"`
	CNsPerOp  *float64 `json:"c_ns_per_op,omitempty"`
	CMBps     *float64 `json:"c_mb_per_sec,omitempty"`

	// Ratio is the median Go rate over the median C rate: above 1, Go is
	// faster.
	Ratio *float64 `json:"ratio,omitempty"`
	// Ratios are Go/C within each repetition (Go's and C's runs of one
	// repetition are adjacent in time, so drift of the machine hits both);
	// PairRatio is their median, RatioMin and RatioMax their extremes: the
	// dot and the whisker of the chart.
	Ratios    []float64 `json:"ratios,omitempty"`
	PairRatio *float64  `json:"pair_ratio,omitempty"`
	RatioMin  *float64  `json:"ratio_min,omitempty"`
	RatioMax  *float64  `json:"ratio_max,omitempty"`
	// BestRatio is the best Go rate over the best C rate: robust when
	// other work on the machine slows some repetitions down.
	BestRatio *float64 `json:"best_ratio,omitempty"`

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
	Reps         int    `json:"reps"`
	Duration     string `json:"duration"` // of one repetition of one side
	Granularity  string `json:"go_granularity"`
	CIsPmem      *bool  `json:"c_is_pmem,omitempty"`
	CPeer        string `json:"c_peer"`
	Limit        string `json:"limit"`
	Dir          string `json:"dir"`
}

// Noise is the spread of the per-repetition Go/C ratios, (max-min)/median,
// above which a ratio is inside the noise (beyond ±20%): the table marks it.
const Noise = 0.4

// Noisy reports whether the ratios of rs spread beyond Noise: the machine
// moved more between repetitions than the ratio says.
func (rs *Rates) Noisy() bool {
	return rs.PairRatio != nil && (*rs.RatioMax-*rs.RatioMin) / *rs.PairRatio > Noise
}

// noBytes drops the byte rates of a row whose operations move no bytes.
func (rs *Rates) noBytes() {
	rs.GoMBps, rs.CMBps = 0, nil
}

// Primary returns the rates of the clock r.Clock names.
func (r *Result) Primary() *Rates {
	if r.Clock == "cpu" && r.CPU != nil {
		return r.CPU
	}
	return &r.Wall
}

// chooseClock sets r.Clock: the CPU clock for one thread, the wall clock
// for several (or without a CPU clock).
func (r *Result) chooseClock() {
	r.Clock = "wall"
	if r.Threads == 1 && r.CPU != nil {
		r.Clock = "cpu"
	}
}

// fill computes r's figures from the samples of the Go side, the C peer,
// the limit loop and the copy loop (nil where a side did not run).
func (r *Result) fill(goS, cS, limitS, copyS []sample) {
	r.Wall = rates(r.Size, r.Threads, goS, cS, limitS, copyS, sample.wallRate)
	if !slices.ContainsFunc(goS, sample.noCPU) && !slices.ContainsFunc(cS, sample.noCPU) {
		r.CPU = new(rates(r.Size, r.Threads, goS, cS, limitS, copyS, sample.cpuRate))
		r.GoBusy = median(mapped(goS, sample.busy))
		if cS != nil {
			r.CBusy = new(median(mapped(cS, sample.busy)))
		}
		if !slices.ContainsFunc(goS, sample.noRunq) && !slices.ContainsFunc(cS, sample.noRunq) {
			r.GoParked = new(median(mapped(goS, sample.parked)))
			if cS != nil {
				r.CParked = new(median(mapped(cS, sample.parked)))
			}
		}
	}
}

func (s sample) wallRate() float64 { return float64(s.ops) / s.wall }
func (s sample) cpuRate() float64  { return float64(s.ops) / s.cpu }
func (s sample) busy() float64     { return s.cpu / s.wall }
func (s sample) noCPU() bool       { return s.cpu == 0 }
func (s sample) noRunq() bool      { return s.runq < 0 }

// parked is the fraction of the elapsed time the threads were neither
// running nor runnable.
func (s sample) parked() float64 { return max(0, 1-(s.cpu+s.runq)/s.wall) }

// rates reduces the samples by one clock.
func rates(size, threads int, goS, cS, limitS, copyS []sample, rate func(sample) float64) Rates {
	var r Rates
	mb := float64(size) / 1e6
	g := mapped(goS, rate)
	r.GoOps, r.GoSpread = median(g), spread(g)
	r.GoNsPerOp = float64(threads) * 1e9 / r.GoOps
	r.GoMBps = r.GoOps * mb
	if cS != nil {
		c := mapped(cS, rate)
		cops := median(c)
		r.COps, r.CSpread = new(cops), new(spread(c))
		r.CNsPerOp = new(float64(threads) * 1e9 / cops)
		r.CMBps = new(cops * mb)
		r.Ratio = new(r.GoOps / cops)
		r.BestRatio = new(slices.Max(g) / slices.Max(c))
		r.Ratios = make([]float64, min(len(g), len(c)))
		for i := range r.Ratios {
			r.Ratios[i] = g[i] / c[i]
		}
		r.PairRatio = new(median(r.Ratios))
		r.RatioMin, r.RatioMax = new(slices.Min(r.Ratios)), new(slices.Max(r.Ratios))
	}
	if limitS != nil {
		r.LimitMBps = new(median(mapped(limitS, rate)) * mb)
		r.GoOfLimit = new(r.GoMBps / *r.LimitMBps)
	}
	if copyS != nil {
		r.CopyMBps = new(median(mapped(copyS, rate)) * mb)
	}
	return r
}

func mapped(s []sample, f func(sample) float64) []float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	return v
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
