package vmemcache

import (
	"encoding/binary"
	"math/bits"
)

// The extent allocator hands out runs of units (one unit = the extent size)
// of the data area. Its bookkeeping lives in the data area itself, so the
// Go heap holds only two bitmaps (two bits per unit) and the bin heads:
//
//   - a free run starting at unit s of n units has, in unit s, its length
//     (bytes 0-7) and the previous and next run of its bin (bytes 8-15 and
//     16-23, unit+1, 0 = none), and in its last unit, bytes 24-31, its
//     start;
//   - the bitmaps mark the first and the last unit of every free run, so
//     freeing a run finds a free neighbour on either side in O(1) and merges
//     with it: free runs are always coalesced;
//   - a free run is in bin floor(log2(n)), a doubly linked list.
//
// Allocation asks for n units and takes the first run of at least n found in
// bin floor(log2 n) (looking at a few) or any run of a higher bin, splitting
// it; when no run is that long it hands out the longest run it finds and the
// caller asks again for the rest (a value split across several extents).
// Callers hold the cache's allocator lock.
type allocator struct {
	data      []byte
	unit      int64 // bytes per unit (the extent size)
	units     int64
	freeStart []uint64 // bit u: a free run starts at unit u
	freeEnd   []uint64 // bit u: a free run ends at unit u
	bins      [64]int64
	freeUnits int64
	freeRuns  int64
}

const binScan = 8 // runs looked at in the exact-fit bin before going up

func newAllocator(data []byte, unit int64) *allocator {
	units := int64(len(data)) / unit
	a := &allocator{
		data:      data,
		unit:      unit,
		units:     units,
		freeStart: make([]uint64, (units+63)/64),
		freeEnd:   make([]uint64, (units+63)/64),
	}
	for i := range a.bins {
		a.bins[i] = -1
	}
	if units > 0 {
		a.insert(0, units)
	}
	return a
}

func bit(m []uint64, u int64) bool { return m[u/64]&(1<<(u%64)) != 0 }
func setBit(m []uint64, u int64)   { m[u/64] |= 1 << (u % 64) }
func clearBit(m []uint64, u int64) { m[u/64] &^= 1 << (u % 64) }

func binOf(n int64) int { return bits.Len64(uint64(n)) - 1 }

func (a *allocator) word(u int64, off int64) []byte {
	p := u*a.unit + off
	return a.data[p : p+8]
}

func (a *allocator) get(u, off int64) int64 {
	return int64(binary.LittleEndian.Uint64(a.word(u, off)))
}

func (a *allocator) put(u, off, v int64) {
	binary.LittleEndian.PutUint64(a.word(u, off), uint64(v))
}

func (a *allocator) runLen(s int64) int64 { return a.get(s, 0) }
func (a *allocator) prev(s int64) int64   { return a.get(s, 8) - 1 }
func (a *allocator) next(s int64) int64   { return a.get(s, 16) - 1 }

// insert records [s, s+n) as a free run, which must not touch another.
func (a *allocator) insert(s, n int64) {
	b := binOf(n)
	h := a.bins[b]
	a.put(s, 0, n)
	a.put(s, 8, 0)
	a.put(s, 16, h+1)
	a.put(s+n-1, 24, s)
	if h >= 0 {
		a.put(h, 8, s+1)
	}
	a.bins[b] = s
	setBit(a.freeStart, s)
	setBit(a.freeEnd, s+n-1)
	a.freeUnits += n
	a.freeRuns++
}

// remove takes the free run starting at s out of its bin and returns its
// length.
func (a *allocator) remove(s int64) int64 {
	n := a.runLen(s)
	p, nx := a.prev(s), a.next(s)
	if p >= 0 {
		a.put(p, 16, nx+1)
	} else {
		a.bins[binOf(n)] = nx
	}
	if nx >= 0 {
		a.put(nx, 8, p+1)
	}
	clearBit(a.freeStart, s)
	clearBit(a.freeEnd, s+n-1)
	a.freeUnits -= n
	a.freeRuns--
	return n
}

// alloc returns a run of at most n units, n if one is free that long, the
// longest found otherwise; got is 0 when nothing is free.
func (a *allocator) alloc(n int64) (s, got int64) {
	if n <= 0 || a.freeUnits == 0 {
		return 0, 0
	}
	b := binOf(n)
	s = -1
	for r, i := a.bins[b], 0; r >= 0 && i < binScan; r, i = a.next(r), i+1 {
		if a.runLen(r) >= n {
			s = r
			break
		}
	}
	if s < 0 {
		for hb := b + 1; hb < len(a.bins); hb++ {
			if a.bins[hb] >= 0 {
				s = a.bins[hb]
				break
			}
		}
	}
	if s < 0 {
		// Nothing of n units: the longest run of the highest non-empty bin.
		for lb := b; lb >= 0 && s < 0; lb-- {
			best := int64(0)
			for r := a.bins[lb]; r >= 0; r = a.next(r) {
				if l := a.runLen(r); l > best {
					s, best = r, l
				}
			}
		}
	}
	l := a.remove(s)
	if l > n {
		a.insert(s+n, l-n)
		l = n
	}
	return s, l
}

// take allocates from the free run starting at s: its first n units if
// it has that many (got n), nothing otherwise (got 0).
func (a *allocator) take(s, n int64) (got int64) {
	if s < 0 || s >= a.units || !bit(a.freeStart, s) || a.runLen(s) < n {
		return 0
	}
	if l := a.remove(s); l > n {
		a.insert(s+n, l-n)
	}
	return n
}

// free returns [s, s+n), merges it with free neighbours and returns the
// start of the merged run.
func (a *allocator) free(s, n int64) int64 {
	if s > 0 && bit(a.freeEnd, s-1) {
		ps := a.get(s-1, 24)
		n += a.remove(ps)
		s = ps
	}
	if e := s + n; e < a.units && bit(a.freeStart, e) {
		n += a.remove(e)
	}
	a.insert(s, n)
	return s
}
