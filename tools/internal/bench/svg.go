package bench

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrNoRatios is returned by WriteSVG when no row has a Go/C ratio to
// chart: the C peer did not run (a build without -tags cpeer, or -no-c).
var ErrNoRatios = errors.New("bench: no Go/C ratios to chart (the C peer did not run)")

// The chart's geometry, in SVG user units (pixels at 100%).
const (
	svgWidth    = 960
	plotLeft    = 220 // the row labels end here
	plotRight   = 770
	wallColumn  = 840 // right edges of the value columns
	cpuColumn   = 910
	plotTop     = 172
	headerRowH  = 22  // a scenario's name
	dataRowH    = 22  // one size and thread count
	svgBottomH  = 64  // tick labels and the axis title
	markerDelta = 4.5 // the wall marker sits this far above the row's middle, the CPU marker below
)

// Colours: the Okabe-Ito palette's blue and orange, which stay apart for
// the colour-blind and in grey print (filled circle, hollow diamond).
const (
	wallColour = "#0072b2"
	cpuColour  = "#d55e00"
	goalColour = "#009e73"
)

// WriteSVG draws the Go/C ratios of rows as an SVG chart on w: one line
// per scenario, size and thread count, grouped by scenario in the order of
// rows; a filled circle at the median of the per-repetition wall-clock
// ratios and a hollow diamond at that of the CPU-clock ratios, each with a
// whisker from the smallest to the largest per-repetition ratio; a line at
// parity and, for scenarios with a goal, a dashed line at the goal. The
// ratio axis is logarithmic, so 0.5 and 2 lie as far from parity. Rows
// without a C figure are left out; with none left, WriteSVG returns
// ErrNoRatios. m titles the chart.
func WriteSVG(w io.Writer, m Machine, rows []Result) error {
	var charted []Result
	for _, r := range rows {
		if r.Wall.PairRatio != nil {
			charted = append(charted, r)
		}
	}
	if len(charted) == 0 {
		return ErrNoRatios
	}
	c := &chart{}
	c.scale(charted)
	height := plotTop + svgBottomH
	for i, r := range charted {
		if i == 0 || r.Scenario != charted[i-1].Scenario {
			height += headerRowH
		}
		height += dataRowH
	}
	c.printf(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	c.printf("<title>%s</title>\n", esc("gopmdk vs C PMDK: Go/C throughput ratios by pmembench scenario"))
	c.printf(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	c.header(m)
	plotBottom := c.rows(charted)
	c.axes(plotBottom)
	c.printf("</svg>\n")
	_, err := w.Write(c.buf.Bytes())
	return err
}

// chart accumulates the SVG text; lo and hi bound the ratio axis.
type chart struct {
	buf    bytes.Buffer
	lo, hi float64
}

func (c *chart) printf(format string, args ...any) { fmt.Fprintf(&c.buf, format, args...) }

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder cannot fail
	return b.String()
}

// scale bounds the axis by every whisker, parity and the goals, with a
// margin.
func (c *chart) scale(rows []Result) {
	c.lo, c.hi = 1, 1
	see := func(v *float64) {
		if v != nil && *v > 0 && !math.IsInf(*v, 0) {
			c.lo, c.hi = min(c.lo, *v), max(c.hi, *v)
		}
	}
	for _, r := range rows {
		see(r.Goal)
		for _, rs := range []*Rates{&r.Wall, r.CPU} {
			if rs != nil {
				see(rs.RatioMin)
				see(rs.RatioMax)
			}
		}
	}
	c.lo, c.hi = c.lo/1.12, c.hi*1.12
}

// x maps a ratio to its abscissa; values outside the axis are clamped.
func (c *chart) x(v float64) float64 {
	f := (math.Log(v) - math.Log(c.lo)) / (math.Log(c.hi) - math.Log(c.lo))
	if math.IsNaN(f) {
		f = 0
	}
	return plotLeft + min(max(f, 0), 1)*(plotRight-plotLeft)
}

// header writes the title, what the figures are, and the legend.
func (c *chart) header(m Machine) {
	c.printf(`<text x="16" y="28" font-size="17" font-weight="bold">%s</text>`+"\n",
		esc("gopmdk vs C PMDK: Go/C throughput ratio by scenario, size and goroutines"))
	c.printf(`<text x="16" y="48" fill="#444">%s</text>`+"\n",
		esc(fmt.Sprintf("%s, %d cores, %s, %s; kernels %s", m.CPU, m.Cores, m.OS, m.GoVersion, m.Kernels)))
	c.printf(`<text x="16" y="64" fill="#444">%s</text>`+"\n",
		esc(fmt.Sprintf("mode %s; %d repetitions of %s per side, Go and C alternating, each timed by both clocks", m.Mode, m.Reps, m.Duration)))

	y := 90.0
	c.marker(26, y, true)
	c.printf(`<text x="40" y="%.1f">%s</text>`+"\n", y+4, esc("wall clock: elapsed time, counts every wait on a lock"))
	c.marker(376, y, false)
	c.printf(`<text x="390" y="%.1f">%s</text>`+"\n", y+4, esc("CPU clock: worker thread CPU time, blind to waiting"))
	y += 20
	c.printf(`<text x="16" y="%.1f">%s</text>`+"\n", y+4,
		esc("marker: median of the per-repetition Go/C ratios; whisker: smallest to largest per-repetition ratio"))
	y += 20
	c.printf(`<line x1="18" y1="%.1f" x2="34" y2="%.1f" stroke="#222" stroke-width="1.5"/>`+"\n", y, y)
	c.printf(`<text x="40" y="%.1f">%s</text>`+"\n", y+4, esc("parity (Go = C)"))
	c.printf(`<line x1="168" y1="%.1f" x2="184" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="5 3"/>`+"\n", y, y, goalColour)
	c.printf(`<text x="190" y="%.1f">%s</text>`+"\n", y+4, esc("goal"))
	c.printf(`<text x="290" y="%.1f" fill="#444">%s</text>`+"\n", y+4, esc("right of parity, Go is faster"))
}

// marker draws the wall-clock marker (a filled circle) or the CPU-clock one
// (a hollow diamond) at (x, y).
func (c *chart) marker(x, y float64, wall bool) {
	if wall {
		c.printf(`<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>`+"\n", x, y, wallColour)
		return
	}
	const d = 4.5
	c.printf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="white" stroke="%s" stroke-width="1.6"/>`+"\n",
		x, y-d, x+d, y, x, y+d, x-d, y, cpuColour)
}

// rows draws the groups and their rows and returns the plot's bottom.
func (c *chart) rows(rows []Result) float64 {
	y := float64(plotTop)
	// The vertical axis's title heads the label column, level with the
	// value columns' headers.
	c.printf(`<text x="%d" y="%.1f" text-anchor="end" font-weight="bold">%s</text>`+"\n", plotLeft-10, y-6,
		esc("scenario · size · goroutines"))
	c.printf(`<text x="%d" y="%.1f" text-anchor="end" font-weight="bold" fill="%s">wall</text>`+"\n", wallColumn, y-6, wallColour)
	c.printf(`<text x="%d" y="%.1f" text-anchor="end" font-weight="bold" fill="%s">cpu</text>`+"\n", cpuColumn, y-6, cpuColour)
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].Scenario == rows[i].Scenario {
			j++
		}
		y = c.group(rows[i:j], y)
		i = j
	}
	return y
}

// group draws one scenario from y down and returns where it ends.
func (c *chart) group(g []Result, y float64) float64 {
	c.printf(`<line x1="16" y1="%.1f" x2="%d" y2="%.1f" stroke="#bbb"/>`+"\n", y, cpuColumn, y)
	c.printf(`<text x="16" y="%.1f" font-weight="bold">%s</text>`+"\n", y+16, esc(g[0].Scenario))
	y += headerRowH
	top := y
	for k, r := range g {
		if k%2 == 0 {
			c.printf(`<rect x="%d" y="%.1f" width="%d" height="%d" fill="#f2f2f2"/>`+"\n", plotLeft, y, plotRight-plotLeft, dataRowH)
		}
		mid := y + dataRowH/2
		label := fmt.Sprintf("%s · %d goroutine", FormatSize(r.Size), r.Threads)
		if r.Threads != 1 {
			label += "s"
		}
		c.printf(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotLeft-10, mid+4, esc(label))
		c.ratio(&r.Wall, mid-markerDelta, true)
		c.ratio(r.CPU, mid+markerDelta, false)
		c.value(&r.Wall, wallColumn, mid+4)
		c.value(r.CPU, cpuColumn, mid+4)
		y += dataRowH
	}
	if goal := g[0].Goal; goal != nil {
		gx := c.x(*goal)
		c.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="5 3"/>`+"\n",
			gx, top-headerRowH+4, gx, y, goalColour)
		c.printf(`<text x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", gx+4, top-6, goalColour, esc(fmt.Sprintf("goal %g×", *goal)))
	}
	return y
}

// ratio draws one clock's whisker and marker at height y.
func (c *chart) ratio(rs *Rates, y float64, wall bool) {
	if rs == nil || rs.PairRatio == nil {
		return
	}
	colour := wallColour
	if !wall {
		colour = cpuColour
	}
	x0, x1 := c.x(*rs.RatioMin), c.x(*rs.RatioMax)
	c.printf(`<path d="M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f" stroke="%s" stroke-width="1.4" fill="none"/>`+"\n",
		x0, y, x1, x0, y-3, y+3, x1, y-3, y+3, colour)
	c.marker(c.x(*rs.PairRatio), y, wall)
}

// value writes one clock's median ratio in its column.
func (c *chart) value(rs *Rates, x int, y float64) {
	if rs == nil || rs.PairRatio == nil {
		return
	}
	c.printf(`<text x="%d" y="%.1f" text-anchor="end">%.2f</text>`+"\n", x, y, *rs.PairRatio)
}

// axes draws the grid, the ticks, the parity line and the axis titles.
func (c *chart) axes(bottom float64) {
	for _, t := range ticks(c.lo, c.hi) {
		x := c.x(t)
		c.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#d8d8d8"/>`+"\n", x, plotTop, x, bottom)
		c.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, bottom+16, esc(fmt.Sprintf("%g×", t)))
	}
	x1 := c.x(1)
	c.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#222" stroke-width="1.5"/>`+"\n", x1, plotTop, x1, bottom)
	c.printf(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#222"/>`+"\n", plotLeft, bottom, plotRight, bottom)
	c.printf(`<text x="%d" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`+"\n",
		(plotLeft+plotRight)/2, bottom+40, esc("Go/C throughput ratio (log scale)"))
}

// ticks returns ratio ticks between lo and hi: the finest of a few
// 1-2-5-like series that puts at most 8 ticks there (more crowd the labels
// where the axis spans a factor of ten or so).
func ticks(lo, hi float64) []float64 {
	series := [][]float64{
		{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8},
		{1, 1.5, 2, 3, 5, 7},
		{1, 2, 3, 5},
		{1, 2, 5},
		{1, 3},
		{1},
	}
	var t []float64
	for _, s := range series {
		t = t[:0]
		for e := -3; e <= 3; e++ {
			for _, m := range s {
				// Round to 4 significant digits so 0.3 is 0.3, not 0.30000000000000004.
				v := m * math.Pow(10, float64(e))
				v, _ = strconv.ParseFloat(fmt.Sprintf("%.4g", v), 64)
				if v >= lo && v <= hi {
					t = append(t, v)
				}
			}
		}
		if len(t) <= 8 {
			break
		}
	}
	return t
}
