package heap

import (
	"sync"
	"sync/atomic"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/internal/ulog"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Arena holds one active run per allocation class; allocations through
// different arenas do not contend (C's per-thread arenas).
type Arena struct {
	mu     sync.Mutex
	active [layout.MaxClasses]*run
	auto   atomic.Bool // given to lanes (C's automatic arenas)
	idx    int         // index in the heap's arenas
}

// ID returns the arena's 1-based id (ctl's and POBJ_ARENA_ID's).
func (a *Arena) ID() int { return a.idx + 1 }

// Block is where an object lies.
type Block struct {
	run     *run // nil for a huge block
	zone    uint32
	chunk   uint32 // first chunk (of the run, or of the huge block)
	unit    uint32 // first unit in the run
	n       uint32 // units in the run, or chunks
	hdrType layout.HeaderType
	// hdrDirty: Reserve wrote the header, not yet flushed (Publish and
	// Cancel flush it, after the caller's stores to the object: a store
	// to a line whose write-back is in flight waits for it).
	hdrDirty bool
	HdrOff   uint64 // pool offset of the object header
	Off      uint64 // pool offset of the user data
	Size     uint64 // usable size in bytes
}

// Huge reports whether the block is whole chunks.
func (b *Block) Huge() bool { return b.run == nil }

// realSize is the block's size, header included.
func (b *Block) realSize() uint64 { return b.Size + b.hdrType.Size() }

// ActionKind tells what an Action does when published.
type ActionKind uint8

const (
	ActAlloc ActionKind = iota + 1 // make a reserved block allocated
	ActFree                        // make an allocated block free
	ActSet                         // set a word
)

// Action is one change a publication makes (struct pobj_action).
type Action struct {
	Kind  ActionKind
	Block Block   // ActAlloc, ActFree
	Dst   uint64  // ActSet: pool offset of the word, when DstPtr is nil
	Ptr   *uint64 // ActSet: a word outside the pool (transient)
	Val   uint64  // ActSet: the value
}

// Request describes an allocation.
type Request struct {
	Size    uint64 // user bytes, > 0
	TypeNum uint64
	Flags   uint16 // object flags (layout.ObjInternal)
	ClassID uint8  // 0: the class C picks for Size
	Zero    bool   // zero the usable bytes
	// Flushed: the caller flushes the usable bytes before it publishes (a
	// transaction's commit does), so the zeroing and the allocation
	// pattern are ordinary stores, left in the cache for the caller's.
	Flushed bool
	// Ctor, if not nil, initializes the usable bytes before the object
	// can be published; its error cancels the reservation. The bytes are
	// flushed after it returns.
	Ctor func(b []byte) error
}

// Reserve reserves a block for req through arena a and writes its object
// header (flushed, not drained): the block is the caller's until it
// publishes or cancels the returned action.
func (h *Heap) Reserve(a *Arena, req Request) (Action, error) {
	if req.Size == 0 || req.Size > layout.MaxAllocSize {
		return Action{}, ErrSize
	}
	var c *layout.Class
	if req.ClassID == 0 {
		c = h.Classes().ForSize(req.Size)
	} else if c = h.Classes().ByID(req.ClassID); c == nil {
		return Action{}, ErrClass
	}
	units := c.Units(req.Size)
	if units == 0 {
		return Action{}, ErrSize
	}
	var b Block
	if c.Type == layout.ClassHuge {
		if units > layout.MaxChunk {
			return Action{}, ErrNoSpace
		}
		e, err := h.takeChunks(uint32(units))
		if err != nil {
			return Action{}, err
		}
		ch := h.loadChunkHeader(e.zone, e.chunk)
		if f := c.HeaderType.Flag(); ch.Flags&f != f {
			ch.Flags |= f
			h.writeChunkHeader(e.zone, e.chunk, ch)
		}
		b = Block{zone: e.zone, chunk: e.chunk, n: e.size, hdrType: ch.HeaderType()}
		b.HdrOff = h.chunkOff(e.zone, e.chunk)
		b.Size = uint64(e.size)*layout.ChunkSize - b.hdrType.Size()
	} else {
		r, unit, err := h.reserveInRun(a, c, uint32(units))
		if err != nil {
			return Action{}, err
		}
		b = Block{run: r, zone: r.zone, chunk: r.chunk, unit: unit, n: uint32(units), hdrType: r.hdrType}
		b.HdrOff = r.dataOff + uint64(unit)*r.unit
		b.Size = units*r.unit - r.hdrType.Size()
	}
	b.Off = b.HdrOff + b.hdrType.Size()
	h.writeObjectHeader(&b, req.TypeNum, req.Flags)
	fill := core.MemNoDrain
	if req.Flushed {
		fill |= core.MemNoFlush
	}
	if pat := h.allocPattern.Load(); pat >= 0 {
		h.m.Set(b.Off, b.Size, byte(pat), fill)
	}
	if req.Zero {
		h.m.Set(b.Off, b.Size, 0, fill)
	}
	if req.Ctor != nil {
		if err := req.Ctor(h.m.Slice(b.Off, b.Size)); err != nil {
			h.Cancel([]Action{{Kind: ActAlloc, Block: b}})
			return Action{}, err
		}
		h.m.Flush(b.Off, b.Size)
	}
	return Action{Kind: ActAlloc, Block: b}, nil
}

// writeObjectHeader writes b's header, not flushed (b.hdrDirty says it
// needs it: Publish and Cancel flush it). A block
// reused for an object like its last one (same size, type and flags, as
// in a loop of allocations and frees) already holds that header, durably
// (it was published, or cancelled with a drain): it is left alone, which
// saves the allocation a flush and its wait.
func (h *Heap) writeObjectHeader(b *Block, typeNum uint64, flags uint16) {
	// Encoded in place and flushed: a local buffer handed to the persister
	// (an interface) would be allocated on every call.
	switch b.hdrType {
	case layout.HeaderCompact:
		var hdr [layout.CompactHeaderSize]byte
		layout.EncodeCompactHeader(hdr[:], b.realSize(), typeNum, flags)
		cur := h.m.Slice(b.HdrOff, layout.CompactHeaderSize)
		if string(cur) == string(hdr[:]) {
			return
		}
		copy(cur, hdr[:])
		b.hdrDirty = true
	case layout.HeaderLegacy:
		layout.EncodeLegacyHeader(h.m.Slice(b.HdrOff, layout.LegacyHeaderSize), b.realSize(), typeNum, flags)
		b.hdrDirty = true
	}
}

// reserveInRun reserves units in the arena's active run of class c,
// taking another run (one with free units, or a new one) when it is full.
func (h *Heap) reserveInRun(a *Arena, c *layout.Class, units uint32) (*run, uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.active[c.ID]
	for {
		if r != nil {
			r.mu.Lock()
			unit, ok := r.reserve(units)
			if !ok {
				// Detached: the next free in it lists it again.
				r.state.Store(runDetached)
			}
			r.mu.Unlock()
			if ok {
				return r, unit, nil
			}
			a.active[c.ID] = nil
		}
		if r = h.recyclers[c.ID].pop(); r == nil {
			var err error
			if r, err = h.createRun(c); err != nil {
				return nil, 0, err
			}
		}
		r.state.Store(runAttached)
		a.active[c.ID] = r
	}
}

// Cancel gives back the blocks of reservations that will not be published
// (pmemobj_cancel). Other actions are ignored. It waits for the headers
// the reservations wrote, so that a later reservation of the same block
// may trust what it finds there.
func (h *Heap) Cancel(acts []Action) {
	for i := range acts {
		if a := &acts[i]; a.Kind == ActAlloc {
			h.flushHeader(&a.Block)
		}
	}
	h.m.Drain()
	for i := range acts {
		a := &acts[i]
		if a.Kind != ActAlloc {
			continue
		}
		h.releaseBlock(&a.Block)
	}
}

// releaseBlock returns a block to the volatile state: a reservation
// cancelled, or a free that is durable.
func (h *Heap) releaseBlock(b *Block) {
	if b.run == nil {
		h.returnChunks(extent{zone: b.zone, chunk: b.chunk, size: b.n})
		return
	}
	r := b.run
	r.mu.Lock()
	r.release(b.unit, b.n)
	list := r.class != nil && r.state.Load() == runDetached
	if list {
		r.state.Store(runListed)
	}
	r.mu.Unlock()
	if list {
		h.recyclers[r.class.ID].push(r)
	}
}

// Publish makes the actions durable at once (palloc_publish): the
// reserved blocks allocated, the freed blocks free, the words set. It
// flushes the headers Reserve wrote and waits for them and for the stores
// the caller flushed (objects, constructors' and snapshot ranges), then
// processes the updates through redo, whose log is the ulog at logOff with logCap
// data bytes, extended through ext (nil: not extensible); afterwards the
// freed blocks return to the volatile state. On error nothing has changed
// and the reservations are still held.
func (h *Heap) Publish(acts []Action, redo *ulog.Redo, logOff, logCap uint64, ext ulog.Extender) error {
	redo.Reset()
	for i := range acts {
		a := &acts[i]
		switch a.Kind {
		case ActAlloc:
			h.flushHeader(&a.Block)
			h.prepare(redo, &a.Block, true)
		case ActFree:
			h.prepare(redo, &a.Block, false)
		case ActSet:
			if a.Ptr != nil {
				redo.AddTransient(a.Ptr, layout.OpSet, a.Val)
			} else {
				redo.Add(a.Dst, layout.OpSet, a.Val)
			}
		}
	}
	h.m.Drain()
	if err := h.m.Err(); err != nil {
		// An object header or constructor's data may not be durable.
		return err
	}
	if err := redo.Process(h.m, logOff, logCap, ext); err != nil {
		return err
	}
	if err := h.m.Err(); err != nil {
		// Not durable: the pool refuses every later change (obj checks
		// Err first), so the run-time state need not follow.
		return err
	}
	for i := range acts {
		a := &acts[i]
		b := &a.Block
		switch a.Kind {
		case ActAlloc:
			h.statsPublished(b, true)
			if b.run == nil {
				h.zones[b.zone].Load().setUsed(b.chunk)
				h.writeFooter(b.zone, b.chunk, b.n, b.hdrType.Flag())
			}
		case ActFree:
			h.statsPublished(b, false)
			if b.run == nil {
				h.zones[b.zone].Load().clearUsed(b.chunk)
			}
			h.releaseBlock(b)
		}
	}
	return nil
}

// flushHeader flushes the header Reserve wrote in b, if it did.
func (h *Heap) flushHeader(b *Block) {
	if b.hdrDirty {
		h.m.Flush(b.HdrOff, b.hdrType.Size())
		b.hdrDirty = false
	}
}

// prepare adds the update that allocates or frees b: a bitmap word OR or
// AND for a run unit, a chunk header store for a huge block.
func (h *Heap) prepare(redo *ulog.Redo, b *Block, alloc bool) {
	if r := b.run; r != nil {
		word := r.bitmapOff + uint64(b.unit/64)*8
		mask := unitMask(b.n) << (b.unit % 64)
		if alloc {
			redo.Add(word, layout.OpOr, mask)
		} else {
			redo.Add(word, layout.OpAnd, ^mask)
		}
		return
	}
	t := uint16(layout.ChunkFree)
	if alloc {
		t = layout.ChunkUsed
	}
	ch := h.loadChunkHeader(b.zone, b.chunk)
	redo.Add(h.chunkHeaderOff(b.zone, b.chunk), layout.OpSet,
		layout.ChunkHeader{Type: t, Flags: ch.Flags, SizeIdx: b.n}.Word())
}
