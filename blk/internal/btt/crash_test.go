package btt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
)

// laneOp is one step of a lane crash workload: a write of generation gen
// (gen 0: set zero) to block lba through lane.
type laneOp struct {
	lane int
	lba  uint64
	gen  byte
}

// crashLanes runs ops on a namespace whose setup wrote generation 1 to
// every block ops touch. Check demands that after recovery every block is
// as after some prefix of ops (at least the ops that had returned before
// the crash), that the BTT check passes and that every block can be
// written again. The blk package's crash tests go through Pool, one lane
// mostly; these choose the lanes, so that writes to one block through two
// lanes, and a lane's next write, meet a map entry whose flush a write left
// to later (see Write).
//
// With deferMap false writes persist their map entries at once, as on
// page-cache mappings (which the simulator does not model).
func crashLanes(ops []laneOp, deferMap bool) crashsim.Workload {
	const size = 17 << 20
	blocks := map[uint64]bool{}
	for _, o := range ops {
		blocks[o.lba] = true
	}
	// want[i]: the generation of each block after the first i ops.
	want := []map[uint64]byte{{}}
	for lba := range blocks {
		want[0][lba] = 1
	}
	for _, o := range ops {
		next := map[uint64]byte{}
		for k, v := range want[len(want)-1] {
			next[k] = v
		}
		next[o.lba] = o.gen
		want = append(want, next)
	}
	cfg := func(m *core.Map) Config {
		return Config{Map: m, Off: 8192, Size: size - 8192, LBASize: 512, ParentUUID: parent, MaxLane: 8, Zeroed: true}
	}
	doneAt := make([]int, len(ops))
	return crashsim.Workload{
		Size: size,
		Setup: func(m *core.Map) error {
			b, err := Open(cfg(m))
			if err != nil {
				return err
			}
			for lba := range blocks {
				if err := b.Write(7, lba, pattern(lba, 1, 512)); err != nil {
					return err
				}
			}
			b.Sync()
			return nil
		},
		Run: func(m *core.Map) error {
			b, err := Open(cfg(m))
			if err != nil {
				return err
			}
			b.deferMap = deferMap
			dev, _ := m.Persister().(*crashsim.Device)
			for i, o := range ops {
				if o.gen == 0 {
					err = b.SetZero(o.lane, o.lba)
				} else {
					err = b.Write(o.lane, o.lba, pattern(o.lba, o.gen, 512))
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
			b, err := Open(cfg(m))
			if err != nil {
				return fmt.Errorf("reopen: %w", err)
			}
			got := map[uint64]byte{}
			buf := make([]byte, 512)
			for lba := range blocks {
				if err := b.Read(0, lba, buf); err != nil {
					return err
				}
				gen := buf[0]
				if gen != 0 && !bytes.Equal(buf, pattern(lba, gen, 512)) {
					return fmt.Errorf("block %d is torn (starts like generation %d)", lba, gen)
				}
				if gen == 0 && !bytes.Equal(buf, make([]byte, 512)) {
					return fmt.Errorf("block %d is neither zero nor a generation", lba)
				}
				got[lba] = gen
			}
			match := -1
			for i, w := range want {
				same := true
				for lba := range blocks {
					same = same && w[lba] == got[lba]
				}
				if same {
					match = i
				}
			}
			if match < 0 {
				return fmt.Errorf("blocks %v match no prefix of the operations", got)
			}
			done := 0
			for done < len(ops) && (c.Point > c.Fences || doneAt[done] < c.Point) {
				done++
			}
			if match < done {
				return fmt.Errorf("%d operations had returned, but blocks %v are as after %d", done, got, match)
			}
			if p := b.Check(); len(p) != 0 {
				return fmt.Errorf("check after recovery: %w", errors.Join(p...))
			}
			// Every lane's free block must be free: write every block
			// through every lane used.
			for _, o := range ops {
				for lba := range blocks {
					if err := b.Write(o.lane, lba, pattern(lba, 200, 512)); err != nil {
						return err
					}
				}
			}
			for lba := range blocks {
				if err := b.Read(0, lba, buf); err != nil || !bytes.Equal(buf, pattern(lba, 200, 512)) {
					return fmt.Errorf("block %d after rewriting: %v, generation %d", lba, err, buf[0])
				}
			}
			if p := b.Check(); len(p) != 0 {
				return fmt.Errorf("check after rewriting: %w", errors.Join(p...))
			}
			return nil
		},
	}
}

// TestCrashLanes: at every crash point of writes through several lanes,
// the blocks are as after a prefix of the writes (all that returned) and
// the BTT is consistent. The operations are chosen against the shortcuts
// Write takes over C's order:
//   - block 1 written through lane 1, then lane 0: recovery visits pair 0
//     first, so lane 0's entry is only redone if the map entry lane 1 left
//     unflushed was flushed before lane 0's entry became current;
//   - lane 0 then writes block 20 and block 40: its entry for block 20
//     is gone once the one for block 40 is current, so block 20's map
//     entry must be durable by then (the blocks' map entries are 16
//     entries apart, on two cache lines: flushing one does not flush the
//     other);
//   - a set-zero between writes, and a block written twice in a row
//     through one lane.
func TestCrashLanes(t *testing.T) {
	ops := []laneOp{
		{1, 1, 2}, {0, 1, 3}, {0, 20, 4}, {0, 40, 5}, {2, 20, 0}, {2, 40, 6}, {2, 40, 7}, {1, 20, 8},
	}
	o := crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(1), crashsim.Random(2)}}
	if testing.Short() {
		o.MaxPoints = 8
	}
	for _, deferMap := range []bool{true, false} {
		t.Run(fmt.Sprint("deferMap=", deferMap), func(t *testing.T) {
			crashsim.Explore(t, crashLanes(ops, deferMap), o)
		})
	}
}

// TestCrashSync: after Sync the map alone names the new blocks, with no
// flog recovery (as Close leaves a pool for pmempool check): at a crash
// after it, each map entry on the media points at its block's data.
func TestCrashSync(t *testing.T) {
	const size = 17 << 20
	writes := []laneOp{{0, 4, 2}, {1, 5, 2}, {2, 6, 2}, {0, 5, 3}}
	cfg := func(m *core.Map) Config {
		return Config{Map: m, Off: 8192, Size: size - 8192, LBASize: 512, ParentUUID: parent, MaxLane: 8, Zeroed: true}
	}
	w := crashsim.Workload{
		Size: size,
		Setup: func(m *core.Map) error {
			b, err := Open(cfg(m))
			if err != nil {
				return err
			}
			return b.Write(7, 0, pattern(0, 1, 512)) // the layout
		},
		Run: func(m *core.Map) error {
			b, err := Open(cfg(m))
			if err != nil {
				return err
			}
			for _, o := range writes {
				if err := b.Write(o.lane, o.lba, pattern(o.lba, o.gen, 512)); err != nil {
					return err
				}
			}
			b.Sync()
			return nil
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			if c.Point <= c.Fences {
				return nil // TestCrashLanes covers crashes before
			}
			ns := m.Bytes()[8192:]
			in := layout.DecodeInfo(ns)
			for lba, gen := range map[uint64]byte{4: 2, 5: 3, 6: 2} {
				e := layout.PostMap(binary.LittleEndian.Uint32(ns[in.MapOff+4*lba:]), uint32(lba))
				data := ns[in.DataOff+uint64(e)*uint64(in.InternalLBASize):][:512]
				if !bytes.Equal(data, pattern(lba, gen, 512)) {
					return fmt.Errorf("block %d: the map entry on the media names block %d, which holds generation %d", lba, e, data[0])
				}
			}
			return nil
		},
	}
	crashsim.Explore(t, w, crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
}
