package obj

import (
	"cmp"
	"slices"
	"sort"
)

// txRange is a part of the pool a transaction covers: snapshotted (or
// registered without a snapshot), or a new object's memory. Commit
// flushes every range but the NoFlush ones.
type txRange struct {
	off, size uint64
	flags     TxFlags
}

func (r txRange) end() uint64 { return r.off + r.size }

// rangeSet holds a transaction's ranges, sorted by offset and disjoint, so
// that each byte is snapshotted at most once (C's ravl of ranges).
type rangeSet struct {
	r []txRange
}

func (s *rangeSet) reset() { s.r = s.r[:0] }

// add covers [off, off+size) and returns through fresh the pieces that
// were not covered yet (to snapshot), in order. Where the new range
// overlaps covered ones that have NoFlush and it has not, they lose the
// flag (C keeps NoFlush only when both sides have it).
func (s *rangeSet) add(off, size uint64, flags TxFlags, fresh func(off, size uint64) error) error {
	end := off + size
	// First range that ends after off.
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i].end() > off })
	pos := off
	var room [4]txRange // the pieces are few: no allocation per call
	add := room[:0]
	for j := i; j < len(s.r) && s.r[j].off < end; j++ {
		cur := &s.r[j]
		if flags&TxNoFlush == 0 {
			cur.flags &^= TxNoFlush
		}
		if cur.off > pos {
			add = append(add, txRange{pos, cur.off - pos, flags})
		}
		pos = max(pos, cur.end())
	}
	if pos < end {
		add = append(add, txRange{pos, end - pos, flags})
	}
	for _, a := range add {
		if err := fresh(a.off, a.size); err != nil {
			return err
		}
	}
	if len(add) == 0 {
		return nil
	}
	if i == len(s.r) {
		s.r = append(s.r, add...)
		return nil
	}
	s.r = append(s.r, add...)
	slices.SortFunc(s.r, func(a, b txRange) int { return cmp.Compare(a.off, b.off) })
	return nil
}

// find returns the index of the range that starts at off, or -1.
func (s *rangeSet) find(off uint64) int {
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i].off >= off })
	if i < len(s.r) && s.r[i].off == off {
		return i
	}
	return -1
}

func (s *rangeSet) remove(i int) { s.r = append(s.r[:i], s.r[i+1:]...) }
