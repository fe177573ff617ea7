package pool

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// crashKind is the log kind on a small simulated device.
var crashKind = Kind{Signature: Log.Signature, Major: Log.Major, Compat: Log.Compat, Incompat: Log.Incompat}

// view returns a Map over m's memory and persist path that the pool may
// close without closing the simulated device.
func view(m *core.Map) *core.Map {
	return core.NewMemoryMap(m.Bytes(), m.Granularity(), m.Persister(), nil)
}

var crashStrategies = []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(7), crashsim.Exhaustive}

// TestCrashOpenClose: a crash at any fence of repeated opens and closes
// (SDS dirty, clear, reinitialise) leaves a pool that opens, with its data
// intact and the SDS dirty while open. (Setup runs afresh per crash point,
// with new UUIDs: the UUID cannot serve as the marker.)
func TestCrashOpenClose(t *testing.T) {
	const marker = "pool data"
	w := crashsim.Workload{
		Size: 2 * HeaderSize,
		Setup: func(m *core.Map) error {
			p, err := CreateOnMap(view(m), crashKind, nil)
			if err != nil {
				return err
			}
			copy(p.Data(), marker)
			p.Map().Persist(p.Data()[:len(marker)])
			return p.Close()
		},
		Run: func(m *core.Map) error {
			for range 3 {
				p, err := OpenOnMap(view(m), crashKind, nil)
				if err != nil {
					return err
				}
				if err := p.Close(); err != nil {
					return err
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			p, err := OpenOnMap(view(m), crashKind, nil)
			if err != nil {
				return fmt.Errorf("open after crash: %w", err)
			}
			h := p.Header()
			if string(p.Data()[:len(marker)]) != marker {
				return errors.New("pool data changed")
			}
			if h.SDS.Dirty != 1 || !h.SDS.ChecksumOK() {
				return fmt.Errorf("open pool: SDS %+v", h.SDS)
			}
			return p.Close()
		},
	}
	rep := crashsim.Explore(t, w, crashsim.Options{Strategies: crashStrategies})
	if rep.Fences < 6 {
		t.Fatalf("workload has %d fences, expected at least one per SDS update", rep.Fences)
	}
	t.Log(rep)
}

// TestCrashCreate: a crash during create leaves either no header (the file
// can be created again), a torn header that fails validation as C's would,
// or, once the header's fence has passed, a pool that opens.
func TestCrashCreate(t *testing.T) {
	w := crashsim.Workload{
		Size: 2 * HeaderSize,
		Run: func(m *core.Map) error {
			p, err := CreateOnMap(view(m), crashKind, nil)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			if firstNonZero(m.Bytes()[:HeaderSize]) < 0 {
				if c.Point > 1 {
					return errors.New("header lost after its fence")
				}
				p, err := CreateOnMap(view(m), crashKind, nil)
				if err != nil {
					return fmt.Errorf("create on an empty image: %w", err)
				}
				return p.Close()
			}
			p, err := OpenOnMap(view(m), crashKind, nil)
			if err != nil {
				if c.Point > 1 {
					return fmt.Errorf("open after the header's fence: %w", err)
				}
				if !errors.Is(err, core.ErrCorrupt) {
					return fmt.Errorf("torn header: %w, want ErrCorrupt", err)
				}
				return nil
			}
			return p.Close()
		},
	}
	t.Log(crashsim.Explore(t, w, crashsim.Options{Strategies: crashStrategies}))
}

// TestCrashSDSWithoutCksum2K shows why SDS requires CKSUM_2K (pmempool
// feature refuses it otherwise): when the header checksum covers the SDS,
// a crash between the SDS update and the checksum update leaves a header
// that fails validation. The explorer must find such images; it also
// proves the crash tests above can fail.
func TestCrashSDSWithoutCksum2K(t *testing.T) {
	k := crashKind
	k.Incompat = FeatSDS
	w := crashsim.Workload{
		Size: 2 * HeaderSize,
		Setup: func(m *core.Map) error {
			p, err := CreateOnMap(view(m), k, nil)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Run: func(m *core.Map) error {
			p, err := OpenOnMap(view(m), k, nil)
			if err != nil {
				return err
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			p, err := OpenOnMap(view(m), k, nil)
			if err != nil {
				return err
			}
			return p.Close()
		},
	}
	rep, err := crashsim.Run(w, crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("no torn header found: %v", rep)
	}
	if !errors.Is(rep.Failures[0].Err, core.ErrCorrupt) {
		t.Fatalf("failure %v is not a corrupt header", rep.Failures[0])
	}
}
