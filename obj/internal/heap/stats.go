package heap

import (
	"sync/atomic"
	"unsafe"

	"github.com/gopmdk/pmdk/obj/layout"
)

// Stats modes (enum pobj_stats_enabled, C's values).
const (
	StatsTransient  = 0 // the transient counters only (C's default)
	StatsBoth       = 1
	StatsPersistent = 2 // the persistent counter only
	StatsDisabled   = 3
)

// stats are the heap's counters (C's struct stats): the transient ones
// live in DRAM, the persistent one in the pool descriptor
// (stats_persistent.heap_curr_allocated), where C keeps it from run to
// run. Each is one atomic add on a path that already did a persist, and
// none when its mode is off.
type stats struct {
	mode         atomic.Int32
	runAllocated atomic.Uint64 // bytes (headers included) of objects in runs
	runActive    atomic.Uint64 // bytes of the chunks of runs
	curr         *uint64       // the persistent counter, in the mapping
}

func (s *stats) transient() bool {
	m := s.mode.Load()
	return m == StatsTransient || m == StatsBoth
}

func (s *stats) persistent() bool {
	m := s.mode.Load()
	return m == StatsPersistent || m == StatsBoth
}

// SetStatsMode sets the stats mode (stats.enabled); the caller checked
// the value.
func (h *Heap) SetStatsMode(m int32) { h.stats.mode.Store(m) }

// StatsMode returns the stats mode.
func (h *Heap) StatsMode() int32 { return h.stats.mode.Load() }

// Stats returns the counters: stats.heap.curr_allocated (persistent),
// run_allocated and run_active.
func (h *Heap) Stats() (currAllocated, runAllocated, runActive uint64) {
	return atomic.LoadUint64(h.stats.curr), h.stats.runAllocated.Load(), h.stats.runActive.Load()
}

// PersistStats persists the persistent counter (C does at close).
func (h *Heap) PersistStats() {
	h.m.Persist(layout.StatsAllocatedAt, 8)
}

func (h *Heap) initStats() {
	h.stats.curr = (*uint64)(unsafe.Pointer(&h.m.B[layout.StatsAllocatedAt]))
}

// statsPublished counts a published allocation or free of b
// (palloc_heap_action_on_process).
func (h *Heap) statsPublished(b *Block, alloc bool) {
	s := &h.stats
	m := s.mode.Load()
	if m == StatsDisabled {
		return
	}
	n := b.realSize()
	if !alloc {
		n = -n
	}
	if m != StatsTransient {
		atomic.AddUint64(s.curr, n)
	}
	if b.run != nil && m != StatsPersistent {
		s.runAllocated.Add(n)
	}
}

// statsRunActive counts chunks becoming (n > 0) or ceasing to be (n < 0)
// a run.
func (h *Heap) statsRunActive(chunks int64) {
	if h.stats.transient() {
		h.stats.runActive.Add(uint64(chunks * layout.ChunkSize))
	}
}

// AllocPattern returns debug.heap.alloc_pattern.
func (h *Heap) AllocPattern() int32 { return h.allocPattern.Load() }

// SetAllocPattern sets debug.heap.alloc_pattern: a value above -1 fills
// new objects with its low byte before their constructor runs.
func (h *Heap) SetAllocPattern(v int32) { h.allocPattern.Store(v) }
