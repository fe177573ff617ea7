package heap

import (
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/obj/layout"
)

// BenchmarkStatsPublished measures what the counters add to one
// publication (an allocation and a free per iteration) in each mode, on
// one goroutine and on all (the counters are shared words).
func BenchmarkStatsPublished(b *testing.B) {
	for _, mode := range []int32{StatsDisabled, StatsTransient, StatsBoth} {
		b.Run(fmt.Sprintf("mode=%d", mode), func(b *testing.B) {
			var curr uint64
			h := &Heap{}
			h.stats.curr = &curr
			h.stats.mode.Store(mode)
			b.RunParallel(func(pb *testing.PB) {
				blk := &Block{run: &run{}, n: 1, hdrType: layout.HeaderCompact, Size: 48}
				for pb.Next() {
					h.statsPublished(blk, true)
					h.statsPublished(blk, false)
				}
			})
		})
	}
}

// TestStatsModes: each mode keeps its counters and leaves the others.
func TestStatsModes(t *testing.T) {
	for _, c := range []struct {
		mode      int32
		curr, run bool
	}{{StatsDisabled, false, false}, {StatsTransient, false, true}, {StatsBoth, true, true}, {StatsPersistent, true, false}} {
		var curr uint64
		h := &Heap{}
		h.stats.curr = &curr
		h.stats.mode.Store(c.mode)
		h.statsPublished(&Block{run: &run{}, n: 1, hdrType: layout.HeaderCompact, Size: 48}, true)
		h.statsPublished(&Block{n: 1, hdrType: layout.HeaderCompact, Size: layout.ChunkSize - 16}, true)
		h.statsRunActive(2)
		wantCurr, wantRun, wantActive := uint64(0), uint64(0), uint64(0)
		if c.curr {
			wantCurr = 64 + layout.ChunkSize
		}
		if c.run {
			wantRun, wantActive = 64, 2*layout.ChunkSize
		}
		if _, run, active := h.Stats(); curr != wantCurr || run != wantRun || active != wantActive {
			t.Errorf("mode %d: curr %d run %d active %d", c.mode, curr, run, active)
		}
	}
}
