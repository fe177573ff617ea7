package vmemcache

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestTable inserts and deletes entries whose hashes fall on few home
// slots (long probe runs, wrapping around the table's end, equal hashes)
// and checks after each step that every live entry is found from its
// home slot before an empty one, and that growth keeps them all.
func TestTable(t *testing.T) {
	var head atomic.Uint64
	var sh shard
	sh.init(&head)
	r := rand.New(rand.NewPCG(5, 7))
	live := map[uint32]uint64{} // first → hash
	next := uint32(1)
	find := func(h uint64, first uint32) int {
		mask := len(sh.table) - 1
		for i := sh.home(h); sh.table[i].first != 0; i = (i + 1) & mask {
			if sh.table[i].first == first {
				return i
			}
		}
		return -1
	}
	for step := range 20000 {
		if len(live) == 0 || len(live) < 400 && r.IntN(5) < 3 {
			// Few distinct homes: the top of the table, to wrap.
			h := uint64(len(sh.table)-1-r.IntN(3)) << 16
			if r.IntN(10) == 0 {
				h = uint64(r.Uint32()) << 16
			}
			sh.tableInsert(h, next, 0)
			live[next] = h
			next++
		} else {
			for f, h := range live {
				i := find(h, f)
				if i < 0 {
					t.Fatalf("step %d: %d lost", step, f)
				}
				sh.tableDelete(i)
				delete(live, f)
				break
			}
		}
		if sh.count != len(live) {
			t.Fatalf("step %d: count %d, want %d", step, sh.count, len(live))
		}
		if step%97 == 0 || len(live) < 20 {
			for f, h := range live {
				if find(h, f) < 0 {
					t.Fatalf("step %d: %d (hash %#x) not found", step, f, h)
				}
			}
		}
	}
	if len(sh.table) <= minTable {
		t.Errorf("the table never grew (%d slots)", len(sh.table))
	}
}
