package vmem

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// Stats are a pool's figures at one moment. Per-P caches are read without
// stopping them, so a Stats taken while other goroutines allocate may be
// a little stale, as C's note on thread caches says.
type Stats struct {
	Size int64 // the pool's bytes

	Allocated   int64 // bytes in live allocations, counted by usable size
	Allocations int64 // live allocations
	SmallAllocs uint64
	SmallFrees  uint64
	LargeAllocs uint64 // allocations over 32 KiB (whole pages)
	LargeFrees  uint64

	Active      int64 // bytes of pages in slabs and large allocations
	SlabBytes   int64 // bytes of pages in slabs
	LargeBytes  int64 // bytes of pages in large allocations
	Free        int64 // bytes of pages in free extents
	FreeExtents int
	LargestFree int64 // the largest free extent, in bytes
	Released    int64 // free bytes not backed by the file: never touched since Create, or given back
	// Resident is how many bytes of the pool's file the file system holds
	// (st_blocks), or -1 for a region pool.
	Resident int64

	Classes []ClassStats // one per small size class
}

// ClassStats are the figures of one small size class.
type ClassStats struct {
	Size    int // object size, bytes
	Slabs   int
	Objects int // objects the slabs hold
	Free    int // objects free in the slabs
	Cached  int // free objects in per-P caches
}

// InUse returns the class's allocated objects.
func (c ClassStats) InUse() int { return c.Objects - c.Free - c.Cached }

// Stats returns the pool's figures.
func (p *Pool) Stats() (Stats, error) {
	if p.closed.Load() {
		return Stats{}, ErrClosed
	}
	st := Stats{Size: int64(len(p.mem)), Resident: -1}
	for i := range p.caches {
		pc := &p.caches[i]
		pc.lock()
		st.SmallAllocs += pc.allocs
		st.SmallFrees += pc.frees
		st.Allocated += pc.bytes
		pc.unlock()
	}
	p.uncached.mu.Lock()
	st.SmallAllocs += p.uncached.allocs
	st.SmallFrees += p.uncached.frees
	st.Allocated += p.uncached.bytes
	p.uncached.mu.Unlock()
	for c := 1; c < nclass; c++ {
		cs := ClassStats{Size: int(classSize[c])}
		for i := range p.caches {
			pc := &p.caches[i]
			pc.lock()
			cs.Cached += len(pc.bins[c].objs)
			pc.unlock()
		}
		ct := &p.centrals[c]
		ct.mu.Lock()
		cs.Slabs = ct.nslabs
		for s := ct.partial; s != nil; s = s.next {
			cs.Free += int(s.nfree)
		}
		cs.Objects = ct.nslabs * int(classPages[c]*pageSize/classSize[c])
		ct.mu.Unlock()
		st.Classes = append(st.Classes, cs)
	}
	h := &p.heap
	h.mu.Lock()
	st.LargeAllocs, st.LargeFrees = h.largeAllocs, h.largeFrees
	st.LargeBytes = int64(h.largePages) * pageSize
	st.SlabBytes = int64(h.slabPages) * pageSize
	st.Active = st.LargeBytes + st.SlabBytes
	st.Free = int64(h.freePages) * pageSize
	st.Released = int64(h.freePages-h.dirtyPages) * pageSize
	st.LargestFree = int64(h.largestFree()) * pageSize
	st.FreeExtents = len(h.large)
	for k := range h.bins {
		for s := h.bins[k]; s != nil; s = s.next {
			st.FreeExtents++
		}
	}
	st.Allocated += st.LargeBytes
	st.Allocations = int64(h.largeLive)
	h.mu.Unlock()
	st.Allocations += int64(st.SmallAllocs) - int64(st.SmallFrees)
	if p.file != nil {
		var fs unix.Stat_t
		if err := unix.Fstat(int(p.file.Fd()), &fs); err == nil {
			st.Resident = fs.Blocks * 512
		}
	}
	return st, nil
}

// WriteStats writes the pool's figures as text, as vmem_stats_print: opts
// may hold "g" to leave out the general part, "b" the per-class (bin)
// table and "l" the large allocations; other characters are ignored.
func (p *Pool) WriteStats(w io.Writer, opts string) error {
	st, err := p.Stats()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("___ Begin vmem statistics ___\n")
	if !strings.Contains(opts, "g") {
		fmt.Fprintf(&b, "pool size: %d bytes, page: %d bytes, small classes: %d (up to %d bytes), per-P caches: %d\n",
			st.Size, pageSize, nclass-1, maxSmall, len(p.caches))
	}
	fmt.Fprintf(&b, "allocated: %d bytes in %d allocations; active pages: %d bytes (slabs %d, large %d)\n",
		st.Allocated, st.Allocations, st.Active, st.SlabBytes, st.LargeBytes)
	fmt.Fprintf(&b, "free: %d bytes in %d extents, largest %d; released to the file: %d; file resident: %d\n",
		st.Free, st.FreeExtents, st.LargestFree, st.Released, st.Resident)
	if !strings.Contains(opts, "b") {
		fmt.Fprintf(&b, "small: %d allocs, %d frees\n", st.SmallAllocs, st.SmallFrees)
		fmt.Fprintf(&b, "%8s %6s %8s %8s %8s %8s\n", "size", "slabs", "objects", "in use", "free", "cached")
		for _, c := range st.Classes {
			if c.Slabs == 0 && c.Cached == 0 {
				continue
			}
			fmt.Fprintf(&b, "%8d %6d %8d %8d %8d %8d\n", c.Size, c.Slabs, c.Objects, c.InUse(), c.Free, c.Cached)
		}
	}
	if !strings.Contains(opts, "l") {
		fmt.Fprintf(&b, "large: %d allocs, %d frees, %d bytes live\n", st.LargeAllocs, st.LargeFrees, st.LargeBytes)
	}
	b.WriteString("--- End vmem statistics ---\n")
	_, err = io.WriteString(w, b.String())
	return err
}
