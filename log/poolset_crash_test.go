package log

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/pool"
)

// replicaHalves splits the simulated device m into a primary and a
// replica of half its size each, both persisted through the device, so
// that a crash can fall between the persist of the primary and that of
// the replica.
func replicaHalves(m *core.Map) []*core.Map {
	b := m.Bytes()
	half := len(b) / 2
	return []*core.Map{
		core.NewMemoryMap(b[:half], m.Granularity(), m.Persister(), nil),
		core.NewMemoryMap(b[half:], m.Granularity(), m.Persister(), nil),
	}
}

// TestCrashReplicated: the crash workload of TestCrash on a log with a
// local replica. Every crash point, those between the primary's persist
// and the replica's among them, reopens to a log the unreplicated checks
// accept, and after the reopen (which repairs the replica) and the
// check's own append the replica equals the primary.
func TestCrashReplicated(t *testing.T) {
	create := func(m *core.Map) (*Log, error) {
		p, err := pool.CreateOnMaps(replicaHalves(m), pool.Log, nil)
		if err != nil {
			return nil, err
		}
		return formatPool(p)
	}
	open := func(m *core.Map) (*Log, error) {
		p, err := pool.OpenOnMaps(replicaHalves(m), pool.Log, nil)
		if err != nil {
			return nil, err
		}
		return attachPool(p)
	}
	w := logWorkloadOn(crashOps(), applyOp, 2*MinPoolSize, create, open)
	check := w.Check
	diverged := 0 // post-crash images whose replica lagged the primary
	w.Check = func(m *core.Map, c crashsim.Crash) error {
		if b := m.Bytes(); !bytes.Equal(b[pool.HeaderSize:len(b)/2], b[len(b)/2+pool.HeaderSize:]) {
			diverged++
		}
		if err := check(m, c); err != nil {
			return err
		}
		b := m.Bytes()
		half := len(b) / 2
		if !bytes.Equal(b[pool.HeaderSize:half], b[half+pool.HeaderSize:]) {
			return fmt.Errorf("replica differs from the primary after recovery")
		}
		return nil
	}
	// Pessimistic and optimistic images: every crash point, a crash
	// between the two replicas' persists among them, stays cheap.
	o := crashsim.Options{Strategies: crashStrategies[:2]}
	if testing.Short() {
		o.MaxPoints = 10
	}
	crashsim.Explore(t, w, o)
	if diverged == 0 {
		t.Fatal("no crash left the replica behind the primary: the crash points between replicas were not explored")
	}
}
