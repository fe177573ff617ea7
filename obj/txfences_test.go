package obj_test

import (
	"runtime"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj/objtest"
)

// gcAtFences is a simulated device's persist path that runs the garbage
// collector (twice, as a sync.Pool's victim cache needs) at every every-th
// fence of the code above it.
type gcAtFences struct {
	*crashsim.Device
	every, n int
}

func (g *gcAtFences) Drain() {
	if g.n++; g.n%g.every == 0 {
		runtime.GC()
		runtime.GC()
	}
	g.Device.Drain()
}

func (g *gcAtFences) Persist(b []byte) { g.Flush(b); g.Drain() }

// TestCrashTransactionsFencesIndependentOfGC: the crash simulator needs a
// workload that issues the same fences on every run (crash point p of one
// run is fence p of another). objtest.Transactions once did not when a
// garbage collection came during its run: a lookup inside a transaction
// (Ptr.Get) took a second lane and left its hint in the lanes' sync.Pool,
// so the next transaction took that lane unless a collection had emptied
// the pool; the lane decides whether the undo log extension an earlier
// large transaction kept is there, so the second blob rewrite allocated
// one or not (3 fences). Lookups take no lane now, and the lane hints
// are per-P words a collection does not drop.
func TestCrashTransactionsFencesIndependentOfGC(t *testing.T) {
	fences := func(every int) int {
		w := objtest.Transactions()
		d, err := crashsim.NewDevice(w.Size)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := w.Setup(d.Map()); err != nil {
			t.Fatal(err)
		}
		before := d.Fences()
		m := d.Map()
		if every > 0 {
			m = core.NewMemoryMap(m.Bytes(), m.Granularity(), &gcAtFences{Device: d, every: every}, nil)
		}
		if err := w.Run(m); err != nil {
			t.Fatal(err)
		}
		return d.Fences() - before
	}
	want := fences(0)
	for _, every := range []int{1, 5, 11, 13} {
		if got := fences(every); got != want {
			t.Errorf("with a garbage collection every %d fences the run issues %d fences, without %d", every, got, want)
		}
	}
}
