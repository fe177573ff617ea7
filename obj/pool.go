package obj

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/internal/pmem"
	"github.com/gopmdk/pmdk/obj/internal/ulog"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Sizes of a pool.
const (
	// MinPoolSize is PMEMOBJ_MIN_POOL: the smallest pool, 8 MiB.
	MinPoolSize = layout.MinPoolSize
	// MaxLayout is PMEMOBJ_MAX_LAYOUT: a layout name has fewer bytes.
	MaxLayout = layout.MaxLayout
	// MaxAllocSize is PMEMOBJ_MAX_ALLOC_SIZE: the largest object.
	MaxAllocSize = layout.MaxAllocSize
)

// Options tune Create and Open. nil means C's defaults.
type Options struct {
	// Layout is the pool's layout name: Create stores it (fewer than
	// MaxLayout bytes), Open refuses a pool created with another one
	// ([ErrLayout]). "" is C's NULL: Create stores an empty name, Open
	// does not check.
	Layout string
	// Arenas is the number of arenas allocations spread over, each with
	// its own active runs (C's heap.narenas); 0 means ctl's
	// heap.arenas_default_max if set, else GOMAXPROCS. One
	// arena makes object placement independent of which goroutine
	// allocates (deterministic tests).
	Arenas int
	// The options every pool type shares: read-only, shutdown state,
	// logger...
	pool.Options
}

// Pool is an open obj pool (PMEMobjpool). Its methods may be called from
// many goroutines at once; Close waits for the calls in progress.
type Pool struct {
	// closed is set by Close, which then waits until no lane is busy: every
	// call holds a lane, marked busy, and checks closed after marking it.
	closed atomic.Bool

	pp       *pool.Pool
	m        *pmem.Mem
	heap     *heap.Heap
	uuidLo   uint64
	layout   string
	readOnly bool
	lanes    lanes
	readers  readers
	rootMu   sync.Mutex
	// root mirrors root_offset and root_size, which only Root changes
	// (under rootMu): lookups need not touch the mapping.
	root  atomic.Pointer[[2]uint64]
	valid ulog.Valid // what a lane log may update
	runID uint64     // this open's run id: pmem locks of other runs are stale
	locks sync.Map   // pool offset of a pmem lock -> *lockState

	ctlState ctlPoolState
	userBufs userBufs
}

// Create creates an obj pool at path (pmemobj_create): a new file of
// poolsize bytes with permissions perm or, with poolsize 0, the existing
// file at path (whose header area must be zero). The pool must be at least
// [MinPoolSize] bytes. It returns the empty pool, open. opts may be nil.
//
// With poolsize 0, path may name a poolset file (man 5 poolset): the pool
// is created on its parts and replicas, as C does (see package core/pool).
func Create(path string, poolsize int64, perm os.FileMode, opts *Options) (*Pool, error) {
	o := options(opts)
	if len(o.Layout) >= MaxLayout {
		return nil, fmt.Errorf("obj: create %s: layout of %d bytes: %w", path, len(o.Layout), ErrLayout)
	}
	if poolsize < 0 {
		return nil, fmt.Errorf("obj: create %s: pool size %d: %w", path, poolsize, core.ErrInvalidArgument)
	}
	ctlInitGlobal()
	pp, err := pool.Create(path, poolsize, perm, objKind(), &o.Options)
	if err != nil {
		return nil, fmt.Errorf("obj: %w", err)
	}
	if ctlGlobals.prefaultAtCreate.Load() != 0 {
		prefault(pp.Map(), pp.ReadOnly())
	}
	p, err := format(pp, o)
	if err == nil {
		if err = ctlLoadPool(p); err != nil {
			p.Close()
		}
	}
	if err != nil {
		if poolsize > 0 {
			os.Remove(path)
		}
		return nil, fmt.Errorf("obj: create %s: %w", path, err)
	}
	return p, nil
}

// objKind is the kind of the pools Create makes: without the shutdown
// state feature when sds.at_create is off.
func objKind() pool.Kind {
	k := pool.Obj
	if ctlGlobals.sdsAtCreate.Load() == 0 {
		k.Incompat &^= pool.FeatSDS
	}
	return k
}

// opened finishes Open and OpenOnMap: the pool's configuration
// (PMEMOBJ_CONF, PMEMOBJ_CONF_FILE), which C loads after recovery.
func opened(p *Pool, err error) (*Pool, error) {
	if err != nil {
		return nil, err
	}
	if err := ctlLoadPool(p); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Open opens the obj pool at path (pmemobj_open): it validates the pool
// header and descriptor, checks the layout name if opts names one, and
// recovers what a crash interrupted: heap operations whose redo log was
// committed are completed, transactions in progress rolled back. The pool
// file is locked until Close.
//
// path may name a poolset file, as in C: every part and replica is opened
// and checked (see package core/pool).
func Open(path string, opts *Options) (*Pool, error) {
	o := options(opts)
	ctlInitGlobal()
	pp, err := pool.Open(path, pool.Obj, &o.Options)
	if err != nil {
		return nil, fmt.Errorf("obj: %w", err)
	}
	if ctlGlobals.prefaultAtOpen.Load() != 0 {
		prefault(pp.Map(), pp.ReadOnly())
	}
	p, err := opened(attach(pp, o))
	if err != nil {
		return nil, fmt.Errorf("obj: open %s: %w", path, err)
	}
	return p, nil
}

// CreateOnMap creates an empty pool on m, whose first page must be zero:
// for the crash simulator and callers with their own mapping. Close
// closes m.
func CreateOnMap(m *core.Map, opts *Options) (*Pool, error) {
	o := options(opts)
	if len(o.Layout) >= MaxLayout {
		return nil, fmt.Errorf("obj: create: layout of %d bytes: %w", len(o.Layout), ErrLayout)
	}
	ctlInitGlobal()
	pp, err := pool.CreateOnMap(m, objKind(), &o.Options)
	if err != nil {
		return nil, fmt.Errorf("obj: %w", err)
	}
	p, err := opened(format(pp, o))
	if err != nil {
		return nil, fmt.Errorf("obj: create on map: %w", err)
	}
	return p, nil
}

// OpenOnMap opens the pool on m, as Open does a file. Close closes m.
func OpenOnMap(m *core.Map, opts *Options) (*Pool, error) {
	o := options(opts)
	ctlInitGlobal()
	pp, err := pool.OpenOnMap(m, pool.Obj, &o.Options)
	if err != nil {
		return nil, fmt.Errorf("obj: %w", err)
	}
	p, err := opened(attach(pp, o))
	if err != nil {
		return nil, fmt.Errorf("obj: open on map: %w", err)
	}
	return p, nil
}

func options(opts *Options) Options {
	if opts == nil {
		return Options{}
	}
	return *opts
}

// format writes the descriptor, lanes and heap of a new pool after its
// header (obj_descr_create) and attaches to it.
func format(pp *pool.Pool, o Options) (*Pool, error) {
	m := pmem.New(pp.Map())
	size := m.Size() &^ (layout.PageSize - 1)
	d := layout.NewDescriptor(o.Layout)
	if d.HeapOffset+layout.HeapMinSize > size {
		pp.Close()
		return nil, fmt.Errorf("%w: no room for a heap (%d bytes)", ErrPoolTooSmall, size)
	}
	clear(m.Slice(layout.DescOffset, layout.LanesOffset-layout.DescOffset))
	// The lanes' logs, then one persist of the lane area, as C: on the
	// page cache one msync beats thousands of small ones.
	for i := range uint64(d.NLanes) {
		lo := d.LanesOffset + i*layout.LaneSize
		ulog.Construct(m, lo+layout.LaneInternalAt, layout.LaneInternalCapacity, 0, 0, false)
		ulog.Construct(m, lo+layout.LaneExternalAt, layout.LaneExternalCapacity, 0, 0, false)
		ulog.Construct(m, lo+layout.LaneUndoAt, layout.LaneUndoCapacity, 0, 0, false)
	}
	m.Persist(d.LanesOffset, d.NLanes*layout.LaneSize)
	heapSize := size - d.HeapOffset
	if err := heap.Format(m, d.HeapOffset, heapSize); err != nil {
		pp.Close()
		return nil, err
	}
	m.Store(layout.HeapSizeAt, heapSize)
	m.Persist(layout.HeapSizeAt, 8)
	d.Encode(m.B)
	m.Persist(layout.DescOffset, layout.DescSize)
	// run_id, root_offset, root_size, conversion flags and the reserved
	// bytes were zeroed above; persist them, with C's run-time area.
	m.Persist(layout.RootOffsetAt, layout.LanesOffset-layout.RootOffsetAt)
	return attach(pp, o)
}

// attach validates the descriptor, recovers the lanes, boots the heap and
// returns the Pool (obj_descr_check, obj_runtime_init).
func attach(pp *pool.Pool, o Options) (p *Pool, err error) {
	defer func() {
		if err != nil {
			pp.Close()
		}
	}()
	if h := pp.Header(); h.ForceReadOnly() && !o.ReadOnly {
		// The header allows reading only: C's pmemobj_open refuses the
		// pool ("read-only mode is not supported"); obj opens it only
		// when asked for read-only.
		return nil, fmt.Errorf("unknown ro_compat features %#x: the pool may only be opened read-only (Options.ReadOnly): %w",
			h.ROCompat&^pool.KnownROCompat, ErrReadOnly)
	}
	var g grower = pp
	if testGrower != nil {
		g = testGrower(pp)
	}
	m := pmem.NewIn(pp.Map(), g.Room())
	size := m.Size() &^ (layout.PageSize - 1)
	d, err := layout.DecodeDescriptor(m.B)
	if err != nil {
		return nil, err
	}
	if probs := d.Problems(size); len(probs) > 0 {
		return nil, errors.Join(probs...)
	}
	if o.Layout != "" && o.Layout != d.Layout {
		return nil, fmt.Errorf("%w: %q, pool created with %q", ErrLayout, o.Layout, d.Layout)
	}
	p = &Pool{pp: pp, m: m, uuidLo: layout.UUIDLo(pp.Header().PoolsetUUID), layout: d.Layout, readOnly: pp.ReadOnly()}
	p.ctlState.init()
	heapSize := m.Load(layout.HeapSizeAt)
	mapped := size - d.HeapOffset
	if heapSize == 0 {
		// Interrupted create, or a pool from before the field: C records
		// the mapped heap size at boot.
		heapSize = mapped
		m.Store(layout.HeapSizeAt, heapSize)
		m.Persist(layout.HeapSizeAt, 8)
	}
	if heapSize > mapped {
		return nil, core.Corrupt(layout.HeapSizeAt, "obj: heap_size larger than the pool", fmt.Sprintf("<= %d", mapped), heapSize)
	}
	// run_id: C bumps it by 2 at every open (never 0) so that pmem-
	// resident locks of an earlier run read as uninitialized.
	runID := m.Load(layout.RunIDAt)
	if runID%2 != 0 {
		return nil, core.Corrupt(layout.RunIDAt, "obj descriptor: run_id is odd", nil, runID)
	}
	if runID += 2; runID == 0 {
		runID = 2
	}
	m.Store(layout.RunIDAt, runID)
	m.Persist(layout.RunIDAt, 8)
	p.runID = runID
	valid := p.logTarget(d, func() uint64 { return heapSize })
	p.valid = valid
	for i := range d.NLanes {
		lo := d.LanesOffset + i*layout.LaneSize
		if err := ulog.RecoverRedo(m, lo+layout.LaneInternalAt, layout.LaneInternalCapacity, valid); err != nil {
			return nil, fmt.Errorf("lane %d internal redo log: %w", i, err)
		}
		if err := ulog.RecoverRedo(m, lo+layout.LaneExternalAt, layout.LaneExternalCapacity, valid); err != nil {
			return nil, fmt.Errorf("lane %d external redo log: %w", i, err)
		}
	}
	narenas := o.Arenas
	if narenas <= 0 {
		narenas = int(ctlGlobals.arenasDefaultMax.Load())
	}
	maxHeap := max(uint64(len(m.B))&^(layout.PageSize-1)-d.HeapOffset, heapSize)
	if p.heap, err = heap.BootMax(m, d.HeapOffset, heapSize, maxHeap, layout.DefaultClasses(), narenas); err != nil {
		return nil, err
	}
	if maxHeap > heapSize || uint64(len(m.B)) > m.Size() {
		p.valid = p.logTarget(d, p.heap.Size)
		valid = p.valid
		p.heap.SetExtend(func(by uint64) (uint64, error) { return p.extendHeap(g, int64(by)) })
	}
	for i := range d.NLanes {
		l := &lane{p: p, idx: i, off: d.LanesOffset + i*layout.LaneSize, arena: p.heap.Arena(0)}
		ext, err := ulog.RecoverUndo(m, l.off+layout.LaneUndoAt, layout.LaneUndoCapacity, valid)
		if err != nil {
			return nil, fmt.Errorf("lane %d undo log: %w", i, err)
		}
		// What recovery leaves linked is freed now, as C frees the undo
		// log's extensions at recovery and a redo log's at its next use.
		if len(ext) > 0 {
			if err := l.FreeNext(l.off + layout.LaneUndoAt); err != nil {
				return nil, fmt.Errorf("lane %d undo log: %w", i, err)
			}
		}
		if m.Load(l.externalLog()+layout.UlogNextAt) != 0 {
			if err := l.FreeNext(l.externalLog()); err != nil {
				return nil, fmt.Errorf("lane %d external redo log: %w", i, err)
			}
		}
	}
	// The conversion flags hold for the first recovery after a
	// conversion only.
	m.Store(layout.ConversionFlagsAt, 0)
	m.Persist(layout.ConversionFlagsAt, 8)
	p.root.Store(&[2]uint64{m.Load(layout.RootOffsetAt), m.Load(layout.RootSizeAt)})
	p.lanes.init(p, d.LanesOffset, d.NLanes)
	return p, nil
}

// grower is what the heap grows the pool through: the pool.Pool, or a
// crash test's stand-in for one on the crash simulator (testGrower).
type grower interface {
	Extend(size, minPart int64) (int64, error)
	Size() int64
	Room() []byte
}

// testGrower, when set by a test, replaces the pool.Pool as the grower of
// the pools attached.
var testGrower func(pp *pool.Pool) grower

// extendHeap grows the pool on its directory poolset by by bytes, or
// when by is 0 by heap.size.granularity bytes (0: never), as C's heap_extend: the new
// part is mapped (pool.Pool.Extend), then heap_size grows by what it
// added and is persisted; the heap then adds the new chunks. A crash
// before heap_size is persisted leaves the new part unused (the heap
// keeps its recorded size), one after it leaves the chunks to the next
// boot, which grows the last zone to the heap's size. It returns the new
// heap size; the heap lock is held.
func (p *Pool) extendHeap(pp grower, by int64) (uint64, error) {
	if by == 0 {
		by = p.ctlState.growSize.Load()
	}
	if by == 0 {
		return 0, ErrOutOfMemory
	}
	n, err := pp.Extend(by, minPart)
	if err != nil {
		return 0, err
	}
	p.m.Grow(uint64(pp.Size()))
	size := p.m.Load(layout.HeapSizeAt) + uint64(n)
	p.m.Store(layout.HeapSizeAt, size)
	p.m.Persist(layout.HeapSizeAt, 8)
	return size, nil
}

// logTarget returns what a lane log may update: the heap, the lanes, and
// the root object fields (OBJ_OFF_IS_VALID).
func (p *Pool) logTarget(d layout.Descriptor, heapSize func() uint64) ulog.Valid {
	lanesEnd := d.LanesOffset + d.NLanes*layout.LaneSize
	return func(off, n uint64) bool {
		end := off + n
		if end < off {
			return false
		}
		switch {
		case off >= d.HeapOffset && end <= d.HeapOffset+heapSize():
			return true
		case off >= d.LanesOffset && end <= lanesEnd:
			return true
		case off == layout.RootOffsetAt && n == 8, off == layout.RootSizeAt && n == 8:
			return true
		}
		return false
	}
}

// Close closes the pool (pmemobj_close): it waits for the calls in
// progress, clears the shutdown state's dirty flag and unmaps the pool. It
// returns the pool's write-back failure (core.ErrPersist), if any: after
// one, every change is refused with it.
// Slices and pointers into the pool must not be used afterwards. Close is
// idempotent.
func (p *Pool) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	p.lanes.waitIdle()
	p.readers.waitIdle()
	if !p.readOnly && p.m.Err() == nil {
		p.heap.PersistStats() // C's stats_delete
	}
	return p.pp.Close()
}

// enterRead starts a call that only reads the pool (a lookup): it needs
// no lane, only to keep Close from unmapping the pool under it. It returns
// the mark to give leaveRead.
func (p *Pool) enterRead() (*readerShard, error) {
	r := p.readers.enter()
	if p.closed.Load() {
		r.n.Add(-1)
		return nil, ErrClosed
	}
	return r, nil
}

func (p *Pool) leaveRead(r *readerShard) { r.n.Add(-1) }

// readers counts the reading calls in progress, in shards on their own
// cache lines: a call picks its shard by its stack's address, so calls of
// different goroutines seldom share a line, and no call takes a lane (a
// lookup inside a transaction leaves the lanes as they were).
type readers struct {
	shards [readerShards]readerShard
}

const readerShards = 16

type readerShard struct {
	n atomic.Int64
	_ [56]byte
}

func (rs *readers) enter() *readerShard {
	var onStack byte
	r := &rs.shards[(uintptr(unsafe.Pointer(&onStack))>>12)%readerShards]
	r.n.Add(1)
	return r
}

// waitIdle waits until no reading call is in progress.
func (rs *readers) waitIdle() {
	for i := range rs.shards {
		for rs.shards[i].n.Load() != 0 {
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// enter starts a call: it takes a lane, marks it busy and fails on a
// closed pool. No lock is shared between calls: Close finds them by the
// busy marks.
func (p *Pool) enter() (*lane, error) {
	l := p.lanes.get()
	if p.closed.Load() {
		p.leave(l)
		return nil, ErrClosed
	}
	return l, nil
}

// leave ends a call.
func (p *Pool) leave(l *lane) { p.lanes.put(l) }

// enterWrite is enter for calls that change the pool.
func (p *Pool) enterWrite() (*lane, error) {
	l, err := p.enter()
	if err != nil {
		return nil, err
	}
	if p.readOnly {
		p.leave(l)
		return nil, ErrReadOnly
	}
	if err := p.m.Err(); err != nil {
		// A write-back failed: what the pool holds on the media is not
		// known, so nothing more is written.
		p.leave(l)
		return nil, err
	}
	return l, nil
}

// isOpen reports whether the pool is not closed, for the accessors: after
// Close each returns its zero value, as the accessors of every pool type
// do (the methods that can fail return ErrClosed). It takes no lock, so an
// accessor may be called anywhere, inside a transaction too.
func (p *Pool) isOpen() bool { return !p.closed.Load() }

// Layout returns the pool's layout name; "" after Close.
func (p *Pool) Layout() string {
	if !p.isOpen() {
		return ""
	}
	return p.layout
}

// UUIDLo returns the pool_uuid_lo the pool's OIDs carry; 0 after Close.
func (p *Pool) UUIDLo() uint64 {
	if !p.isOpen() {
		return 0
	}
	return p.uuidLo
}

// ReadOnly reports whether the pool was opened read-only; false after
// Close.
func (p *Pool) ReadOnly() bool { return p.isOpen() && p.readOnly }

// Size returns the pool's size in bytes; 0 after Close.
func (p *Pool) Size() int64 {
	if !p.isOpen() {
		return 0
	}
	return int64(p.m.Size())
}

// Mapping returns the pool's whole mapping, offset 0 being the pool
// header (what pmemobj_direct's pointers point into); nil after Close. It
// is for code that keeps its own offsets into the pool, as OIDs do: check
// every offset read from the pool against the slice's length, and persist
// what is written through it ([Pool.Persist]), as for an object's bytes.
// The slice is valid until Close.
func (p *Pool) Mapping() []byte {
	if !p.isOpen() {
		return nil
	}
	n := p.m.Size()
	return p.m.B[:n:n]
}

// HeapSize returns the heap's size in bytes; 0 after Close.
func (p *Pool) HeapSize() int64 {
	if !p.isOpen() {
		return 0
	}
	return int64(p.heap.Size())
}
