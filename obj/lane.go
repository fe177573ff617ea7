package obj

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/internal/ulog"
	"github.com/gopmdk/pmdk/obj/layout"
)

// lane is one of the pool's lanes while a goroutine holds it: the pool
// offset of its logs, scratch space for building a redo log, and the arena
// its allocations go through.
type lane struct {
	idx   uint64
	off   uint64 // pool offset of the lane
	arena *heap.Arena
	redo  ulog.Redo
	acts  []heap.Action
}

func (l *lane) externalLog() uint64 { return l.off + layout.LaneExternalAt }
func (l *lane) internalLog() uint64 { return l.off + layout.LaneInternalAt }

// lanes hands out the pool's lanes. Lanes are cached per P in a
// sync.Pool, so a goroutine usually gets the lane (and arena) the last
// call on its P used, with no shared lock: C's per-thread primary lane.
// A lane the sync.Pool drops is returned by a cleanup when the garbage
// collector frees it. When all lanes are out, callers wait for one.
type lanes struct {
	p       *Pool
	off     uint64
	cache   sync.Pool
	waiting atomic.Int32

	mu      sync.Mutex
	cond    sync.Cond
	free    []uint64 // lane indexes no lane value holds
	handoff []*lane  // lanes released while callers wait
	next    int      // next arena to give a new lane
}

func (ls *lanes) init(p *Pool, off, n uint64) {
	ls.p, ls.off = p, off
	ls.cond.L = &ls.mu
	ls.free = make([]uint64, n)
	for i := range ls.free {
		ls.free[i] = n - 1 - uint64(i)
	}
}

// get returns a lane for the caller's exclusive use until put.
func (ls *lanes) get() *lane {
	if l, _ := ls.cache.Get().(*lane); l != nil {
		return l
	}
	return ls.getSlow()
}

func (ls *lanes) getSlow() *lane {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for {
		if n := len(ls.handoff); n > 0 {
			l := ls.handoff[n-1]
			ls.handoff = ls.handoff[:n-1]
			return l
		}
		if n := len(ls.free); n > 0 {
			idx := ls.free[n-1]
			ls.free = ls.free[:n-1]
			return ls.newLane(idx)
		}
		// Every lane is held or cached: look in the cache again (a lane
		// may have been put back before we registered), then wait.
		ls.waiting.Add(1)
		ls.mu.Unlock()
		l, _ := ls.cache.Get().(*lane)
		ls.mu.Lock()
		if l != nil {
			ls.waiting.Add(-1)
			return l
		}
		if len(ls.handoff) == 0 && len(ls.free) == 0 {
			ls.cond.Wait()
		}
		ls.waiting.Add(-1)
	}
}

// newLane makes the lane value of index idx. ls.mu is held.
func (ls *lanes) newLane(idx uint64) *lane {
	h := ls.p.heap
	l := &lane{idx: idx, off: ls.off + idx*layout.LaneSize, arena: h.Arena(ls.next % h.NArenas())}
	ls.next++
	runtime.AddCleanup(l, ls.release, idx)
	return l
}

// release makes a lane index free again once its lane value is gone.
func (ls *lanes) release(idx uint64) {
	ls.mu.Lock()
	ls.free = append(ls.free, idx)
	ls.cond.Signal()
	ls.mu.Unlock()
}

// put gives the lane back.
func (ls *lanes) put(l *lane) {
	if ls.waiting.Load() > 0 {
		ls.mu.Lock()
		ls.handoff = append(ls.handoff, l)
		ls.cond.Signal()
		ls.mu.Unlock()
		return
	}
	ls.cache.Put(l)
}
