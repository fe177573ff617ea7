package core

import (
	"fmt"
	"sync/atomic"

	"github.com/gopmdk/pmdk/hal"
)

// cpuPersister persists with CPU cache flushes and a fence (DAX without
// eADR, or a page-cache file forced to act as pmem). With FlushNone it is
// the eADR path: the fence alone. Neither can fail, so it keeps no error
// and its kernels' (always nil) results are not looked at.
type cpuPersister struct{ k *hal.Kernels }

var (
	_ Persister = cpuPersister{}
	_ Persister = (*msyncPersister)(nil)
)

func (p cpuPersister) Flush(b []byte)   { p.k.FlushRange(b) }
func (p cpuPersister) Drain()           { p.k.Fence() }
func (p cpuPersister) Persist(b []byte) { p.k.FlushRange(b); p.k.Fence() }
func (p cpuPersister) Memmove(dst, src []byte, flags MemFlags) {
	p.k.Memmove(dst, src, flags)
}
func (p cpuPersister) Memset(dst []byte, c byte, flags MemFlags) { p.k.Memset(dst, c, flags) }
func (p cpuPersister) Err() error                                { return nil }

// msyncPersister persists with kernels whose flush is msync(2): a
// page-cache mapping (with temporal stores), or a build without assembly.
// Flush does the write-back, so Drain has nothing left to wait for but
// store ordering. msync can fail; the first failure is kept (Err).
type msyncPersister struct {
	k   *hal.Kernels // Flush() == hal.FlushMsync
	err atomic.Pointer[error]
}

func (p *msyncPersister) Flush(b []byte)   { p.check(p.k.FlushRange(b)) }
func (p *msyncPersister) Drain()           { p.k.Fence() }
func (p *msyncPersister) Persist(b []byte) { p.check(p.k.FlushRange(b)); p.k.Fence() }
func (p *msyncPersister) Memmove(dst, src []byte, flags MemFlags) {
	p.check(p.k.Memmove(dst, src, flags))
}
func (p *msyncPersister) Memset(dst []byte, c byte, flags MemFlags) {
	p.check(p.k.Memset(dst, c, flags))
}

func (p *msyncPersister) Err() error {
	if e := p.err.Load(); e != nil {
		return *e
	}
	return nil
}

// check keeps err if it is the first failure.
func (p *msyncPersister) check(err error) {
	if err != nil {
		e := fmt.Errorf("%w: msync: %w", ErrPersist, err)
		p.err.CompareAndSwap(nil, &e)
	}
}

// NewPersister returns the persist path for granularity g with kernels k
// (nil means [hal.Selected]): fence only for GranularityByte, CPU flush and
// fence for GranularityCacheLine, msync with temporal stores for
// GranularityPage. Kernels that flush with msync (builds without assembly)
// get the msync path at cache-line granularity too, keeping their store
// instructions. Each call returns a new Persister with its own [Persister.Err].
func NewPersister(g Granularity, k *hal.Kernels) Persister {
	if k == nil {
		k = hal.Selected()
	}
	switch g {
	case GranularityByte:
		nk, err := hal.NewKernels(hal.FlushNone, k.Move(), k.MovntThreshold())
		if err != nil {
			nk = k
		}
		return cpuPersister{nk}
	case GranularityCacheLine:
		if k.Flush() == hal.FlushMsync {
			return &msyncPersister{k: k}
		}
		return cpuPersister{k}
	}
	if k.Flush() != hal.FlushMsync || k.Move() != hal.MoveGeneric {
		// Every build runs msync with generic stores.
		nk, err := hal.NewKernels(hal.FlushMsync, hal.MoveGeneric, k.MovntThreshold())
		if err != nil {
			panic("core: " + err.Error())
		}
		k = nk
	}
	return &msyncPersister{k: k}
}
