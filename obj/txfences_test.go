package obj_test

import (
	"runtime"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/obj/objtest"
)

// gcAtFences is a simulated device's persist path that runs the garbage
// collector (twice: sync.Pool keeps a victim cache) at every every-th
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
// run is fence p of another). objtest.Transactions does not when a garbage
// collection comes during its run: a lookup inside a transaction
// (Ptr.Get) takes a second lane and leaves its hint in the lanes'
// sync.Pool, so the next transaction takes that lane, unless a collection
// emptied the pool and it falls back to lane 0; the lane a transaction
// gets decides whether the undo log extension kept by an earlier large
// transaction is there, and the second blob rewrite allocates one or not
// (3 fences). Crash explorations of the workload then fail now and then:
// "run ended after 111 fences, the uncut run issued 114" at the last
// points, or a stale acknowledgment of the transaction in flight.
func TestCrashTransactionsFencesIndependentOfGC(t *testing.T) {
	t.Skip("BUG: objtest.Transactions issues 111 or 114 fences depending on garbage collections during its run (lane hints in sync.Pool, kept undo extensions per lane)")
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
