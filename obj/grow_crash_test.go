package obj

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/pool"
)

// simGrower stands in for a pool on a directory poolset on the crash
// simulator: the pool's Map is the first size bytes of the device, and
// Extend grows it into the rest (the new part file, durable before the
// heap's first fence, as a file C creates and maps).
type simGrower struct {
	size int64
	room []byte
}

func (g *simGrower) Room() []byte { return g.room }
func (g *simGrower) Size() int64  { return g.size }
func (g *simGrower) Extend(n, minPart int64) (int64, error) {
	n = min(n, int64(len(g.room))-g.size)
	if n < minPart {
		return 0, pool.ErrExtend
	}
	g.size += n
	return n, nil
}

// TestCrashDirPoolsetGrow explores every crash point of an allocation
// that makes the heap grow (heap_size, the new chunks, the zone header,
// then the allocation's publication) with every strategy: the reopened
// pool (mapped whole, as the grown poolset opens) holds every object
// allocated before, at most the one in flight, and passes the checker.
func TestCrashDirPoolsetGrow(t *testing.T) {
	const small, whole = 16 << 20, 24 << 20
	testGrower = func(pp *pool.Pool) grower {
		if pp.Map().Size() >= whole {
			return pp
		}
		return &simGrower{size: int64(pp.Map().Size()), room: unsafe.Slice(&pp.Map().Bytes()[0], whole)}
	}
	t.Cleanup(func() { testGrower = nil })
	view := func(m *core.Map, n int) *core.Map {
		return core.NewMemoryMap(m.Bytes()[:n], m.Granularity(), m.Persister(), nil)
	}
	opts := &Options{Layout: "grow-crash", Arenas: 1}
	before := 0
	w := crashsim.Workload{
		Size: whole,
		Setup: func(m *core.Map) error {
			p, err := CreateOnMap(view(m, small), opts)
			if err != nil {
				return err
			}
			if err := p.CtlSet("heap.size.granularity", int64(0)); err != nil {
				return err
			}
			for before = 0; ; before++ {
				if _, err := p.Alloc(1<<20, 1, nil); err != nil {
					break
				}
			}
			return p.Close()
		},
		Run: func(m *core.Map) error {
			p, err := OpenOnMap(view(m, small), opts)
			if err != nil {
				return err
			}
			if err := p.CtlSet("heap.size.granularity", int64(4<<20)); err != nil {
				return err
			}
			if _, err := p.Alloc(1<<20, 2, nil); err != nil {
				return fmt.Errorf("alloc that grows the heap: %w", err)
			}
			return p.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			p, err := OpenOnMap(view(m, whole), opts)
			if err != nil {
				return err
			}
			defer p.Close()
			if n := countType(p, 1); n != before {
				return fmt.Errorf("%d objects of before, want %d", n, before)
			}
			n := countType(p, 2)
			if n > 1 || n == 1 && p.HeapSize() <= small {
				return fmt.Errorf("%d new objects, heap size %d", n, p.HeapSize())
			}
			if c.Point > c.Fences && n != 1 {
				return fmt.Errorf("the allocation returned but its object is missing")
			}
			if probs := p.Check(); len(probs) > 0 {
				return fmt.Errorf("check: %v", probs)
			}
			return nil
		},
	}
	o := crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(1)}}
	if testing.Short() {
		o.MaxPoints = 8
	}
	if rep := crashsim.Explore(t, w, o); rep.Fences < 4 || before == 0 {
		t.Fatalf("%d fences, %d objects before: the growth path was not taken", rep.Fences, before)
	}
}
