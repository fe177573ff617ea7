package hal

import (
	"runtime"
	"sync"
	"testing"
)

func TestSlotsByP(t *testing.T) {
	s := NewSlotsByP(3)
	if got := s.Slot(); got != 0 {
		t.Fatalf("first caller's slot %d, want 0", got)
	}
	// A pinned goroutine stays on its P: its slot does not change.
	pid := ProcPin()
	a, b := s.Slot(), s.Slot()
	ProcUnpin()
	if a != b {
		t.Fatalf("P %d got slots %d then %d", pid, a, b)
	}
	// Every P gets a slot in range, and distinct Ps distinct slots while
	// there are enough.
	var wg sync.WaitGroup
	var mu sync.Mutex
	byP := map[int]int{}
	for range 8 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			pid := ProcPin()
			l := s.Slot()
			ProcUnpin()
			if l < 0 || l >= 3 {
				t.Errorf("slot %d of 3", l)
			}
			mu.Lock()
			byP[pid] = l
			mu.Unlock()
		})
	}
	wg.Wait()
	seen := map[int]int{}
	for p, l := range byP {
		if q, ok := seen[l]; ok && len(byP) <= 3 {
			t.Errorf("Ps %d and %d share slot %d", p, q, l)
		}
		seen[l] = p
	}
}
