package containers_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

func newConcQueue(t testing.TB, p *obj.Pool, root *concRoot, capacity int) *containers.MPSCQueue {
	t.Helper()
	return makeIn(t, p, &root.Queue, func(tx *obj.Tx) (*containers.MPSCQueue, error) {
		return containers.NewMPSCQueue(tx, p, capacity)
	})
}

// TestQueueConcurrent has producers push numbered records through a small
// ring (so it wraps and fills) while one consumer takes them; each
// producer's records must arrive once, in its order.
func TestQueueConcurrent(t *testing.T) {
	p, root, path := newConcPool(t)
	q := newConcQueue(t, p, root, 1000)
	const producers = 4
	per := 500
	if testing.Short() {
		per = 150
	}
	var wg sync.WaitGroup
	for w := range producers {
		wg.Go(func() {
			for i := 0; i < per; {
				rec := fmt.Appendf(nil, "%d %d %s", w, i, make([]byte, i%37))
				switch err := q.Produce(rec); {
				case err == nil:
					i++
				case errors.Is(err, containers.ErrQueueFull):
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	next := make([]int, producers)
	consume := func(rec []byte) error {
		var w, i int
		if _, err := fmt.Sscanf(string(rec), "%d %d", &w, &i); err != nil {
			return err
		}
		if i != next[w] {
			return fmt.Errorf("producer %d: record %d, want %d", w, i, next[w])
		}
		next[w]++
		return nil
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if _, err := q.Consume(consume); err != nil {
			t.Fatal(err)
		}
	}
	for w, n := range next {
		if n != per {
			t.Fatalf("producer %d: %d records consumed", w, n)
		}
	}
	// Records left at close come back after the reopen, once.
	for i := range 10 {
		if err := q.Produce(fmt.Appendf(nil, "0 %d", per+i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := q.Consume(func(rec []byte) error {
		if string(rec) == fmt.Sprint("0 ", per+5) {
			return errors.New("stop")
		}
		return consume(rec)
	}); err == nil || n != 5 {
		t.Fatalf("Consume stopped by fn: %d, %v", n, err)
	}
	p, root = concReopen(t, p, path)
	q, err := containers.OpenMPSCQueue(p, root.Queue)
	if err != nil {
		t.Fatal(err)
	}
	if q.Len() != 5 {
		t.Fatalf("Len after reopen %d, want 5", q.Len())
	}
	if n, err := q.Consume(consume); err != nil || n != 5 {
		t.Fatalf("Consume after reopen: %d, %v", n, err)
	}
	if err := q.Produce(make([]byte, 1000)); !errors.Is(err, containers.ErrRecordSize) {
		t.Fatalf("a record larger than the ring: %v", err)
	}
	concCheckPool(t, p)
}
