package blk

import (
	"sync"

	"github.com/gopmdk/pmdk/hal"
)

// lanes hands out the BTT's lanes, one per call in progress, each a mutex
// held for the call; Close and Check take them all to wait for the calls
// in progress.
//
// C takes lane next_lane++ % nlane, an atomic add on one shared word, then
// the lane's mutex: two threads write that word's cache line in turn on
// every call, and one that stalls holding a lane (preempted on a busy
// machine) soon has the other wait on its mutex. Here a call takes the
// lane of the P (the scheduler's processor) it runs on, so two goroutines
// running at once take two lanes and each P keeps its lane's mutex and
// flog state in its own cache, writing nothing another P writes. Lanes go
// to Ps in the order of their first call: the first call after open
// writes through lane 0 whichever P runs it, as C's first call does (and
// tests that find the blocks a write touches in one open can break them
// in the next). Only a call finding its P's lane held (its holder
// preempted, or more Ps than lanes) tries the other lanes, and waits for
// its own when all are held.
//
// A sync.Pool of lanes gives the same affinity, but its Get and Put cost
// a random-block read about 100 ns more on a 2-core AMD EPYC (the read is
// bound by the misses of its copy, and the pool's code delays the next
// read's loads); pinning costs two non-atomic stores.
type lanes struct {
	all []lane
	byP *hal.SlotsByP
}

// lane is the per-lane state of the Pool.
type lane struct {
	sync.Mutex
	_ [56]byte // a cache line per lane
}

// init makes n lanes.
func (ls *lanes) init(n int) {
	ls.all = make([]lane, n)
	ls.byP = hal.NewSlotsByP(n)
}

// lock takes a lane and returns it.
func (ls *lanes) lock() int {
	n := len(ls.all)
	l := ls.byP.Slot()
	for i := range n {
		if k := (l + i) % n; ls.all[k].TryLock() {
			return k
		}
	}
	ls.all[l].Lock()
	return l
}

func (ls *lanes) unlock(l int) { ls.all[l].Unlock() }

func (ls *lanes) lockAll() {
	for i := range ls.all {
		ls.all[i].Lock()
	}
}

func (ls *lanes) unlockAll() {
	for i := range ls.all {
		ls.all[i].Unlock()
	}
}
