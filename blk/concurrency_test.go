package blk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestConcurrentPool: goroutines write, zero and read shared and private
// blocks of a file pool at once (more goroutines than lanes); no read ever
// returns a mix of two versions, and the BTT is consistent afterwards.
func TestConcurrentPool(t *testing.T) {
	p, err := Create(pmemtest.Path(t, "c.blk"), 32<<20, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const shared, workers = 6, 12
	iters := 500
	if testing.Short() {
		iters = 150
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			buf := make([]byte, 512)
			private := int64(100 + w)
			last := 0
			var err error
			for i := range iters {
				lba := int64(r.IntN(shared))
				switch {
				case w%3 == 0: // writer of shared blocks
					if r.IntN(10) == 0 {
						err = p.SetZero(lba)
					} else {
						err = p.WriteBlock(pattern(lba, i%250+1, 512), lba)
					}
				case w%3 == 1: // reader of shared blocks
					err = p.ReadBlock(buf, lba)
					if g := int(buf[0]); err == nil && !bytes.Equal(buf, pattern(lba, g, 512)) {
						err = fmt.Errorf("torn read of block %d", lba)
					}
				default: // owner of a private block: sees its own last write
					if i%2 == 0 {
						last = i%250 + 1
						err = p.WriteBlock(pattern(private, last, 512), private)
					} else if err = p.ReadBlock(buf, private); err == nil && !bytes.Equal(buf, pattern(private, last, 512)) {
						err = fmt.Errorf("block %d: got generation %d, wrote %d", private, buf[0], last)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if probs := p.Check(); len(probs) != 0 {
		t.Fatalf("check: %v", probs)
	}
}

// TestCloseDuringUse: Close while goroutines read and write waits for the
// calls in progress; every call returns nil or ErrClosed, none touches the
// unmapped pool (which would fault).
func TestCloseDuringUse(t *testing.T) {
	for round := range 20 {
		p, err := Create(pmemtest.Path(t, fmt.Sprintf("close%d.blk", round)), 32<<20, 0o600, &Options{BlockSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Go(func() {
				buf := make([]byte, 4096)
				<-start
				for i := 0; ; i++ {
					lba := int64(w*16 + i%16)
					var err error
					if w%2 == 0 {
						err = p.WriteBlock(pattern(lba, i%250+1, 4096), lba)
					} else {
						err = p.ReadBlock(buf, lba)
					}
					if err == nil && i%7 == 0 && w == 1 {
						_ = p.Check()
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							errs <- err
						}
						return
					}
				}
			})
		}
		close(start)
		time.Sleep(time.Duration(round%4) * time.Millisecond)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

// TestLanesShared: with more goroutines than lanes, writers that find
// their P's lane held take another or wait for it, and reads on Ps without
// a read slot of their own (none here) go through the lanes too; the
// blocks stay whole and the BTT consistent.
func TestLanesShared(t *testing.T) {
	p, err := Create(pmemtest.Path(t, "shared.blk"), 32<<20, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.lanes.init(2)
	p.procSlots = 0
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			buf := make([]byte, 512)
			for i := range 300 {
				lba := int64(i % 5)
				var err error
				if w%2 == 0 {
					err = p.WriteBlock(pattern(lba, i%250+1, 512), lba)
				} else if err = p.ReadBlock(buf, lba); err == nil && buf[0] != 0 && !bytes.Equal(buf, pattern(lba, int(buf[0]), 512)) {
					err = fmt.Errorf("torn read of block %d", lba)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if probs := p.Check(); len(probs) != 0 {
		t.Fatalf("check: %v", probs)
	}
}
