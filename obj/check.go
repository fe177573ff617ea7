package obj

import (
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Check checks the obj pool at path without changing it (pmemobj_check,
// and more): it opens the pool read-only (recovery runs on a private copy
// of the mapping, as C's copy-on-write check does), then walks the heap as
// Pool.Check does. As every package's Check: problems lists what is wrong
// with the pool, each wrapping core.ErrCorrupt (none: consistent; a pool
// that Open refuses as damaged is one problem); err says that the file
// could not be checked as an obj pool at all: missing, a directory, locked
// (ErrLocked), too small (ErrPoolTooSmall), a pool of another type or
// version (ErrWrongType, ErrVersion). C's pmempool check looks only at the
// pool header and descriptor of obj pools; this checks the heap too.
func Check(path string, opts *Options) (problems []error, err error) {
	o := options(opts)
	o.ReadOnly = true
	p, err := Open(path, &o)
	if err != nil {
		if errors.Is(err, core.ErrCorrupt) || errors.Is(err, ErrLayout) {
			return []error{err}, nil
		}
		return nil, err
	}
	defer p.Close()
	return p.Check(), nil
}

// Check walks the open pool and returns every inconsistency it finds, each
// wrapping core.ErrCorrupt: the descriptor, the root object, every zone,
// chunk and run, every object header against its bitmap bits, and the
// allocator's run-time state against the media. It should run while no
// other call changes the pool. A problem in the checker itself (a bug hit
// by strange data) is reported as a problem, not a panic.
func (p *Pool) Check() (problems []error) {
	r, err := p.enterRead()
	if err != nil {
		return []error{err}
	}
	defer p.leaveRead(r)
	report := func(err error) { problems = append(problems, err) }
	defer func() {
		if r := recover(); r != nil {
			report(fmt.Errorf("%w: checker stopped: %v", core.ErrCorrupt, r))
		}
	}()
	d, _ := layout.DecodeDescriptor(p.m.B)
	for _, e := range d.Problems(p.m.Size() &^ (layout.PageSize - 1)) {
		report(e)
	}
	if !d.UnusedClean {
		report(core.Corrupt(layout.DescUnusedAt, "obj descriptor: unused bytes not zero", nil, nil))
	}
	if off := p.m.Load(layout.RootOffsetAt); off != 0 {
		b, err := p.heap.BlockAt(off)
		switch {
		case err != nil:
			report(core.Corrupt(layout.RootOffsetAt, "obj: root_offset is not an object", nil, off))
		case p.heap.Header(&b).Flags&layout.ObjInternal == 0:
			report(core.Corrupt(int64(b.HdrOff), "obj: root object not flagged internal", nil, nil))
		case b.Size < p.m.Load(layout.RootSizeAt):
			report(core.Corrupt(layout.RootSizeAt, "obj: root_size above the root's usable size", b.Size, p.m.Load(layout.RootSizeAt)))
		}
	}
	p.heap.Check(report)
	p.heap.CheckFree(report)
	p.checkInternal(report)
	return problems
}

// checkInternal reports the library's own objects that nothing uses: an
// internal object must be the root or a log extension linked from a lane
// (a leaked extension is space lost for good).
func (p *Pool) checkInternal(report func(error)) {
	for _, b := range p.leaked() {
		report(core.Corrupt(int64(b.HdrOff), "obj: internal object neither the root nor a linked log (leaked)", nil, b.Off))
	}
}

// leaked returns the internal objects that are neither the root nor a log
// extension linked from a lane.
func (p *Pool) leaked() []heap.Block {
	used := map[uint64]bool{p.m.Load(layout.RootOffsetAt): true}
	for i := range p.lanes.n {
		lo := p.lanes.off + i*layout.LaneSize
		for _, at := range []uint64{layout.LaneInternalAt, layout.LaneExternalAt, layout.LaneUndoAt} {
			next := p.m.Load(lo + at + layout.UlogNextAt)
			for n := 0; next != 0 && n < 1<<16; n++ {
				used[next] = true
				lo2 := layout.AlignedUlogOffset(next)
				if lo2 > p.m.Size()-layout.UlogHeaderSize {
					break
				}
				next = p.m.Load(lo2 + layout.UlogNextAt)
			}
		}
	}
	var leaked []heap.Block
	var pos heap.Pos
	for first := true; ; first = false {
		b, np, ok := p.heap.Next(pos, first)
		if !ok {
			return leaked
		}
		pos = np
		if p.heap.Header(&b).Flags&layout.ObjInternal != 0 && !used[b.Off] {
			leaked = append(leaked, b)
		}
	}
}

// FreeLeaked frees the internal objects [Pool.Check] reports as leaked
// (neither the root nor a log extension linked from a lane), one atomic
// free each, and returns how many it freed. Pools converted from PMDK
// 1.2-1.4 hold such objects: the transaction's range caches and vector
// arrays of their lanes, which the conversion clears (as C's pmdk-convert
// does, which leaves them allocated).
func (p *Pool) FreeLeaked() (int, error) {
	r, err := p.enterRead()
	if err != nil {
		return 0, err
	}
	blocks := p.leaked()
	p.leaveRead(r)
	for i, b := range blocks {
		if err := p.freeBlock(b); err != nil {
			return i, err
		}
	}
	return len(blocks), nil
}

// freeBlock frees block b in one atomic operation.
func (p *Pool) freeBlock(b heap.Block) error {
	l, err := p.enterWrite()
	if err != nil {
		return err
	}
	defer p.leave(l)
	acts := append(l.acts[:0], heap.Action{Kind: heap.ActFree, Block: b})
	defer func() { l.acts = acts[:0] }()
	if err := p.heap.Publish(acts, &l.redo, l.externalLog(), layout.LaneExternalCapacity, l); err != nil {
		p.heap.Cancel(acts)
		return err
	}
	return nil
}
