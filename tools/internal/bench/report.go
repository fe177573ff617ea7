package bench

import (
	"encoding/json"
	"fmt"
	"io"
)

// NewTable returns a Reporter printing an aligned table to w, a row as soon
// as it is measured.
func NewTable(w io.Writer) Reporter { return &table{w: w} }

type table struct{ w io.Writer }

func (t *table) Machine(m Machine) error {
	fmt.Fprintf(t.w, "machine:  %s, %d cores, %s, %s\n", m.CPU, m.Cores, m.OS, m.GoVersion)
	fmt.Fprintf(t.w, "kernels:  %s\n          %s\n", m.Kernels, m.KernelReason)
	cmode := ""
	if m.CIsPmem != nil {
		cmode = fmt.Sprintf(", C pmem_map_file is_pmem=%v", *m.CIsPmem)
	}
	fmt.Fprintf(t.w, "mode:     %s (Go mapping granularity %s%s), pools in %s\n", m.Mode, m.Granularity, cmode, m.Dir)
	fmt.Fprintf(t.w, "reps:     %d per side of %s each, the sides alternating; each timed by both clocks\n", m.Reps, m.Duration)
	fmt.Fprintf(t.w, "C peer:   %s\n", m.CPeer)
	fmt.Fprintf(t.w, "limit:    %s; copy: runtime copy (memset rows: clear) into the mapping\n", m.Limit)
	fmt.Fprintf(t.w, "clocks:   wall = elapsed time, counts waiting on locks; cpu = worker thread CPU time, does not;\n")
	fmt.Fprintf(t.w, "          busy = cpu/wall of a worker thread (below 1: it waited, on a lock or for a CPU);\n")
	fmt.Fprintf(t.w, "          parked = share of wall time neither on a CPU nor waiting for one: on locks\n")
	fmt.Fprintf(t.w, "Go/C is the median of the per-repetition ratios [min-max]; ops/s and MB/s are wall-clock\n")
	fmt.Fprintf(t.w, "medians, ±%% is (max-min)/median, MB = 1e6 bytes, limit and copy in MB/s\n\n")
	_, err := fmt.Fprintf(t.w, "%-15s %5s %3s %12s %4s %12s %4s  %-18s %-18s %-9s %-9s %9s %9s %9s %5s\n",
		"scenario", "size", "thr", "Go ops/s", "±%", "C ops/s", "±%", "wall Go/C", "cpu Go/C",
		"busy", "parked", "Go MB/s", "limit", "copy", "%lim")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(t.w, "%-15s %5s %3s %12s %4s %12s %4s  %-18s %-18s %4s %4s %4s %4s\n",
		"", "", "", "", "", "", "", "", "", "Go", "C", "Go", "C")
	return err
}

func (t *table) Row(r Result) error {
	w := r.Wall
	opt := func(v *float64, format string) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf(format, *v)
	}
	ratio := func(rs *Rates) string {
		if rs == nil || rs.PairRatio == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f [%.2f-%.2f]", *rs.PairRatio, *rs.RatioMin, *rs.RatioMax)
	}
	goBusy, pct := "-", "-"
	if r.CPU != nil {
		goBusy = fmt.Sprintf("%.2f", r.GoBusy)
	}
	if w.GoOfLimit != nil {
		pct = fmt.Sprintf("%.0f", *w.GoOfLimit*100)
	}
	_, err := fmt.Fprintf(t.w, "%-15s %5s %3d %12.0f %4.0f %12s %4s  %-18s %-18s %4s %4s %4s %4s %9.0f %9s %9s %5s\n",
		r.Scenario, FormatSize(r.Size), r.Threads, w.GoOps, w.GoSpread,
		opt(w.COps, "%.0f"), opt(w.CSpread, "%.0f"), ratio(&r.Wall), ratio(r.CPU),
		goBusy, opt(r.CBusy, "%.2f"), opt(r.GoParked, "%.2f"), opt(r.CParked, "%.2f"), w.GoMBps, opt(w.LimitMBps, "%.0f"), opt(w.CopyMBps, "%.0f"), pct)
	return err
}

// NewJSON returns a Reporter writing one JSON object per row to w, and the
// machine description as one JSON object to mw (nil: dropped), so w holds
// rows only.
func NewJSON(w, mw io.Writer) Reporter {
	return &jsonLines{rows: json.NewEncoder(w), mw: mw}
}

type jsonLines struct {
	rows *json.Encoder
	mw   io.Writer
}

func (j *jsonLines) Machine(m Machine) error {
	if j.mw == nil {
		return nil
	}
	return json.NewEncoder(j.mw).Encode(m)
}

func (j *jsonLines) Row(r Result) error { return j.rows.Encode(r) }
