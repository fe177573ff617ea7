package obj

import (
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestPoolsetReplicaConcurrent: goroutines allocating at once in a pool
// with a local replica (the replicated persister under concurrent
// persists, run with -race in CI); every object is in the primary and in
// the replica.
func TestPoolsetReplicaConcurrent(t *testing.T) {
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "r.set", "8M {dir}/p0", "8M {dir}/p1", "REPLICA", "16M {dir}/r0")
	p, err := Create(set, 0, 0o600, &Options{Layout: "replica"})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				fill := func(b []byte) error {
					for j := range b {
						b[j] = byte(w*each + i)
					}
					return nil
				}
				if _, err := p.Alloc(64+i*37, uint64(w+1), fill); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// The replica must hold the whole pool: opened as the primary (the
	// same set with the replicas in the other order: two replicas link to
	// each other either way) it has every object. (It is not equal to the
	// primary byte for byte: obj, like C, never persists the footers of
	// free chunks, which the heap rebuilds at open.)
	swapped := pmemtest.Poolset(t, dir, "swapped.set", "16M {dir}/r0", "REPLICA", "8M {dir}/p0", "8M {dir}/p1")
	for _, path := range []string{set, swapped} {
		p, err = Open(path, &Options{Layout: "replica"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range p.Objects() {
			n++
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if n != workers*each {
			t.Fatalf("%s: %d objects after reopen, want %d", path, n, workers*each)
		}
	}
}
