package pmreorder_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/tools/pmreorder"
)

// view returns a Map over m whose Close leaves m open: a pool on it can be
// closed without closing the device.
func view(m *core.Map) *core.Map {
	return core.NewMemoryMap(m.Bytes(), m.Granularity(), m.Persister(), nil)
}

func fill(n int, c byte) []byte {
	return bytes.Repeat([]byte{c}, n)
}

// fileChecker returns a checker that calls open on the image's Map (the
// library's open, with its recovery, and a read-back), then writes the
// recovered image to a pool file and runs check on its path (the
// library's Check, what pmempool check runs).
func fileChecker(t *testing.T, check func(path string) ([]error, error), open func(m *core.Map) error) pmreorder.Checker {
	path := filepath.Join(t.TempDir(), "pool")
	return func(m *core.Map) error {
		if err := open(m); err != nil {
			return err
		}
		if err := os.WriteFile(path, m.Bytes(), 0o600); err != nil {
			return fmt.Errorf("%w: %w", pmreorder.ErrChecker, err)
		}
		problems, err := check(path)
		if err != nil {
			return fmt.Errorf("%w: %w", pmreorder.ErrChecker, err)
		}
		if len(problems) > 0 {
			return fmt.Errorf("check: %w", errors.Join(problems...))
		}
		return nil
	}
}

// logWorkload appends to a log pool, each append in a region marked
// pmemlog_append, then rewinds and appends again.
func logWorkload(appends [][]byte) crashsim.Workload {
	return crashsim.Workload{
		Size: pmemlog.MinPoolSize,
		Setup: func(m *core.Map) error {
			l, err := pmemlog.CreateOnMap(view(m), nil)
			if err != nil {
				return err
			}
			return l.Close()
		},
		Run: func(m *core.Map) error {
			l, err := pmemlog.OpenOnMap(view(m), nil)
			if err != nil {
				return err
			}
			for i, a := range appends {
				if i == len(appends)-1 {
					if err := l.Rewind(); err != nil {
						return err
					}
				}
				crashsim.Mark(m, "pmemlog_append.BEGIN")
				if err := l.Append(a); err != nil {
					return err
				}
				crashsim.Mark(m, "pmemlog_append.END")
			}
			return l.Close()
		},
	}
}

// A recording of log appends replays clean under every engine, checked by
// the log module's own Check on the image as a pool file and by reading
// the log back: its content is always that of a whole number of appends.
func TestLogPool(t *testing.T) {
	appends := [][]byte{fill(10, 'a'), fill(100, 'b'), fill(70, 'c'), fill(1, 'd')}
	var states [][]byte // the content after each prefix of appends
	var cur []byte
	for i, a := range appends {
		states = append(states, bytes.Clone(cur))
		if i == len(appends)-1 {
			cur = nil
			states = append(states, nil)
		}
		cur = append(cur, a...)
	}
	states = append(states, cur)
	w := logWorkload(appends)
	l, err := pmreorder.Record(w)
	if err != nil {
		t.Fatal(err)
	}
	check := fileChecker(t, func(path string) ([]error, error) { return pmemlog.Check(path, nil) }, func(m *core.Map) error {
		lg, err := pmemlog.OpenOnMap(view(m), nil)
		if err != nil {
			return err
		}
		defer lg.Close()
		got, err := lg.Bytes()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(states, func(s []byte) bool { return bytes.Equal(s, got) }) {
			return fmt.Errorf("log holds %d bytes, no whole number of appends", len(got))
		}
		return nil
	})
	for _, e := range checking {
		t.Run(e.String(), func(t *testing.T) {
			res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{
				Default: pmreorder.NoReorderDoCheck,
				Markers: map[string]pmreorder.Engine{"pmemlog_append": e},
				Check:   check,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Inconsistent != nil {
				t.Fatal(res.Inconsistent)
			}
			if res.Images < res.Fences/2 {
				t.Fatalf("%d images for %d fences", res.Images, res.Fences)
			}
			t.Logf("%d stores, %d fences, %d images", res.Stores, res.Fences, res.Images)
		})
	}
}

// A recording of blk writes replays clean: every image passes the blk
// module's Check and reads every block whole, old or new.
func TestBlkPool(t *testing.T) {
	const bsize = 512
	pattern := func(lba int64, gen int) []byte {
		b := make([]byte, bsize)
		for i := range b {
			b[i] = byte(int(lba)*7 + gen*13 + i)
		}
		return b
	}
	writes := []struct {
		lba int64
		gen int
	}{{0, 1}, {3, 1}, {0, 2}}
	w := crashsim.Workload{
		Size: blk.MinPoolSize,
		Setup: func(m *core.Map) error {
			p, err := blk.CreateOnMap(view(m), &blk.Options{BlockSize: bsize, Zeroed: true})
			if err != nil {
				return err
			}
			// The first write lays the BTT out: keep it out of the
			// recording.
			if err := p.WriteBlock(pattern(5, 1), 5); err != nil {
				return err
			}
			return p.Close()
		},
		Run: func(m *core.Map) error {
			p, err := blk.OpenOnMap(view(m), nil)
			if err != nil {
				return err
			}
			for _, wr := range writes {
				crashsim.Mark(m, "pmemblk_write.BEGIN")
				if err := p.WriteBlock(pattern(wr.lba, wr.gen), wr.lba); err != nil {
					return err
				}
				crashsim.Mark(m, "pmemblk_write.END")
			}
			return p.Close()
		},
	}
	l, err := pmreorder.Record(w)
	if err != nil {
		t.Fatal(err)
	}
	check := fileChecker(t, func(path string) ([]error, error) { return blk.Check(path, nil) }, func(m *core.Map) error {
		p, err := blk.OpenOnMap(view(m), nil)
		if err != nil {
			return err
		}
		defer p.Close()
		if probs := p.Check(); len(probs) > 0 {
			return fmt.Errorf("BTT check: %w", errors.Join(probs...))
		}
		buf := make([]byte, bsize)
		for _, lba := range []int64{0, 3} {
			if err := p.ReadBlock(buf, lba); err != nil {
				return err
			}
			ok := bytes.Equal(buf, make([]byte, bsize))
			for gen := 1; gen <= 2; gen++ {
				ok = ok || bytes.Equal(buf, pattern(lba, gen))
			}
			if !ok {
				return fmt.Errorf("block %d torn", lba)
			}
		}
		return nil
	})
	// ReorderFull would check a million images: a write flushes 9 lines at
	// one fence.
	for _, e := range []pmreorder.Engine{pmreorder.ReorderPartial, pmreorder.ReorderAccumulative, pmreorder.ReorderReverseAccumulative} {
		t.Run(e.String(), func(t *testing.T) {
			res, err := pmreorder.Replay(t.Context(), l, pmreorder.Config{
				Default: pmreorder.NoReorderDoCheck,
				Markers: map[string]pmreorder.Engine{"pmemblk_write": e},
				Check:   check,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Inconsistent != nil {
				t.Fatal(res.Inconsistent)
			}
			t.Logf("%d stores, %d fences, %d images", res.Stores, res.Fences, res.Images)
		})
	}
}
