package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// NewTable returns a Reporter printing an aligned table to w, a row as soon
// as it is measured. Each scenario shows only the columns that mean
// something for it: MB/s where operations move bytes, the memory limit and
// plain copy where there is a reference loop, C's columns where C ran; a
// new header line comes whenever the columns change.
func NewTable(w io.Writer) Reporter { return &table{w: w} }

type table struct {
	w      io.Writer
	cols   columns
	header bool
}

// columns are the optional columns of a row.
type columns struct{ c, mb, ref bool }

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
	fmt.Fprintf(t.w, "clocks:   wall = elapsed time, counts waiting on locks; cpu = worker thread CPU time, does not.\n")
	fmt.Fprintf(t.w, "          Go/C is by the steadier cpu clock with 1 thread, by wall where threads contend\n")
	fmt.Fprintf(t.w, "          (the clock is named after it); the other clock's ratio follows;\n")
	fmt.Fprintf(t.w, "          busy = cpu/wall of a worker thread (below 1: it waited, on a lock or for a CPU);\n")
	fmt.Fprintf(t.w, "          parked = share of wall time neither on a CPU nor waiting for one: on locks\n")
	fmt.Fprintf(t.w, "Go/C is the median of the per-repetition ratios [min-max]; ~ marks a ratio inside the noise\n")
	fmt.Fprintf(t.w, "(its repetitions spread beyond ±%.0f%%: rerun before quoting it); ops/s and MB/s are medians\n", Noise*50)
	_, err := fmt.Fprintf(t.w, "by the same clock, ±%% is (max-min)/median, MB = 1e6 bytes, limit and copy in MB/s\n")
	return err
}

func (t *table) head(c columns) error {
	var a, b strings.Builder
	fmt.Fprintf(&a, "\n%-15s %5s %3s %12s %4s", "scenario", "size", "thr", "Go ops/s", "±%")
	fmt.Fprintf(&b, "%-15s %5s %3s %12s %4s", "", "", "", "", "")
	if c.c {
		fmt.Fprintf(&a, " %12s %4s  %-24s %-18s %-9s %-9s", "C ops/s", "±%", "Go/C", "other clock", "busy", "parked")
		fmt.Fprintf(&b, " %12s %4s  %-24s %-18s %4s %4s %4s %4s", "", "", "", "", "Go", "C", "Go", "C")
	} else {
		fmt.Fprintf(&a, "  %-4s %-6s", "busy", "parked")
	}
	if c.mb {
		fmt.Fprintf(&a, " %9s", "Go MB/s")
		fmt.Fprintf(&b, " %9s", "")
	}
	if c.ref {
		fmt.Fprintf(&a, " %9s %9s %5s", "limit", "copy", "%lim")
	}
	_, err := fmt.Fprintf(t.w, "%s\n", strings.TrimRight(a.String(), " "))
	if sub := strings.TrimRight(b.String(), " "); sub != "" && err == nil {
		_, err = fmt.Fprintf(t.w, "%s\n", sub)
	}
	return err
}

func (t *table) Row(r Result) error {
	p := r.Primary()
	c := columns{c: p.COps != nil, mb: p.GoMBps != 0, ref: p.LimitMBps != nil}
	if !t.header || c != t.cols {
		if err := t.head(c); err != nil {
			return err
		}
		t.header, t.cols = true, c
	}
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
		mark := ""
		if rs.Noisy() {
			mark = "~"
		}
		return fmt.Sprintf("%s%.2f [%.2f-%.2f]", mark, *rs.PairRatio, *rs.RatioMin, *rs.RatioMax)
	}
	other := &r.Wall
	if p == &r.Wall {
		other = r.CPU
	}
	goBusy := "-"
	if r.CPU != nil {
		goBusy = fmt.Sprintf("%.2f", r.GoBusy)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %5s %3d %12.0f %4.0f", r.Scenario, FormatSize(r.Size), r.Threads, p.GoOps, p.GoSpread)
	if c.c {
		fmt.Fprintf(&b, " %12s %4s  %-24s %-18s %4s %4s %4s %4s", opt(p.COps, "%.0f"), opt(p.CSpread, "%.0f"),
			ratio(p)+" "+r.Clock, ratio(other), goBusy, opt(r.CBusy, "%.2f"), opt(r.GoParked, "%.2f"), opt(r.CParked, "%.2f"))
	} else {
		fmt.Fprintf(&b, "  %-4s %-6s", goBusy, opt(r.GoParked, "%.2f"))
	}
	if c.mb {
		fmt.Fprintf(&b, " %9.0f", p.GoMBps)
	}
	if c.ref {
		pct := "-"
		if p.GoOfLimit != nil {
			pct = fmt.Sprintf("%.0f", *p.GoOfLimit*100)
		}
		fmt.Fprintf(&b, " %9s %9s %5s", opt(p.LimitMBps, "%.0f"), opt(p.CopyMBps, "%.0f"), pct)
	}
	_, err := fmt.Fprintf(t.w, "%s\n", strings.TrimRight(b.String(), " "))
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
