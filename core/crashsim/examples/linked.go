package examples

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// Linked layout: the head word (offset of the last node, 0 for none) in
// line 0, then nodes of linkedNode bytes from offset 64: a sequence number,
// the offset of the previous node, and a payload that repeats the sequence
// number. Offsets read back are untrusted: Check bounds-checks them.
const (
	linkedNode    = 128
	linkedAppends = 5
	// LinkedSize is the device size the linked workloads need.
	LinkedSize = 64 + linkedAppends*linkedNode
)

// Linked returns a workload that appends linkedAppends nodes to a list
// whose head points at the newest node; each append writes the node, then
// publishes it through the head. Check walks the list from the head and
// demands that every node reached is complete and links to its predecessor.
func Linked(bug Bug) crashsim.Workload {
	return crashsim.Workload{
		Size: LinkedSize,
		Run: func(m *core.Map) error {
			b := m.Bytes()
			for seq := uint64(1); seq <= linkedAppends; seq++ {
				off := 64 + (seq-1)*linkedNode
				node := b[off : off+linkedNode]
				prev := binary.LittleEndian.Uint64(b[0:])
				write := func() {
					binary.LittleEndian.PutUint64(node[0:], seq)
					binary.LittleEndian.PutUint64(node[8:], prev)
					fill(node[16:], seq)
				}
				switch bug {
				case Correct:
					write()
					m.Persist(node)
					binary.LittleEndian.PutUint64(b[0:], off)
					m.Persist(b[0:8])
				case MissingFlush:
					write()
					m.Drain()
					binary.LittleEndian.PutUint64(b[0:], off)
					m.Persist(b[0:8])
				case MissingFence:
					write()
					m.Flush(node)
					binary.LittleEndian.PutUint64(b[0:], off)
					m.Persist(b[0:8])
				case FlagBeforeData:
					binary.LittleEndian.PutUint64(b[0:], off)
					m.Persist(b[0:8])
					write()
					m.Persist(node)
				default:
					return fmt.Errorf("examples: unknown bug %d", bug)
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			b := m.Bytes()
			off := binary.LittleEndian.Uint64(b[0:])
			var want uint64 // sequence number the next node must have; 0: any
			for steps := 0; off != 0; steps++ {
				if steps > linkedAppends || off < 64 || off > uint64(len(b)-linkedNode) || (off-64)%linkedNode != 0 {
					return core.Corrupt(int64(off), "linked list: node offset", nil, off)
				}
				node := b[off : off+linkedNode]
				seq := binary.LittleEndian.Uint64(node[0:])
				if seq == 0 {
					return fmt.Errorf("node at %#x published but never written", off)
				}
				if want != 0 && seq != want {
					return fmt.Errorf("node at %#x: sequence %d, want %d", off, seq, want)
				}
				for i := 16; i < linkedNode; i += 8 {
					if w := binary.LittleEndian.Uint64(node[i:]); w != seq {
						return fmt.Errorf("node %d at %#x: payload word %d is %d", seq, off, i/8, w)
					}
				}
				want = seq - 1
				off = binary.LittleEndian.Uint64(node[8:])
			}
			if want > 0 {
				return fmt.Errorf("list ends early: node %d is missing", want)
			}
			return nil
		},
	}
}

// Structure is one example persistent structure.
type Structure struct {
	Name     string
	Workload func(Bug) crashsim.Workload
	Bugs     []Bug // the versions it comes in, Correct first
}

// Structures lists every example structure.
var Structures = []Structure{
	{"record", Record, Bugs},
	{"shadow", Shadow, Bugs},
	{"linked", Linked, Bugs},
	{"undo", Undo, append(Bugs[:len(Bugs):len(Bugs)], BadRecovery)},
}
