package obj

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/internal/ulog"
	"github.com/gopmdk/pmdk/obj/layout"
)

// lane is one of the pool's lanes while a goroutine holds it: the pool
// offset of its logs, scratch space for building a redo log, and the arena
// its allocations go through.
type lane struct {
	p     *Pool
	idx   uint64
	off   uint64 // pool offset of the lane
	arena *heap.Arena
	redo  ulog.Redo // the external log's
	ired  ulog.Redo // the internal log's: extensions of the others
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
	off     uint64 // pool offset of lane 0
	n       uint64 // lanes in the pool
	cache   sync.Pool
	waiting atomic.Int32

	busy []busyFlag // per lane index: a call holds the lane

	mu      sync.Mutex
	cond    sync.Cond
	free    []uint64 // lane indexes no lane value holds
	handoff []*lane  // lanes released while callers wait
	next    int      // next arena to give a new lane
}

func (ls *lanes) init(p *Pool, off, n uint64) {
	ls.p, ls.off, ls.n = p, off, n
	ls.busy = make([]busyFlag, n)
	ls.cond.L = &ls.mu
	ls.free = make([]uint64, n)
	for i := range ls.free {
		ls.free[i] = n - 1 - uint64(i)
	}
}

// busyFlag is a lane's busy mark, alone on its cache line: only the
// goroutine holding the lane writes it.
type busyFlag struct {
	v atomic.Bool
	_ [63]byte
}

// waitIdle waits until no lane is busy: Close, after it has set closed,
// waits so for the calls in progress.
func (ls *lanes) waitIdle() {
	for i := range ls.busy {
		for ls.busy[i].v.Load() {
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// get returns a lane for the caller's exclusive use until put.
func (ls *lanes) get() *lane {
	if raceEnabled {
		return ls.getSlow()
	}
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
	l := &lane{p: ls.p, idx: idx, off: ls.off + idx*layout.LaneSize, arena: h.Arena(ls.next % h.NArenas())}
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
	if raceEnabled || ls.waiting.Load() > 0 {
		ls.mu.Lock()
		ls.handoff = append(ls.handoff, l)
		ls.cond.Signal()
		ls.mu.Unlock()
		return
	}
	ls.cache.Put(l)
}

// extRequest is the size C asks for a log extension: a log of the
// external log's capacity, cache-line aligned wherever the object lands
// (SIZEOF_ALIGNED_ULOG).
const extRequest = (layout.UlogHeaderSize + layout.LaneExternalCapacity + 2*layout.CacheLine + layout.CacheLine - 1) &^ (layout.CacheLine - 1)

// Extend allocates a log extension and links it after the log at prev,
// through the lane's internal log (lane_redo_extend): an internal object
// whose constructor builds an empty ulog at its first cache line.
func (l *lane) Extend(prev uint64) (off, capacity uint64, err error) {
	p := l.p
	req := heap.Request{Size: extRequest, Flags: layout.ObjInternal, Ctor: func(b []byte) error {
		start, _ := p.m.Offset(unsafe.Pointer(unsafe.SliceData(b)))
		off = layout.AlignedUlogOffset(start)
		capacity = (uint64(len(b)) - layout.UlogHeaderSize) &^ (layout.CacheLine - 1)
		if d := off - start; d > 0 {
			capacity = (capacity - d) &^ (layout.CacheLine - 1)
		}
		ulog.Construct(p.m, off, capacity, 0, 0, true)
		return nil
	}}
	act, err := p.heap.Reserve(l.arena, req)
	if err != nil {
		return 0, 0, err
	}
	acts := []heap.Action{act, {Kind: heap.ActSet, Dst: prev + layout.UlogNextAt, Val: act.Block.Off}}
	if err := p.heap.Publish(acts, &l.ired, l.internalLog(), layout.LaneInternalCapacity, nil); err != nil {
		p.heap.Cancel(acts)
		return 0, 0, err
	}
	return off, capacity, nil
}

// FreeNext frees the logs chained after the log at off, last first, each
// unlinked with its free (ulog_free_next). A link to something that is
// not one of the library's objects (a user's buffer) is only cut.
func (l *lane) FreeNext(off uint64) error {
	p := l.p
	links := []uint64{off + layout.UlogNextAt}
	for next := p.m.Load(links[0]); next != 0 && len(links) <= 1<<20; {
		lo := layout.AlignedUlogOffset(next)
		if lo > p.m.Size()-layout.UlogHeaderSize {
			break
		}
		links = append(links, lo+layout.UlogNextAt)
		next = p.m.Load(lo + layout.UlogNextAt)
	}
	for i := len(links) - 2; i >= 0; i-- {
		link := links[i]
		next := p.m.Load(link)
		b, err := p.heap.BlockAt(next)
		flags := p.m.Load(layout.AlignedUlogOffset(next) + layout.UlogFlagsAt)
		if err != nil || flags&layout.UlogUserOwned != 0 || p.heap.Header(&b).Flags&layout.ObjInternal == 0 {
			p.m.Store(link, 0)
			p.m.Persist(link, 8)
			continue
		}
		acts := []heap.Action{{Kind: heap.ActFree, Block: b}, {Kind: heap.ActSet, Dst: link, Val: 0}}
		if err := p.heap.Publish(acts, &l.ired, l.internalLog(), layout.LaneInternalCapacity, nil); err != nil {
			return err
		}
	}
	return nil
}
