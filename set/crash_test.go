package set_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/set"
)

// The crash workload: a set of two parts, the two halves of a simulated
// device, one part map. A record crosses the part boundary; it is copied
// with Memcpy, then a valid flag in the first part is persisted. After any
// crash a valid flag means the whole record.
const (
	crashHalf = 8192
	recAt     = crashHalf - 100
	flagAt    = 0
)

var record = bytes.Repeat([]byte("0123456789abcdef"), 16) // 256 bytes, 100 in part 1

func crashWorkload(copyFlags core.MemFlags) crashsim.Workload {
	return crashsim.Workload{
		Size: 2 * crashHalf,
		Run: func(m *core.Map) error {
			b := m.Bytes()
			s := set.New(set.Config{RequiredGranularity: core.GranularityPage})
			if err := s.SetCoalescing(set.CoalescingFull); err != nil {
				return err
			}
			for _, h := range [][]byte{b[:crashHalf], b[crashHalf:]} {
				if _, err := s.MapMemory(core.NewMemoryMap(h, m.Granularity(), m.Persister(), nil)); err != nil {
					return err
				}
			}
			pm := s.FirstPartMap()
			if pm.Parts() != 2 || len(pm.Bytes()) != 2*crashHalf {
				return fmt.Errorf("part map of %d parts, %d bytes", pm.Parts(), len(pm.Bytes()))
			}
			for round := byte(1); round <= 3; round++ {
				rec := bytes.Clone(record)
				rec[0] = round
				if err := s.Memcpy(pm.Bytes()[recAt:recAt+len(rec)], rec, copyFlags); err != nil {
					return err
				}
				if err := s.Memset(pm.Bytes()[flagAt:flagAt+1], round, 0); err != nil {
					return err
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			b := m.Bytes()
			round := b[flagAt]
			if round == 0 {
				return nil
			}
			want := bytes.Clone(record)
			want[0] = round
			// A later round may have begun: only the first byte of the
			// record names the round, the rest is the same in all.
			got := bytes.Clone(b[recAt : recAt+len(record)])
			if got[0] < round || !bytes.Equal(got[1:], want[1:]) {
				return fmt.Errorf("flag %d, record %q", round, got)
			}
			return nil
		},
	}
}

// TestCrashMemcpyAcrossParts: Memcpy+persist of a record across the part
// boundary, then a flag; every crash point, pessimistic, optimistic and
// random images.
func TestCrashMemcpyAcrossParts(t *testing.T) {
	r := crashsim.Explore(t, crashWorkload(0), crashsim.Options{})
	if r.Fences < 6 {
		t.Fatalf("%d fences, want a drain per Memcpy and Memset", r.Fences)
	}
}

// TestCrashCatchesAnUnflushedPart: the same with MemNoFlush|MemNoDrain on
// the copy (nothing makes the record durable before its flag) must fail
// at some crash point: the workload can see the bug it is for.
func TestCrashCatchesAnUnflushedPart(t *testing.T) {
	r, err := crashsim.Run(crashWorkload(core.MemNoFlush|core.MemNoDrain), crashsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Failures) == 0 {
		t.Fatalf("no crash point found the unflushed record: %v", r)
	}
}
