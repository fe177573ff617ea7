package obj

import (
	"errors"
	"fmt"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentAllocFree has goroutines allocate, fill, check and free
// objects of many sizes at once, some through destinations in the pool,
// while another iterates: no object is handed out twice (each goroutine's
// contents survive the others), and the heap checker passes afterwards.
func TestConcurrentAllocFree(t *testing.T) {
	path := pmemtest.Path(t, "pool")
	p, err := Create(path, 64<<20, 0o600, &Options{Layout: "conc"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const workers = 8
	n := 400
	if testing.Short() {
		n = 100
	}
	root, err := p.Root(workers * 16)
	if err != nil {
		t.Fatal(err)
	}
	slots := p.Bytes(root)
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	stop := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []OID
			dst := (*OID)(ptrAt(slots, w*16))
			for i := range n {
				size := []int{8, 64, 200, 1000, 5000, 70000, 2_100_000}[r.IntN(7)]
				tag := byte(w*31 + i)
				fill := func(b []byte) error {
					// First and last 64 bytes: enough to see another
					// goroutine's object in ours.
					for j := range min(64, len(b)) {
						b[j], b[len(b)-1-j] = tag, tag
					}
					return nil
				}
				var oid OID
				if i%5 == 0 {
					if err := p.FreeOID(dst); err != nil {
						errs <- err
						return
					}
					if err := p.AllocTo(dst, size, uint64(w), fill); err != nil && !errors.Is(err, ErrOutOfMemory) {
						errs <- err
						return
					}
					continue
				}
				oid, err := p.Alloc(size, uint64(w), fill)
				if errors.Is(err, ErrOutOfMemory) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mine = append(mine, oid)
				if len(mine) > 20 || r.IntN(3) == 0 {
					k := r.IntN(len(mine))
					o := mine[k]
					b := p.Bytes(o)
					if b[0] != b[len(b)-1] || b[0] != b[min(63, len(b)-1)] {
						errs <- fmt.Errorf("worker %d: object %v overwritten", w, o)
						return
					}
					if err := p.Free(o); err != nil {
						errs <- err
						return
					}
					mine = append(mine[:k], mine[k+1:]...)
				}
			}
			for _, o := range mine {
				if err := p.Free(o); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var iterWG sync.WaitGroup
	iterWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			for o := range p.Objects() {
				_, _ = p.TypeNum(o)
			}
		}
	})
	wg.Wait()
	close(stop)
	iterWG.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
	count := 0
	for range p.Objects() {
		count++
	}
	if count > workers {
		t.Fatalf("%d objects left, at most %d (the slots)", count, workers)
	}
}

// TestCloseDuringUse closes a pool while goroutines allocate, free, read
// and iterate: every call either completes or fails with ErrClosed, none
// touches the unmapped pool, and what completed is in the reopened pool.
func TestCloseDuringUse(t *testing.T) {
	path := pmemtest.Path(t, "pool")
	p, err := Create(path, 32<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	kept := map[OID]bool{}
	start := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			<-start
			for i := 0; ; i++ {
				oid, err := p.Alloc(64+w*100, 1, nil)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					if err := p.Free(oid); err != nil && !errors.Is(err, ErrClosed) {
						t.Error(err)
						return
					} else if err == nil {
						continue
					}
				}
				_ = p.Bytes(oid)
				for range p.Objects() {
					break
				}
				mu.Lock()
				kept[oid] = true
				mu.Unlock()
			}
		})
	}
	close(start)
	time.Sleep(20 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	p, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for oid := range kept {
		if _, err := p.UsableSize(oid); err != nil {
			t.Fatalf("object %v returned before Close is gone: %v", oid, err)
		}
	}
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
}
