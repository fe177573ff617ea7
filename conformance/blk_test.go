package conformance_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// blk's cases: a pool on every backend, and the per-block atomicity of
// writes, set_zero and set_error at every crash point.
func init() {
	conformance.Register("blk",
		conformance.Case{Name: "write-zero-error-reopen", Run: blkReopen},
	)
	conformance.RegisterCrash("blk",
		conformance.CrashCase{Name: "write-zero-error", Workload: blkCrashWorkload()},
	)
}

// blkPattern is block lba's content in generation gen (0: zeros).
func blkPattern(lba int64, gen, n int) []byte {
	p := make([]byte, n)
	if gen == 0 {
		return p
	}
	for i := range p {
		p[i] = byte(lba ^ int64(i*7) ^ int64(gen))
	}
	p[0] = byte(gen)
	return p
}

// blkState reads block lba: its generation, -1 for the error state, or an
// error for a torn block.
func blkState(p *blk.Pool, lba int64) (int, error) {
	buf := make([]byte, p.BSize())
	if err := p.ReadBlock(buf, lba); err != nil {
		if errors.Is(err, blk.ErrBlockError) {
			return -1, nil
		}
		return 0, err
	}
	if g := int(buf[0]); bytes.Equal(buf, blkPattern(lba, g, len(buf))) {
		return g, nil
	}
	return 0, fmt.Errorf("block %d torn", lba)
}

func blkReopen(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, blk.MinPoolSize)
	p, err := blk.CreateOnMap(m, &blk.Options{BlockSize: 512, Zeroed: true})
	if err != nil {
		t.Fatal(err)
	}
	n := p.NBlock()
	for _, lba := range []int64{0, 1, 2, n - 1} {
		if err := p.WriteBlock(blkPattern(lba, 1, 512), lba); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.WriteBlock(blkPattern(1, 2, 512), 1); err != nil {
		t.Fatal(err)
	}
	if err := p.SetZero(2); err != nil {
		t.Fatal(err)
	}
	if err := p.SetError(3); err != nil {
		t.Fatal(err)
	}
	m = b.Reopen(t, m)
	p, err = blk.OpenOnMap(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.NBlock() != n || p.BSize() != 512 {
		t.Fatalf("reopened: %d blocks of %d", p.NBlock(), p.BSize())
	}
	for lba, want := range map[int64]int{0: 1, 1: 2, 2: 0, 3: -1, n - 1: 1, 4: 0} {
		if got, err := blkState(p, lba); err != nil || got != want {
			t.Errorf("block %d: state %d (%v), want %d", lba, got, err, want)
		}
	}
	if probs := p.Check(); len(probs) != 0 {
		t.Errorf("check: %v", errors.Join(probs...))
	}
}

type blkOp struct {
	kind byte // 'w', 'z', 'e'
	lba  int64
	gen  int
}

// blkCrashWorkload writes, zeroes and fails blocks of a laid-out pool;
// after any crash the blocks must be as after some prefix of the
// operations (at least those that returned before the crash), the BTT
// check must pass and every block must be writable.
func blkCrashWorkload() crashsim.Workload {
	const bsize = 512
	// Few operations: the case runs on every crash backend, and blk's own
	// TestCrash* explore longer sequences.
	initial := map[int64]int{0: 1, 1: 1, 2: 1, 3: 1}
	ops := []blkOp{{'w', 0, 2}, {'z', 1, 0}, {'e', 2, 0}, {'w', 1, 3}}
	states := []map[int64]int{initial}
	for _, o := range ops {
		s := map[int64]int{}
		maps.Copy(s, states[len(states)-1])
		s[o.lba] = map[byte]int{'w': o.gen, 'z': 0, 'e': -1}[o.kind]
		states = append(states, s)
	}
	blocks := []int64{0, 1, 2, 3}
	// doneAt[i]: fences Run had issued when op i returned (on the crash
	// simulator; Run is deterministic, so every run records the same).
	doneAt := make([]int, len(ops))
	return crashsim.Workload{
		Size: blk.MinPoolSize,
		Setup: func(m *core.Map) error {
			p, err := blk.CreateOnMap(m, &blk.Options{BlockSize: bsize, Zeroed: true})
			if err != nil {
				return err
			}
			for lba, g := range initial {
				if err := p.WriteBlock(blkPattern(lba, g, bsize), lba); err != nil {
					return err
				}
			}
			return nil
		},
		Run: func(m *core.Map) error {
			p, err := blk.OpenOnMap(m, &blk.Options{BlockSize: bsize})
			if err != nil {
				return err
			}
			dev, _ := m.Persister().(*crashsim.Device)
			for i, o := range ops {
				switch o.kind {
				case 'w':
					err = p.WriteBlock(blkPattern(o.lba, o.gen, bsize), o.lba)
				case 'z':
					err = p.SetZero(o.lba)
				default:
					err = p.SetError(o.lba)
				}
				if err != nil {
					return err
				}
				if dev != nil {
					doneAt[i] = dev.Fences()
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			p, err := blk.OpenOnMap(m, &blk.Options{BlockSize: bsize})
			if err != nil {
				return err
			}
			got := map[int64]int{}
			for _, lba := range blocks {
				if got[lba], err = blkState(p, lba); err != nil {
					return err
				}
			}
			match := -1
			for i, s := range states {
				same := true
				for _, lba := range blocks {
					same = same && s[lba] == got[lba]
				}
				if same {
					match = i
				}
			}
			if match < 0 {
				return fmt.Errorf("blocks %v match no prefix of the operations", got)
			}
			// Each operation persists before returning: those that
			// returned before the crash fence (all, after Run) survive.
			done := c.Acknowledged(doneAt)
			if match < done {
				return fmt.Errorf("crash at fence %d: %d operations had returned, but blocks %v are as after %d", c.Point, done, got, match)
			}
			if probs := p.Check(); len(probs) != 0 {
				return errors.Join(probs...)
			}
			for _, lba := range blocks {
				if err := p.WriteBlock(blkPattern(lba, 9, bsize), lba); err != nil {
					return fmt.Errorf("write after recovery: %w", err)
				}
			}
			if probs := p.Check(); len(probs) != 0 {
				return fmt.Errorf("after rewriting: %w", errors.Join(probs...))
			}
			return nil
		},
	}
}
