package vmemcache

import (
	"math/rand/v2"
	"testing"
)

// TestAllocator checks random allocations and frees against an ownership
// map: runs never overlap, free space is always fully coalesced (no two
// free runs touch), and the counters agree.
func TestAllocator(t *testing.T) {
	const units, unit = 1000, 256
	a := newAllocator(make([]byte, units*unit), unit)
	owner := make([]int, units) // 0 free, else the run's id
	type run struct{ s, n int64 }
	live := map[int]run{}
	r := rand.New(rand.NewPCG(3, 4))
	check := func(step int) {
		t.Helper()
		var free, runs int64
		for u := int64(0); u < units; u++ {
			if owner[u] != 0 {
				continue
			}
			free++
			if u == 0 || owner[u-1] != 0 {
				runs++
				if !bit(a.freeStart, u) {
					t.Fatalf("step %d: free run at %d not marked", step, u)
				}
			}
		}
		if free != a.freeUnits || runs != a.freeRuns {
			t.Fatalf("step %d: %d free units in %d runs, allocator says %d in %d", step, free, runs, a.freeUnits, a.freeRuns)
		}
	}
	id := 0
	for step := range 20000 {
		if r.IntN(2) == 0 || len(live) == 0 {
			want := int64(1 + r.IntN(40))
			var longest, cur int64
			for u := range int64(units) {
				if owner[u] == 0 {
					cur++
					longest = max(longest, cur)
				} else {
					cur = 0
				}
			}
			s, got := a.alloc(want)
			if got == 0 {
				if a.freeUnits != 0 {
					t.Fatalf("step %d: nothing allocated with %d free", step, a.freeUnits)
				}
				continue
			}
			if got > want || got < min(want, longest) || s < 0 || s+got > units {
				t.Fatalf("step %d: alloc(%d) = %d, %d", step, want, s, got)
			}
			id++
			for u := s; u < s+got; u++ {
				if owner[u] != 0 {
					t.Fatalf("step %d: unit %d handed out twice", step, u)
				}
				owner[u] = id
			}
			live[id] = run{s, got}
		} else {
			for k, ru := range live {
				a.free(ru.s, ru.n)
				for u := ru.s; u < ru.s+ru.n; u++ {
					owner[u] = 0
				}
				delete(live, k)
				break
			}
		}
		check(step)
	}
	for _, ru := range live {
		a.free(ru.s, ru.n)
	}
	if a.freeRuns != 1 || a.freeUnits != units {
		t.Errorf("all freed: %d units in %d runs", a.freeUnits, a.freeRuns)
	}
}

func TestCheckUnits(t *testing.T) {
	if err := checkUnits(1<<40, 256); err == nil {
		t.Error("2^32 extents accepted")
	}
	if err := checkUnits(1<<40-256, 256); err != nil {
		t.Errorf("2^32-1 extents refused: %v", err)
	}
}
