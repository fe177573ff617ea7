package obj

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/internal/ulog"
	"github.com/gopmdk/pmdk/obj/layout"
)

// lane is one of the pool's lanes while a goroutine holds it: the pool
// offset of its logs, scratch space for building a redo log, and the arena
// its allocations go through.
type lane struct {
	p   *Pool
	idx uint64
	// hintAt is the P hint the lane was taken through (lanes.get), which
	// put updates; read and written by the holder only.
	hintAt int
	hint   uint64 // idx, for the hint pool (which takes pointers)
	off    uint64 // pool offset of the lane
	arena  *heap.Arena
	tx     txState // the transaction running in the lane
	// undoShort: the undo log chain holds no extension past the one a
	// transaction keeps for the next (learnt by the first that reads it).
	undoShort bool
	redo      ulog.Redo // the external log's
	ired      ulog.Redo // the internal log's: extensions of the others
	acts      []heap.Action
}

func (l *lane) externalLog() uint64 { return l.off + layout.LaneExternalAt }
func (l *lane) internalLog() uint64 { return l.off + layout.LaneInternalAt }

// lanes hands out the pool's lanes. Each lane has a held flag on its own
// cache line; a call takes a lane by setting it. Each P (the scheduler's
// processor) remembers the lane the last call there gave back, so a
// goroutine usually takes the lane (and arena) it had, touching no shared
// line: C's per-thread primary lane. When its P has no hint yet or the
// lane is taken, the lanes are tried from the first: a single goroutine
// comes back to lane 0 and its arena wherever it runs, so its runs do not
// spread over every arena, and a workload run twice takes the same lanes
// (a lane keeps an undo log extension for its next transaction, so its
// fences depend on the lane: the crash simulator needs them the same in
// every run, TestCrashTransactionsFencesIndependentOfGC). The held flags
// are also what Close waits on.
//
// The hints were a sync.Pool once: its Get and Put, with their write
// barriers, were a sixth of an empty transaction with two goroutines.
// Lanes fixed by P (hal.SlotsByP, as blk has them) would give a
// goroutine that moves between Ps another lane, and other fences.
type lanes struct {
	p     *Pool
	off   uint64 // pool offset of lane 0
	n     uint64 // lanes in the pool
	slots []laneSlot
	hints []laneHint // by P id (modulo their number)
}

// laneSlot is one lane's held flag and value, alone on a cache line.
type laneSlot struct {
	held atomic.Uint64 // 1 while a call holds the lane
	l    *lane
	_    [48]byte
}

// laneHint is a P's hint, alone on a cache line: 1 + the index of the lane
// last given back there, 0 for none.
type laneHint struct {
	lane atomic.Uint64
	_    [56]byte
}

func (ls *lanes) init(p *Pool, off, n uint64) {
	ls.p, ls.off, ls.n = p, off, n
	ls.slots = make([]laneSlot, n)
	ls.hints = make([]laneHint, runtime.GOMAXPROCS(0))
	// The lanes share the automatic arenas, or all use the first with
	// heap.arenas_assignment_type global (C assigns threads likewise).
	var auto []*heap.Arena
	for i := range p.heap.NArenas() {
		if a := p.heap.Arena(i); p.heap.Automatic(i) {
			auto = append(auto, a)
		}
	}
	if ArenasAssignment(ctlGlobals.arenasAssignment.Load()) == ArenasGlobal {
		auto = auto[:1]
	}
	for i := range ls.slots {
		idx := uint64(i)
		ls.slots[i].l = &lane{p: p, idx: idx, off: off + idx*layout.LaneSize, arena: auto[i%len(auto)]}
	}
}

// get returns a lane for the caller's exclusive use until put.
func (ls *lanes) get() *lane {
	p := hal.CurrentP()
	if p >= len(ls.hints) {
		p %= len(ls.hints) // rare (GOMAXPROCS raised since open): no division otherwise
	}
	h := &ls.hints[p]
	if i := h.lane.Load(); i != 0 {
		if s := &ls.slots[i-1]; s.held.CompareAndSwap(0, 1) {
			s.l.hintAt = p
			return s.l
		}
	}
	for {
		for i := range ls.slots {
			if s := &ls.slots[i]; s.held.Load() == 0 && s.held.CompareAndSwap(0, 1) {
				s.l.hintAt = p
				return s.l
			}
		}
		// Every lane is held (more calls in flight than lanes).
		runtime.Gosched()
	}
}

// put gives the lane back. Its stores are release stores, without a
// locked instruction (a taker compares and swaps). The hint it sets is
// that of the P the lane was taken on (the goroutine may have moved since:
// a hint is only a hint), written only when it changes.
func (ls *lanes) put(l *lane) {
	h := &ls.hints[l.hintAt]
	hal.StoreRelease64((*uint64)(unsafe.Pointer(&ls.slots[l.idx].held)), 0)
	if h.lane.Load() != l.idx+1 {
		hal.StoreRelease64((*uint64)(unsafe.Pointer(&h.lane)), l.idx+1)
	}
}

// waitIdle waits until no lane is held: Close, after it has set closed,
// waits so for the calls in progress.
func (ls *lanes) waitIdle() {
	for i := range ls.slots {
		for ls.slots[i].held.Load() != 0 {
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// Sizes C asks for log extensions: a log of the external log's capacity,
// or of tx.cache.size (32 KiB by default) for the undo log, cache-line
// aligned wherever the object lands (SIZEOF_ALIGNED_ULOG).
const extRequest = (layout.UlogHeaderSize + layout.LaneExternalCapacity + 3*layout.CacheLine - 1) &^ (layout.CacheLine - 1)

// undoExtRequest is the size of an undo log extension for a cache size
// (tx.cache.size).
func undoExtRequest(cacheSize uint64) uint64 {
	return (layout.UlogHeaderSize + cacheSize + 3*layout.CacheLine - 1) &^ (layout.CacheLine - 1)
}

// Extend allocates a log extension for the external redo log and links
// it after the log at prev (lane_redo_extend).
func (l *lane) Extend(prev uint64) (off, capacity uint64, err error) {
	return (&laneExt{l: l, size: extRequest}).Extend(prev)
}

// laneExt extends a lane's log with logs of size bytes whose generation is
// gen, allocated through the lane's internal log.
type laneExt struct {
	l    *lane
	size uint64
	gen  uint64
}

// Extend allocates an internal object whose constructor builds an empty
// ulog at its first cache line, and links it after the log at prev, in
// one publication of the internal log.
func (e *laneExt) Extend(prev uint64) (off, capacity uint64, err error) {
	l := e.l
	p := l.p
	req := heap.Request{Size: e.size, Flags: layout.ObjInternal, Ctor: func(b []byte) error {
		start, _ := p.m.Offset(unsafe.Pointer(unsafe.SliceData(b)))
		off = layout.AlignedUlogOffset(start)
		capacity = (uint64(len(b)) - layout.UlogHeaderSize) &^ (layout.CacheLine - 1)
		if d := off - start; d > 0 {
			capacity = (capacity - d) &^ (layout.CacheLine - 1)
		}
		ulog.Construct(p.m, off, capacity, e.gen, 0, true)
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

// FreeNext frees the logs chained after the log at off.
func (e *laneExt) FreeNext(off uint64) error { return e.l.FreeNext(off) }

// userLogs extends the commit's redo log with the user's buffers first
// (pmemobj_tx_log_append_buffer of TX_LOG_TYPE_INTENT), then, if auto, with
// logs from the heap.
type userLogs struct {
	l    *lane
	bufs [][2]uint64 // pool offset and capacity of each buffer's log
	auto bool
}

func (u *userLogs) Extend(prev uint64) (off, capacity uint64, err error) {
	if len(u.bufs) > 0 {
		b := u.bufs[0]
		u.bufs = u.bufs[1:]
		linkUserLog(u.l.p, prev, b[0], b[1], 0)
		return b[0], b[1], nil
	}
	if !u.auto {
		return 0, 0, ulog.ErrFull
	}
	return u.l.Extend(prev)
}

func (u *userLogs) FreeNext(off uint64) error { return u.l.FreeNext(off) }

// linkUserLog builds an empty user-owned log at off and links it after the
// log at prev, durably (operation_add_user_buffer).
func linkUserLog(p *Pool, prev, off, capacity, gen uint64) {
	ulog.Construct(p.m, off, capacity, gen, layout.UlogUserOwned, true)
	p.m.Drain()
	p.m.Store(prev+layout.UlogNextAt, off)
	p.m.Persist(prev+layout.UlogNextAt, 8)
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
