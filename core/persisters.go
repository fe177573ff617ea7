package core

import (
	"github.com/gopmdk/pmdk/hal"
)

// cpuPersister persists with CPU cache flushes and a fence (DAX without
// eADR, or a page-cache file forced to act as pmem). With FlushNone it is
// the eADR path: the fence alone.
type cpuPersister struct{ k *hal.Kernels }

func (p cpuPersister) Flush(b []byte)   { p.k.FlushRange(b) }
func (p cpuPersister) Drain()           { p.k.Fence() }
func (p cpuPersister) Persist(b []byte) { p.k.FlushRange(b); p.k.Fence() }
func (p cpuPersister) Memmove(dst, src []byte, flags MemFlags) {
	p.k.Memmove(dst, src, flags)
}
func (p cpuPersister) Memset(dst []byte, c byte, flags MemFlags) { p.k.Memset(dst, c, flags) }

// msyncPersister persists a page-cache mapping with msync(2). Flush does the
// write-back, so Drain has nothing left to wait for but store ordering.
type msyncPersister struct{ k *hal.Kernels }

func (p msyncPersister) Flush(b []byte)   { _ = hal.Msync(b) }
func (p msyncPersister) Drain()           { p.k.Fence() }
func (p msyncPersister) Persist(b []byte) { _ = hal.Msync(b) }
func (p msyncPersister) Memmove(dst, src []byte, flags MemFlags) {
	copy(dst[:len(src)], src)
	if flags&MemNoFlush == 0 {
		_ = hal.Msync(dst[:len(src)])
	}
}
func (p msyncPersister) Memset(dst []byte, c byte, flags MemFlags) {
	p.k.Memset(dst, c, MemNoFlush|MemNoDrain) // hal's plain fill
	if flags&MemNoFlush == 0 {
		_ = hal.Msync(dst)
	}
}

// NewPersister returns the persist path for granularity g with kernels k
// (nil means [hal.Selected]): fence only for GranularityByte, CPU flush and
// fence for GranularityCacheLine, msync for GranularityPage.
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
		return cpuPersister{k}
	}
	return msyncPersister{k}
}
