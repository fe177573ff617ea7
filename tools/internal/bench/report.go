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
	fmt.Fprintf(t.w, "clock:    %s seconds\n", m.Clock)
	fmt.Fprintf(t.w, "C peer:   %s\n", m.CPeer)
	fmt.Fprintf(t.w, "limit:    %s; copy: runtime copy (memset rows: clear) into the mapping\n", m.Limit)
	fmt.Fprintf(t.w, "ops/s are medians, ±%% is (max-min)/median, Go/C is the ratio of the medians,\n")
	fmt.Fprintf(t.w, "best is best Go / best C, MB = 1e6 bytes, limit and copy in MB/s\n\n")
	_, err := fmt.Fprintf(t.w, "%-15s %5s %3s %12s %5s %12s %5s %6s %6s %9s %9s %9s %6s\n",
		"scenario", "size", "thr", "Go ops/s", "±%", "C ops/s", "±%", "Go/C", "best", "Go MB/s", "limit", "copy", "%limit")
	return err
}

func (t *table) Row(r Result) error {
	opt := func(v *float64, format string) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf(format, *v)
	}
	pct := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.0f", *v*100)
	}
	_, err := fmt.Fprintf(t.w, "%-15s %5s %3d %12.0f %5.0f %12s %5s %6s %6s %9.0f %9s %9s %6s\n",
		r.Scenario, FormatSize(r.Size), r.Threads, r.GoOps, r.GoSpread,
		opt(r.COps, "%.0f"), opt(r.CSpread, "%.0f"), opt(r.Ratio, "%.2f"), opt(r.BestRatio, "%.2f"),
		r.GoMBps, opt(r.LimitMBps, "%.0f"), opt(r.CopyMBps, "%.0f"), pct(r.GoOfLimit))
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
