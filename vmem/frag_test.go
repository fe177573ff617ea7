package vmem

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestFragmentation runs a mixed-size workload with churn (a live set of
// about half the pool, random frees and allocations), then fills the pool
// until it runs out, and reports: internal waste (usable / requested),
// page overhead (active pages / requested), external fragmentation of the
// free space (1 - largest free extent / free bytes), and the pool's
// utilization at the first out-of-memory (requested / pool size).
func TestFragmentation(t *testing.T) {
	const size = 32 << 20
	p := newTestPool(t, size, nil)
	r := rand.New(rand.NewPCG(42, 42))
	type alloc struct {
		b []byte
		n int
	}
	var lives []alloc
	var requested int64
	malloc := func() error {
		n := randomSize(r, 256<<10)
		b, err := p.Malloc(n)
		if err != nil {
			return err
		}
		lives = append(lives, alloc{b, n})
		requested += int64(n)
		return nil
	}
	free := func() {
		i := r.IntN(len(lives))
		if err := p.Free(lives[i].b); err != nil {
			t.Fatal(err)
		}
		requested -= int64(lives[i].n)
		lives[i] = lives[len(lives)-1]
		lives = lives[:len(lives)-1]
	}
	for requested < size/2 {
		if err := malloc(); err != nil {
			t.Fatal(err)
		}
	}
	for range 200000 {
		if requested > size/2 {
			free()
		} else if err := malloc(); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := p.Stats()
	internal := float64(st.Allocated) / float64(requested)
	overhead := float64(st.Active) / float64(requested)
	external := 1 - float64(st.LargestFree)/float64(st.Free)
	t.Logf("after churn: %d live allocations, %d bytes requested, %d usable (%.3fx), %d in active pages (%.3fx); free %d bytes in %d extents, largest %d (external fragmentation %.3f)",
		len(lives), requested, st.Allocated, internal, st.Active, overhead, st.Free, st.FreeExtents, st.LargestFree, external)
	if overhead > 1.35 {
		t.Errorf("active pages %.3fx the requested bytes", overhead)
	}
	checkPool(t, p)
	// Fill until out of memory; small requests still fit once large
	// ones do not, so keep going until ten in a row fail.
	for fails := 0; fails < 10; {
		if err := malloc(); err != nil {
			if !errors.Is(err, ErrNoMem) {
				t.Fatal(err)
			}
			fails++
		}
	}
	st, _ = p.Stats()
	util := float64(requested) / float64(size)
	t.Logf("filled: %d bytes requested of %d (utilization %.3f), %d usable; free %d bytes, largest extent %d",
		requested, size, util, st.Allocated, st.Free, st.LargestFree)
	if util < 0.75 {
		t.Errorf("pool ran out at %.3f utilization", util)
	}
	checkPool(t, p)
}
