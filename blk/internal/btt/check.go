package btt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/blk/layout"
)

// maxProblems caps the problems Check lists per arena, so a wrecked map of
// a billion entries yields a readable report.
const maxProblems = 64

// Check verifies every arena as btt_check does: each post-map block is
// referenced exactly once, by the map or by a flog pair's free block. It
// returns the problems found (each wraps core.ErrCorrupt); none means
// consistent. A namespace without a layout is consistent. No other call
// may run on b meanwhile.
func (b *BTT) Check() (problems []error) {
	if !b.laidout.Load() {
		return nil
	}
	defer func() {
		// Bounds are checked at open; should a case slip through, the
		// checker reports it rather than taking the caller down.
		if v := recover(); v != nil {
			problems = append(problems, fmt.Errorf("btt: check stopped: %v", v))
		}
	}()
	for i, a := range b.arenas {
		problems = append(problems, b.checkArena(i, a)...)
	}
	return problems
}

func (b *BTT) checkArena(idx int, a *arena) []error {
	var problems []error
	add := func(err error) {
		if len(problems) < maxProblems {
			problems = append(problems, err)
		} else if len(problems) == maxProblems {
			problems = append(problems, fmt.Errorf("btt: arena %d: more problems not listed", idx))
		}
	}
	if a.flogErr != nil {
		add(fmt.Errorf("arena %d: %w", idx, a.flogErr))
	} else if a.flags.Load()&layout.InfoFlagError != 0 {
		add(b.corrupt(a.startOff+48, fmt.Sprintf("arena %d info flags", idx), "no error flag", a.flags.Load()))
	}
	if !bytes.Equal(b.ns[a.startOff:a.startOff+layout.InfoSize], b.ns[a.infoOff:a.infoOff+layout.InfoSize]) {
		add(b.corrupt(a.infoOff, fmt.Sprintf("arena %d backup info block differs from the primary", idx), nil, nil))
	}
	seen := make([]uint64, (uint64(a.internalNLBA)+63)/64)
	mark := func(blk uint32) bool {
		w, bit := blk/64, uint64(1)<<(blk%64)
		dup := seen[w]&bit != 0
		seen[w] |= bit
		return dup
	}
	m := b.ns[a.mapOff : a.mapOff+uint64(a.externalNLBA)*layout.MapEntrySize]
	for i := range a.externalNLBA {
		o := uint64(i) * layout.MapEntrySize
		blk := layout.PostMap(binary.LittleEndian.Uint32(m[o:]), i)
		if blk >= a.internalNLBA {
			add(b.corrupt(a.mapOff+o, fmt.Sprintf("arena %d map entry %d block", idx, i), fmt.Sprintf("< %d", a.internalNLBA), blk))
			continue
		}
		if mark(blk) {
			add(b.corrupt(a.mapOff+o, fmt.Sprintf("arena %d map entry %d: block %d used twice", idx, i, blk), nil, nil))
		}
	}
	for i := range a.flogs {
		f := &a.flogs[i]
		if f.cur.Seq == 0 {
			continue // pair already reported as invalid
		}
		blk := f.cur.OldMap & layout.MapLBAMask
		if mark(blk) {
			add(b.corrupt(f.entries[0], fmt.Sprintf("arena %d flog %d: free block %d also in use", idx, i, blk), nil, nil))
		}
	}
	for blk := range a.internalNLBA {
		if seen[blk/64]&(1<<(blk%64)) == 0 {
			add(b.corrupt(a.dataOff+uint64(blk)*uint64(a.internalLBA), fmt.Sprintf("arena %d block %d neither mapped nor free", idx, blk), nil, nil))
		}
	}
	return problems
}
