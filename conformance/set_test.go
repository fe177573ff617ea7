package conformance_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/set"
)

// set's cases: a set of two parts (the halves of the backend's Map, one
// coalesced part map) whose stores cross the part boundary.
func init() {
	conformance.Register("set",
		conformance.Case{Name: "store-across-parts-reopen", Run: setReopen},
		conformance.Case{Name: "parts-in-reservation-reopen", Run: setReservationReopen},
	)
	conformance.RegisterCrash("set",
		conformance.CrashCase{Name: "persist-across-parts", Workload: setCrashWorkload(false)},
		conformance.CrashCase{Name: "persist-first-part-only", Workload: setCrashWorkload(true), Broken: true},
	)
}

const setHalf = 64 << 10

// setOver makes a set of m's two halves, without m's Close.
func setOver(m *core.Map) (*set.Set, *set.PartMap, error) {
	s := set.New(set.Config{RequiredGranularity: core.GranularityPage})
	if err := s.SetCoalescing(set.CoalescingFull); err != nil {
		return nil, nil, err
	}
	var pm *set.PartMap
	for _, h := range [][]byte{m.Bytes()[:setHalf], m.Bytes()[setHalf : 2*setHalf]} {
		var err error
		if pm, err = s.MapMemory(core.NewMemoryMap(h, m.Granularity(), m.Persister(), nil)); err != nil {
			return nil, nil, err
		}
	}
	return s, pm, nil
}

func setReopen(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, 2*setHalf)
	s, pm, err := setOver(m)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("part boundary "), 20)
	at := setHalf - 100
	if err := s.Memcpy(pm.Bytes()[at:at+len(msg)], msg, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Memset(pm.Bytes()[setHalf+4096:setHalf+8192], 0xa5, core.MemNoDrain); err != nil {
		t.Fatal(err)
	}
	s.Drain()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	m = b.Reopen(t, m)
	got := m.Bytes()
	if !bytes.Equal(got[at:at+len(msg)], msg) || !bytes.Equal(got[setHalf+4096:setHalf+8192], bytes.Repeat([]byte{0xa5}, 4096)) {
		t.Fatal("stores across the parts did not survive the reopen")
	}
}

// setReservationReopen maps the two halves of the backend's file as parts
// into a reservation (coalesced, at its start), stores across them through
// the set, and reads the stores back after a reopen. Backends without a
// file (the crash simulator) skip it.
func setReservationReopen(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, 2*setHalf)
	path := b.Path(m)
	if path == "" {
		t.Skip("no file behind the backend's map")
	}
	src, err := set.FromPath(path, set.FileDoNotGrow, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := core.NewReservation(nil, 4*setHalf)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := set.New(set.Config{RequiredGranularity: core.GranularityPage, Reservation: r})
	defer s.Close()
	if err := s.SetCoalescing(set.CoalescingFull); err != nil {
		t.Fatal(err)
	}
	var pm *set.PartMap
	for _, off := range []int64{0, setHalf} {
		if pm, err = s.Map(src, set.MapConfig{Offset: off, Length: setHalf}); err != nil {
			t.Fatal(err)
		}
	}
	if &pm.Bytes()[0] != (*byte)(r.Addr()) || len(pm.Bytes()) != 2*setHalf {
		t.Fatal("parts not coalesced at the reservation's start")
	}
	msg := bytes.Repeat([]byte("reserved boundary "), 20)
	at := setHalf - 100
	if err := s.Memcpy(pm.Bytes()[at:at+len(msg)], msg, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	m = b.Reopen(t, m)
	if got := m.Bytes()[at : at+len(msg)]; !bytes.Equal(got, msg) {
		t.Fatal("stores through the reservation's parts did not survive the reopen")
	}
}

// setCrashWorkload stores a record across the part boundary with plain
// stores, persists it through the set, then persists a flag; broken
// persists only the first part's share of the record.
func setCrashWorkload(broken bool) crashsim.Workload {
	const at, n = setHalf - 256, 1024
	return crashsim.Workload{
		Size: 2 * setHalf,
		Run: func(m *core.Map) error {
			s, pm, err := setOver(m)
			if err != nil {
				return err
			}
			b := pm.Bytes()
			for round := byte(1); round <= 2; round++ {
				rec := b[at : at+n]
				for i := range rec {
					rec[i] = round
				}
				if broken {
					rec = rec[:256]
				}
				if err := s.Persist(rec); err != nil {
					return err
				}
				b[0] = round
				if err := s.Persist(b[:1]); err != nil {
					return err
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			b := m.Bytes()
			for i, v := range b[at : at+n] {
				if v < b[0] {
					return fmt.Errorf("flag %d, record byte %d is %d", b[0], i, v)
				}
			}
			return nil
		},
	}
}
