package main

import (
	"fmt"
	"io"
	"strings"
)

// progress draws a one-line bar on a terminal during long scans and
// nothing when the output is not a terminal (a pipe or a file).
type progress struct {
	w     io.Writer
	on    bool
	shown bool
	last  int
}

func newProgress(w io.Writer, on bool) *progress { return &progress{w: w, on: on, last: -1} }

const barWidth = 40

func (p *progress) update(done, total uint64) {
	if !p.on || total == 0 {
		return
	}
	pct := int(done * 100 / total)
	if pct == p.last {
		return
	}
	p.last = pct
	n := pct * barWidth / 100
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%", strings.Repeat("#", n), strings.Repeat(" ", barWidth-n), pct)
	p.shown = true
}

// clear erases the bar so that a message can be printed.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", barWidth+7))
		p.shown = false
		p.last = -1
	}
}
