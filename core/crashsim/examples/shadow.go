package examples

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// Shadow layout: a selector word in line 0, then two slots of shadowSlot
// bytes (two cache lines each). The selected slot holds a version number
// in every one of its words; an update writes the next version into the
// other slot and then flips the selector.
const (
	shadowSlot    = 128
	shadowUpdates = 4
	// ShadowSize is the device size the shadow workloads need.
	ShadowSize = 64 + 2*shadowSlot
)

func shadowSlotBytes(b []byte, slot uint64) []byte {
	off := 64 + int(slot)*shadowSlot
	return b[off : off+shadowSlot]
}

// Shadow returns a workload that updates a two-line value shadowUpdates
// times by copy-on-write: the new version goes into the inactive slot,
// then the selector word flips to it. Check demands that the selected slot
// holds one whole version, never a mix.
func Shadow(bug Bug) crashsim.Workload {
	return crashsim.Workload{
		Size: ShadowSize,
		Setup: func(m *core.Map) error {
			// Version 1 in slot 0, selected.
			fill(shadowSlotBytes(m.Bytes(), 0), 1)
			return nil
		},
		Run: func(m *core.Map) error {
			b := m.Bytes()
			for v := uint64(2); v < 2+shadowUpdates; v++ {
				sel := binary.LittleEndian.Uint64(b[0:])
				next := sel ^ 1
				slot := shadowSlotBytes(b, next)
				switch bug {
				case Correct:
					fill(slot, v)
					m.Persist(slot)
					binary.LittleEndian.PutUint64(b[0:], next)
					m.Persist(b[0:8])
				case MissingFlush:
					fill(slot, v)
					m.Drain()
					binary.LittleEndian.PutUint64(b[0:], next)
					m.Persist(b[0:8])
				case MissingFence:
					fill(slot, v)
					m.Flush(slot)
					binary.LittleEndian.PutUint64(b[0:], next)
					m.Persist(b[0:8])
				case FlagBeforeData:
					binary.LittleEndian.PutUint64(b[0:], next)
					m.Persist(b[0:8])
					fill(slot, v)
					m.Persist(slot)
				default:
					return fmt.Errorf("examples: unknown bug %d", bug)
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			b := m.Bytes()
			sel := binary.LittleEndian.Uint64(b[0:])
			if sel > 1 {
				return fmt.Errorf("selector %#x: want 0 or 1", sel)
			}
			slot := shadowSlotBytes(b, sel)
			v := binary.LittleEndian.Uint64(slot)
			if v < 1 || v >= 2+shadowUpdates {
				return fmt.Errorf("slot %d: version %d out of range", sel, v)
			}
			for i := 8; i < len(slot); i += 8 {
				if w := binary.LittleEndian.Uint64(slot[i:]); w != v {
					return fmt.Errorf("slot %d torn: word %d holds version %d, word 0 version %d", sel, i/8, w, v)
				}
			}
			return nil
		},
	}
}

// fill stores v into every word of b.
func fill(b []byte, v uint64) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], v)
	}
}
