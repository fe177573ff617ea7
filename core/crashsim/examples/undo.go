package examples

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// Undo layout: the log's valid flag in line 0, the undo copy in lines 1-2,
// the value in lines 3-4. The value holds a version number in every word.
const (
	undoFlag    = 0
	undoCopy    = 64
	undoValue   = 192
	undoLen     = 128
	undoUpdates = 3
	// UndoSize is the device size the undo workloads need.
	UndoSize = undoValue + undoLen
)

// Undo returns a workload that updates a two-line value in place under an
// undo log, as a transaction does: copy the old value to the log, persist,
// set the log valid, update the value, persist, retire the log. Its
// Recover rolls back a valid log; Check demands one whole version and a
// retired log. With bug BadRecovery, Recover retires the log first, which
// only a crash during recovery shows (Options.RecoveryPoints).
func Undo(bug Bug) crashsim.Workload {
	return crashsim.Workload{
		Size: UndoSize,
		Setup: func(m *core.Map) error {
			fill(m.Bytes()[undoValue:undoValue+undoLen], 1)
			return nil
		},
		Run: func(m *core.Map) error {
			b := m.Bytes()
			flag := b[undoFlag : undoFlag+8]
			log := b[undoCopy : undoCopy+undoLen]
			value := b[undoValue : undoValue+undoLen]
			for v := uint64(2); v < 2+undoUpdates; v++ {
				switch bug {
				case Correct, BadRecovery:
					copy(log, value)
					m.Persist(log)
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
				case MissingFlush:
					copy(log, value)
					m.Drain()
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
				case MissingFence:
					copy(log, value)
					m.Flush(log)
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
				case FlagBeforeData:
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
					copy(log, value)
					m.Persist(log)
				default:
					return fmt.Errorf("examples: unknown bug %d", bug)
				}
				fill(value, v)
				m.Persist(value)
				binary.LittleEndian.PutUint64(flag, 0)
				m.Persist(flag)
			}
			return nil
		},
		Recover: func(m *core.Map) error {
			b := m.Bytes()
			flag := b[undoFlag : undoFlag+8]
			if binary.LittleEndian.Uint64(flag) == 0 {
				return nil
			}
			log := b[undoCopy : undoCopy+undoLen]
			value := b[undoValue : undoValue+undoLen]
			if bug == BadRecovery {
				binary.LittleEndian.PutUint64(flag, 0)
				m.Persist(flag)
				m.Memcpy(value, log, 0)
				return nil
			}
			m.Memcpy(value, log, 0)
			binary.LittleEndian.PutUint64(flag, 0)
			m.Persist(flag)
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			b := m.Bytes()
			if f := binary.LittleEndian.Uint64(b[undoFlag:]); f != 0 {
				return fmt.Errorf("log still valid (%#x) after recovery", f)
			}
			value := b[undoValue : undoValue+undoLen]
			v := binary.LittleEndian.Uint64(value)
			if v < 1 || v >= 2+undoUpdates {
				return fmt.Errorf("version %d out of range", v)
			}
			for i := 8; i < undoLen; i += 8 {
				if w := binary.LittleEndian.Uint64(value[i:]); w != v {
					return fmt.Errorf("value torn: word %d holds version %d, word 0 version %d", i/8, w, v)
				}
			}
			return nil
		},
	}
}
