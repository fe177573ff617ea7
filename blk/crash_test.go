package blk

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// blockState is what one block reads as: a pattern generation (0 = zeros)
// or the error state (-1).
type blockState int

const stateError blockState = -1

// crashOp is one step of a crash workload.
type crashOp struct {
	kind byte // 'w' write, 'z' set zero, 'e' set error
	lba  int64
	gen  int
	// lane, if > 0, is the BTT lane a write goes through, as if another
	// goroutine's call had taken it (Pool picks lanes by P).
	lane int
}

func (o crashOp) apply(p *Pool) error {
	switch o.kind {
	case 'w':
		if o.lane > 0 {
			return p.t.Write(o.lane, uint64(o.lba), pattern(o.lba, o.gen, p.BSize()))
		}
		return p.WriteBlock(pattern(o.lba, o.gen, p.BSize()), o.lba)
	case 'z':
		return p.SetZero(o.lba)
	}
	return p.SetError(o.lba)
}

// prefixStates returns the block states after each prefix of ops (0..len).
func prefixStates(initial map[int64]blockState, ops []crashOp) []map[int64]blockState {
	cur := map[int64]blockState{}
	maps.Copy(cur, initial)
	out := []map[int64]blockState{clone(cur)}
	for _, o := range ops {
		switch o.kind {
		case 'w':
			cur[o.lba] = blockState(o.gen)
		case 'z':
			cur[o.lba] = 0
		case 'e':
			cur[o.lba] = stateError
		}
		out = append(out, clone(cur))
	}
	return out
}

func clone(m map[int64]blockState) map[int64]blockState {
	c := make(map[int64]blockState, len(m))
	maps.Copy(c, m)
	return c
}

// readState reads block lba and names its state; a block that is neither
// zeros nor a whole pattern is an error (a torn block).
func readState(p *Pool, lba int64) (blockState, error) {
	buf := make([]byte, p.BSize())
	if err := p.ReadBlock(buf, lba); err != nil {
		if errors.Is(err, ErrBlockError) {
			return stateError, nil
		}
		return 0, err
	}
	gen := int(buf[0])
	if !bytes.Equal(buf, pattern(lba, gen, p.BSize())) {
		return 0, fmt.Errorf("block %d is torn (starts like generation %d)", lba, gen)
	}
	return blockState(gen), nil
}

// crashWorkload runs ops on a pool whose setup wrote the blocks in
// initial (generations > 0); Check demands that after recovery the blocks
// are exactly as after some prefix of ops (at least the ops that had
// returned before the crash), that the BTT check passes, and that every block can be
// written again.
func crashWorkload(bsize int, initial map[int64]blockState, ops []crashOp) crashsim.Workload {
	want := prefixStates(initial, ops)
	blocks := map[int64]bool{}
	for k := range initial {
		blocks[k] = true
	}
	for _, o := range ops {
		blocks[o.lba] = true
	}
	// doneAt[i]: fences Run had issued when op i returned, the same in
	// every run (Run is deterministic). A crash at fence p leaves every op
	// with doneAt < p complete.
	doneAt := make([]int, len(ops))
	return crashsim.Workload{
		Size: MinPoolSize,
		Setup: func(m *core.Map) error {
			p, err := CreateOnMap(m, &Options{BlockSize: bsize, Zeroed: true})
			if err != nil {
				return err
			}
			for lba, gen := range initial {
				if err := p.WriteBlock(pattern(lba, int(gen), bsize), lba); err != nil {
					return err
				}
			}
			return nil // not closed: closing would unmap the device
		},
		Run: func(m *core.Map) error {
			p, err := OpenOnMap(m, &Options{BlockSize: bsize})
			if err != nil {
				return err
			}
			dev, _ := m.Persister().(*crashsim.Device)
			for i, o := range ops {
				if err := o.apply(p); err != nil {
					return err
				}
				if dev != nil {
					doneAt[i] = dev.Fences()
				}
			}
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			p, err := OpenOnMap(m, &Options{BlockSize: bsize})
			if err != nil {
				return fmt.Errorf("reopen: %w", err)
			}
			got := map[int64]blockState{}
			for lba := range blocks {
				s, err := readState(p, lba)
				if err != nil {
					return err
				}
				got[lba] = s
			}
			match := -1
			for i, w := range want {
				same := true
				for lba := range blocks {
					if w[lba] != got[lba] {
						same = false
						break
					}
				}
				if same {
					match = i
				}
			}
			if match < 0 {
				return fmt.Errorf("blocks %v match no prefix of the operations", got)
			}
			// Every operation persists before it returns: those that
			// returned before the crash (all, once Run has) must have
			// survived.
			done := 0
			for done < len(ops) && (c.Point > c.Fences || doneAt[done] < c.Point) {
				done++
			}
			if match < done {
				return fmt.Errorf("crash at fence %d: %d operations had returned, but blocks %v are as after %d", c.Point, done, got, match)
			}
			if probs := p.Check(); len(probs) != 0 {
				return fmt.Errorf("check after recovery: %v", errors.Join(probs...))
			}
			// The recovered free blocks must be usable: rewrite everything.
			for lba := range blocks {
				if err := p.WriteBlock(pattern(lba, 200, bsize), lba); err != nil {
					return fmt.Errorf("write after recovery: %w", err)
				}
			}
			for lba := range blocks {
				if s, err := readState(p, lba); err != nil || s != 200 {
					return fmt.Errorf("block %d after rewrite: %v %v", lba, s, err)
				}
			}
			if probs := p.Check(); len(probs) != 0 {
				return fmt.Errorf("check after rewrite: %v", errors.Join(probs...))
			}
			return nil
		},
	}
}

// TestCrashWriteZeroError: at every crash point of writes, set_zero and
// set_error on a few blocks, each block is wholly its old or its new
// content (in operation order) and the BTT stays consistent.
func TestCrashWriteZeroError(t *testing.T) {
	for _, bsize := range []int{512, 4096} {
		t.Run(fmt.Sprint(bsize), func(t *testing.T) {
			initial := map[int64]blockState{0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
			ops := []crashOp{
				{'w', 0, 2, 0}, {'w', 1, 2, 0}, {'z', 2, 0, 0}, {'e', 3, 0, 0},
				{'w', 1, 3, 0}, {'w', 3, 4, 0}, {'w', 6, 5, 0}, {'z', 0, 0, 0}, {'w', 4, 6, 0}, {'e', 4, 0, 0},
			}
			// Every crash point at 512 bytes; a sample at 4096 (each
			// point re-runs the workload on a fresh 16 MiB device).
			o := crashsim.Options{}
			if bsize != 512 {
				o.MaxPoints = 10
			}
			if testing.Short() {
				o.MaxPoints = 6
			}
			rep := crashsim.Explore(t, crashWorkload(bsize, initial, ops), o)
			t.Log(rep)
		})
	}
}

// TestCrashFirstWrite: a crash while the first write lays out the BTT
// leaves either no layout (all blocks zero) or a complete one.
func TestCrashFirstWrite(t *testing.T) {
	ops := []crashOp{{'w', 7, 1, 0}, {'e', 8, 0, 0}, {'w', 7, 2, 0}}
	o := crashsim.Options{}
	if testing.Short() {
		o.MaxPoints = 6
	}
	rep := crashsim.Explore(t, crashWorkload(512, nil, ops), o)
	t.Log(rep)
}

// TestCrashInteropRecovered: post-crash images recovered by Go are
// consistent for pmempool check, and C libpmemblk reads every block as Go
// does; C recovering the same images itself reads them so too (a sample
// of crash points: each costs three C runs),
// for a laid-out pool, for the first write, which lays the BTT out, and
// for writes through several lanes.
func TestCrashInteropRecovered(t *testing.T) {
	bin := cpeer(t)
	if _, err := exec.LookPath("pmempool"); err != nil {
		t.Skip("interop: pmempool (pmdk-tools) not installed")
	}
	for _, tc := range []struct {
		name    string
		initial map[int64]blockState
		ops     []crashOp
	}{
		{"laid-out", map[int64]blockState{0: 1, 1: 1, 2: 1, 3: 1}, []crashOp{{'w', 0, 2, 0}, {'z', 1, 0, 0}, {'e', 2, 0, 0}, {'w', 1, 3, 0}, {'w', 4, 5, 0}}},
		{"first-write", nil, []crashOp{{'w', 3, 1, 0}, {'e', 2, 0, 0}}},
		// Writes through chosen lanes: one block through lane 5, then
		// lane 4 (C's recovery visits pair 4 first), and lane 4's entries
		// for blocks 20 and 40, whose map entries lie on two cache lines.
		{"lanes", map[int64]blockState{1: 1, 20: 1, 40: 1}, []crashOp{{'w', 1, 2, 5}, {'w', 1, 3, 4}, {'w', 20, 4, 4}, {'w', 40, 5, 4}, {'z', 20, 0, 0}, {'w', 40, 6, 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crashInteropRecovered(t, bin, tc.initial, tc.ops)
		})
	}
}

func crashInteropRecovered(t *testing.T, bin string, initial map[int64]blockState, ops []crashOp) {
	w := crashWorkload(512, initial, ops)
	dir := t.TempDir()
	blocks := map[int64]bool{0: true}
	for lba := range initial {
		blocks[lba] = true
	}
	for _, o := range ops {
		blocks[o.lba] = true
	}
	images := 0
	check := w.Check
	w.Check = func(m *core.Map, c crashsim.Crash) error {
		// The image as the crash left it, for C to recover.
		raw := fmt.Sprintf("%s/raw-%d-%s-%d", dir, c.Point, c.Strategy, c.Seed)
		if err := os.WriteFile(raw, m.Bytes(), 0o600); err != nil {
			return err
		}
		defer os.Remove(raw)
		p, err := OpenOnMap(m, &Options{BlockSize: 512}) // recovers, as C would
		if err != nil {
			return err
		}
		cops := []string{"o:512"}
		for lba := range blocks {
			s, err := readState(p, lba)
			if err != nil {
				return err
			}
			cops = append(cops, fmt.Sprintf("r:%d:%d", lba, s))
		}
		path := fmt.Sprintf("%s/img-%d-%s-%d", dir, c.Point, c.Strategy, c.Seed)
		if err := os.WriteFile(path, m.Bytes(), 0o600); err != nil {
			return err
		}
		defer os.Remove(path)
		images++
		out, err := exec.Command("pmempool", "check", "-v", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": consistent") {
			return fmt.Errorf("pmempool check: %v\n%s", err, out)
		}
		cmd := exec.Command(bin, append([]string{path}, cops...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("C reads differ from Go (%v): %v\n%s", cops, err, out)
		}
		// C recovering the raw image itself reads what Go recovered.
		// (pmempool check may then still call it inconsistent, as after
		// a crash of C's own: C leaves a torn layout, or a half-written
		// flog entry beside an initial one, which Go's open tidies.)
		cmd = exec.Command(bin, append([]string{raw}, cops...)...)
		cmd.Env = append(os.Environ(), "PMEM_IS_PMEM_FORCE=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("C recovering the crashed image reads otherwise than Go (%v): %v\n%s", cops, err, out)
		}
		// And what both read is right: as after a prefix of the
		// operations, at least those that had returned.
		return check(m, c)
	}
	o := crashsim.Options{MaxPoints: 12, Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Random(3)}}
	if testing.Short() {
		o.MaxPoints = 3
	}
	rep := crashsim.Explore(t, w, o)
	t.Logf("%v; %d images checked by pmempool and C", rep, images)
}
