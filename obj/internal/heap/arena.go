package heap

import (
	"errors"

	"github.com/gopmdk/pmdk/obj/layout"
)

// ErrLastAutoArena: the last automatic arena cannot stop being one.
var ErrLastAutoArena = errors.New("obj: at least one automatic arena must exist")

// ErrArenasMax: heap.narenas.max below the number of arenas.
var ErrArenasMax = errors.New("obj: cannot decrease the maximum number of arenas")

func (h *Heap) arenaList() []*Arena { return *h.arenas.Load() }

// NArenas returns the number of arenas.
func (h *Heap) NArenas() int { return len(h.arenaList()) }

// Arena returns arena i (0-based).
func (h *Heap) Arena(i int) *Arena { return h.arenaList()[i] }

// NewArena adds an arena, not automatic (heap_arena_create), and returns
// its 0-based index.
func (h *Heap) NewArena() int {
	h.arenasMu.Lock()
	defer h.arenasMu.Unlock()
	old := h.arenaList()
	n := append(old[:len(old):len(old)], &Arena{idx: len(old)})
	h.arenas.Store(&n)
	h.arenasMax = max(h.arenasMax, len(n))
	return len(n) - 1
}

// NArenasMax returns heap.narenas.max: the arenas the heap has room for.
func (h *Heap) NArenasMax() int {
	h.arenasMu.Lock()
	defer h.arenasMu.Unlock()
	return h.arenasMax
}

// SetNArenasMax sets heap.narenas.max; it cannot go below the current
// maximum.
func (h *Heap) SetNArenasMax(n int) error {
	h.arenasMu.Lock()
	defer h.arenasMu.Unlock()
	if n < h.arenasMax {
		return ErrArenasMax
	}
	h.arenasMax = n
	return nil
}

// NArenasAuto returns the number of automatic arenas.
func (h *Heap) NArenasAuto() int {
	n := 0
	for _, a := range h.arenaList() {
		if a.auto.Load() {
			n++
		}
	}
	return n
}

// Automatic reports whether arena i is automatic.
func (h *Heap) Automatic(i int) bool { return h.Arena(i).auto.Load() }

// SetAutomatic makes arena i automatic or not; the last automatic arena
// stays one.
func (h *Heap) SetAutomatic(i int, auto bool) error {
	h.arenasMu.Lock()
	defer h.arenasMu.Unlock()
	a := h.Arena(i)
	if !auto && a.auto.Load() && h.NArenasAuto() <= 1 {
		return ErrLastAutoArena
	}
	a.auto.Store(auto)
	return nil
}

// ActiveSize returns the bytes of arena i's active runs (heap.arena.[id].
// size).
func (h *Heap) ActiveSize(i int) uint64 {
	a := h.Arena(i)
	a.mu.Lock()
	defer a.mu.Unlock()
	var n uint64
	for _, r := range a.active {
		if r != nil {
			n += uint64(r.sizeIdx) * layout.ChunkSize
		}
	}
	return n
}
