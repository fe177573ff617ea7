package kv_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/kv"
)

// TestConcurrent runs writers on disjoint keys beside readers, walkers
// and batches on every engine (run it with -race); each writer's keys end
// as it left them.
func TestConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ec engineCase) {
		db := openEngine(t, ec, ec.config(t))
		const writers, n = 3, 300
		var wg sync.WaitGroup
		models := make([]model, writers)
		for w := range writers {
			models[w] = model{}
			wg.Go(func() {
				m := models[w]
				for i := range n {
					k := fmt.Sprintf("w%d-%03d", w, i%100)
					if i%7 == 3 {
						if err := db.Remove([]byte(k)); err == nil || m[k] == "" {
							delete(m, k)
						}
						continue
					}
					v := fmt.Sprintf("v%d", i)
					if err := db.Put([]byte(k), []byte(v)); err != nil {
						t.Error(err)
						return
					}
					m[k] = v
					if _, err := db.Get([]byte(k)); ec.keepsData && err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		stop := make(chan struct{})
		var rg sync.WaitGroup
		rg.Go(func() {
			// The stop check ends the loop, so that the batch is put at
			// least once even when the writers finish first.
			for {
				db.CountAll()
				db.GetAll(func(k, v []byte) bool { return len(k) >= 0 })
				if ec.sorted {
					db.CountBetween([]byte("w0"), []byte("w2"))
					if it, err := db.NewIterator(); err == nil {
						for ok, _ := it.SeekToFirst(); ok; ok, _ = it.Next() {
						}
					}
				}
				if !ec.noBatch {
					db.Update(func(b *kv.Batch) error { return b.Put([]byte("batch"), []byte("x")) })
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
		wg.Wait()
		close(stop)
		rg.Wait()
		all := model{}
		for _, m := range models {
			for k, v := range m {
				all[k] = v
			}
		}
		if !ec.noBatch {
			all["batch"] = "x"
		}
		checkModel(t, ec, db, all)
	})
}

// TestGetCopyDuringClose reads while another goroutine closes: every read
// either finds the pair or reports ErrClosed (the volatile engines' reads
// skip the DB's lock and rely on their own).
func TestGetCopyDuringClose(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ec engineCase) {
		if !ec.keepsData {
			t.Skip("blackhole keeps nothing")
		}
		db := openEngine(t, ec, ec.config(t))
		for i := range 100 {
			if err := db.Put(fmt.Appendf(nil, "k%03d", i), []byte("value")); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for g := range 2 {
			wg.Go(func() {
				buf := make([]byte, 8)
				for i := 0; ; i++ {
					n, err := db.GetCopy(fmt.Appendf(nil, "k%03d", (i+g)%100), buf)
					if errors.Is(err, kv.ErrClosed) {
						return
					}
					if err != nil || string(buf[:n]) != "value" {
						errs <- fmt.Errorf("read %d: %q, %v", i, buf[:n], err)
						return
					}
				}
			})
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
