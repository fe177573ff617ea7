package blk

import (
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname
)

// procPin pins the calling goroutine to its P and returns the P's id;
// procUnpin undoes it. sync.Pool is built on them. They are reached by
// linkname, which the runtime keeps working for this pair ("widely used
// packages access it using linkname", runtime/proc.go).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

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
	byP []atomic.Int32 // each P's lane, -1 until the P's first call

	mu   sync.Mutex
	next int // the lane the next P to call gets
}

// lane is the per-lane state of the Pool.
type lane struct {
	sync.Mutex
	_ [56]byte // a cache line per lane
}

// init makes n lanes for up to procs Ps (more Ps share them).
func (ls *lanes) init(n, procs int) {
	ls.all = make([]lane, n)
	ls.byP = make([]atomic.Int32, procs)
	for i := range ls.byP {
		ls.byP[i].Store(-1)
	}
	ls.next = 0
}

// lock takes a lane and returns it.
func (ls *lanes) lock() int {
	n := len(ls.all)
	pid := procPin()
	procUnpin()
	l := pid % n
	if pid < len(ls.byP) {
		if l = int(ls.byP[pid].Load()); l < 0 {
			l = ls.assign(pid)
		}
	}
	for i := range n {
		if k := (l + i) % n; ls.all[k].TryLock() {
			return k
		}
	}
	ls.all[l].Lock()
	return l
}

// assign gives P pid its lane, at its first call.
func (ls *lanes) assign(pid int) int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l := ls.byP[pid].Load(); l >= 0 {
		return int(l)
	}
	l := ls.next % len(ls.all)
	ls.next++
	ls.byP[pid].Store(int32(l))
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
