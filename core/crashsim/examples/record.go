// Package examples holds small persistent structures, each in a correct
// and in deliberately broken versions, as crash-simulator workloads. The
// crashsim tests and the conformance suite assert that the simulator flags
// every broken version and passes every correct one; users can copy them as
// the pattern for their own structures.
package examples

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// Bug selects a deliberate mistake in a workload.
type Bug int

const (
	// Correct: data persisted, then the commit flag persisted.
	Correct Bug = iota
	// MissingFlush: the data is stored and fenced but never flushed, so
	// it may never reach the media even though the flag does.
	MissingFlush
	// MissingFence: the data is flushed but not fenced before the flag is
	// stored, so the flag may reach the media before the data.
	MissingFence
	// FlagBeforeData: the flag is persisted before the data is written.
	FlagBeforeData
	// BadRecovery: the recovery retires its log before it has restored
	// the data, so a crash during recovery loses the old data for good.
	BadRecovery
)

var bugNames = [...]string{"correct", "missing-flush", "missing-fence", "flag-before-data", "bad-recovery"}

func (b Bug) String() string {
	if b >= 0 && int(b) < len(bugNames) {
		return bugNames[b]
	}
	return fmt.Sprintf("Bug(%d)", int(b))
}

// Bugs lists the bugs every structure can have, Correct first.
var Bugs = []Bug{Correct, MissingFlush, MissingFence, FlagBeforeData}

// Record layout: slots of recordSlot bytes, each a valid flag (one 8-byte
// word in its own cache line) then recordData bytes of payload over two
// cache lines. A slot whose flag is 1 must hold its whole payload.
const (
	recordSlots = 4
	recordSlot  = 192
	recordData  = 128
	// RecordSize is the device size the record workloads need.
	RecordSize = recordSlots * recordSlot
)

// recordPayload is the payload slot i must hold once its flag is set.
func recordPayload(i int) []byte {
	p := make([]byte, recordData)
	for j := range p {
		p[j] = byte(i*31 + j + 1)
	}
	return p
}

// Record returns a workload that commits recordSlots records, each by
// writing its payload and then setting its valid flag, with the given bug.
// Its Check demands that every slot flagged valid holds its whole payload.
func Record(bug Bug) crashsim.Workload {
	return crashsim.Workload{
		Size: RecordSize,
		Run: func(m *core.Map) error {
			b := m.Bytes()
			for i := range recordSlots {
				flag := b[i*recordSlot : i*recordSlot+8]
				data := b[i*recordSlot+64 : i*recordSlot+64+recordData]
				switch bug {
				case Correct:
					copy(data, recordPayload(i))
					m.Persist(data)
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
				case MissingFlush:
					copy(data, recordPayload(i))
					m.Drain()
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
				case MissingFence:
					copy(data, recordPayload(i))
					m.Flush(data)
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
				case FlagBeforeData:
					binary.LittleEndian.PutUint64(flag, 1)
					m.Persist(flag)
					m.Memcpy(data, recordPayload(i), 0)
				default:
					return fmt.Errorf("examples: unknown bug %d", bug)
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			b := m.Bytes()
			for i := range recordSlots {
				flag := binary.LittleEndian.Uint64(b[i*recordSlot:])
				switch flag {
				case 0:
					continue
				case 1:
				default:
					return fmt.Errorf("slot %d: torn flag %#x", i, flag)
				}
				data := b[i*recordSlot+64 : i*recordSlot+64+recordData]
				want := recordPayload(i)
				for j := range data {
					if data[j] != want[j] {
						return fmt.Errorf("slot %d flagged valid, payload byte %d is %#x, want %#x", i, j, data[j], want[j])
					}
				}
			}
			return nil
		},
	}
}
