package hal

import (
	"runtime"
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname
)

// ProcPin pins the calling goroutine to its P (the scheduler's processor)
// and returns the P's id: until ProcUnpin the goroutine is the only one
// running there and is not preempted, so per-P state is its own without a
// lock. Keep pinned sections short and free of blocking calls. sync.Pool
// is built on the same pair, reached by linkname, which the runtime keeps
// working for it ("widely used packages access it using linkname",
// runtime/proc.go).
//
//go:linkname ProcPin runtime.procPin
func ProcPin() int

// ProcUnpin ends what ProcPin began.
//
//go:linkname ProcUnpin runtime.procUnpin
func ProcUnpin()

// CurrentP returns the id of the P the caller runs on: a hint, since the
// goroutine may move right after.
func CurrentP() int {
	id := ProcPin()
	ProcUnpin()
	return id
}

// SlotsByP gives each P one of n slots (a pool library's lanes), in the
// order of the Ps' first calls: the first caller after creation gets slot
// 0 whichever P runs it, as C's first thread gets lane 0, and two
// goroutines running at once on two Ps get two slots without writing a
// shared word. Ps past the GOMAXPROCS of creation share slots by their id.
type SlotsByP struct {
	n    int
	byP  []atomic.Int32 // each P's slot, -1 until its first call
	mu   sync.Mutex
	next int // the slot the next P to call gets
}

// NewSlotsByP returns slots for n > 0 slots.
func NewSlotsByP(n int) *SlotsByP {
	s := &SlotsByP{n: n, byP: make([]atomic.Int32, runtime.GOMAXPROCS(0))}
	for i := range s.byP {
		s.byP[i].Store(-1)
	}
	return s
}

// Slot returns the slot of the caller's P.
func (s *SlotsByP) Slot() int {
	pid := CurrentP()
	if pid >= len(s.byP) {
		return pid % s.n
	}
	if l := s.byP[pid].Load(); l >= 0 {
		return int(l)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.byP[pid].Load(); l >= 0 {
		return int(l)
	}
	l := s.next % s.n
	s.next++
	s.byP[pid].Store(int32(l))
	return l
}
