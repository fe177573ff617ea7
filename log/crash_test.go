package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/log/layout"
)

// view returns a Map over m's memory and persist path whose Close leaves m
// open: a Log on it can be closed without closing the simulated device.
func view(m *core.Map) *core.Map {
	return core.NewMemoryMap(m.Bytes(), m.Granularity(), m.Persister(), nil)
}

// logOp is one step of a crash workload.
type logOp struct {
	kind string // "append", "appendv", "rewind" or "nospace" (an append that must fail)
	bufs [][]byte
}

func applyOp(l *Log, o logOp) error {
	switch o.kind {
	case "append":
		return l.Append(o.bufs[0])
	case "appendv":
		return l.Appendv(o.bufs...)
	case "rewind":
		return l.Rewind()
	case "nospace":
		if err := l.Appendv(o.bufs...); !errors.Is(err, ErrNoSpace) {
			return fmt.Errorf("append past the end: %v, want ErrNoSpace", err)
		}
		return nil
	}
	return fmt.Errorf("unknown op %q", o.kind)
}

// crashOps is a sequence of appends (small, cache-line crossing, large
// enough for non-temporal stores), appendv's (with empty parts) and a
// rewind.
func crashOps() []logOp {
	fill := func(n int, c byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = c + byte(i%7)
		}
		return b
	}
	return []logOp{
		{"append", [][]byte{fill(10, 'a')}},
		{"append", [][]byte{fill(100, 'b')}},
		{"appendv", [][]byte{fill(30, 'c'), nil, fill(70, 'd')}},
		{"append", [][]byte{fill(5000, 'e')}},
		{"append", [][]byte{{}}},
		{"rewind", nil},
		{"appendv", [][]byte{fill(3, 'f'), fill(64, 'g'), fill(200, 'h')}},
		{"append", [][]byte{fill(1, 'i')}},
		{"append", [][]byte{fill(9000, 'j')}},
	}
}

// contents returns the log content after each prefix of ops: states[k] is
// the content once ops[:k] are done.
func contents(ops []logOp) [][]byte {
	states := [][]byte{nil}
	var cur []byte
	for _, o := range ops {
		switch o.kind {
		case "nospace":
		case "rewind":
			cur = nil
		default:
			cur = append(bytes.Clone(cur), bytes.Join(o.bufs, nil)...)
		}
		states = append(states, cur)
	}
	return states
}

// logWorkload builds the crash workload: Setup creates the pool, Run
// reopens it and applies ops, Check reopens the post-crash image and
// demands the content of exactly the acknowledged ops, or of those plus the
// one in flight, then appends to prove the log is usable. apply runs one
// op, so a test can substitute a broken implementation.
func logWorkload(ops []logOp, apply func(*Log, logOp) error) crashsim.Workload {
	return logWorkloadOn(ops, apply, MinPoolSize,
		func(m *core.Map) (*Log, error) { return CreateOnMap(view(m), nil) },
		func(m *core.Map) (*Log, error) { return OpenOnMap(view(m), nil) })
}

// logWorkloadOn is logWorkload on a device of size bytes on which create
// and open make and open the log.
func logWorkloadOn(ops []logOp, apply func(*Log, logOp) error, size int, create, open func(*core.Map) (*Log, error)) crashsim.Workload {
	states := contents(ops)
	// acked[i] is the device fence count when ops[i] returned. Run is
	// deterministic, so every run records the same values.
	acked := make([]int, len(ops))
	return crashsim.Workload{
		Size: size,
		Setup: func(m *core.Map) error {
			l, err := create(m)
			if err != nil {
				return err
			}
			return l.Close()
		},
		Run: func(m *core.Map) error {
			dev := m.Persister().(*crashsim.Device)
			l, err := open(m)
			if err != nil {
				return err
			}
			for i, o := range ops {
				if err := apply(l, o); err != nil {
					return fmt.Errorf("op %d (%s): %w", i, o.kind, err)
				}
				acked[i] = dev.Fences()
			}
			return l.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := 0 // ops that returned before the crash
			for done < len(ops) && acked[done] < c.Point {
				done++
			}
			l, err := open(m)
			if err != nil {
				return fmt.Errorf("reopen after %d acknowledged ops: %w", done, err)
			}
			defer l.Close()
			got, err := l.Bytes()
			if err != nil {
				return err
			}
			ok := bytes.Equal(got, states[done])
			if !ok && done < len(ops) {
				ok = bytes.Equal(got, states[done+1]) // the op in flight landed whole
			}
			if !ok {
				return fmt.Errorf("after %d acknowledged ops the log holds %d bytes (tell %d), want the %d bytes of op %d or the %d of op %d",
					done, len(got), l.Tell(), len(states[done]), done, len(states[min(done+1, len(ops))]), done+1)
			}
			err = l.Append([]byte("after the crash"))
			if l.NBytes()-int64(len(got)) < int64(len("after the crash")) {
				if !errors.Is(err, ErrNoSpace) {
					return fmt.Errorf("append to a full log after recovery: %v", err)
				}
				return nil
			}
			if err != nil {
				return fmt.Errorf("append after recovery: %w", err)
			}
			return nil
		},
	}
}

var crashStrategies = []crashsim.Strategy{
	crashsim.Pessimistic, crashsim.Optimistic,
	crashsim.Random(1), crashsim.Random(2), crashsim.Random(3), crashsim.Exhaustive,
}

// TestCrashAppendSequence explores every crash point of appends, appendv's
// and a rewind: the reopened log always holds the whole appends that were
// acknowledged, possibly the one in flight, never a torn one.
func TestCrashAppendSequence(t *testing.T) {
	w := logWorkload(crashOps(), applyOp)
	o := crashsim.Options{Strategies: crashStrategies, ExhaustiveLimit: 16}
	if testing.Short() {
		o.MaxPoints = 8
	}
	rep := crashsim.Explore(t, w, o)
	if rep.Fences <= len(crashOps()) {
		t.Fatalf("%d fences for %d ops: every op fences", rep.Fences, len(crashOps()))
	}
}

// randomOps returns a seeded sequence of appends and appendv's of 0 to
// 6000 bytes (with empty parts), rewinds, and a stretch that fills the log
// to its last byte and then fails an append (write_offset == end_offset
// must survive crashes too).
func randomOps(seed uint64, n int) []logOp {
	r := rand.New(rand.NewPCG(seed, 7))
	buf := func() []byte {
		b := make([]byte, r.IntN(6001))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var ops []logOp
	for range n {
		switch k := r.IntN(10); {
		case k == 0:
			ops = append(ops, logOp{kind: "rewind"})
		case k < 4:
			ops = append(ops, logOp{"appendv", [][]byte{buf()[:r.IntN(100)], nil, buf()}})
		default:
			ops = append(ops, logOp{"append", [][]byte{buf()}})
		}
	}
	used := len(contents(ops)[len(ops)])
	room := MinPoolSize - layout.DataStart - used
	return append(ops,
		logOp{"appendv", [][]byte{make([]byte, room-1), {0xee}}},
		logOp{"nospace", [][]byte{{1}}},
		logOp{kind: "rewind"},
		logOp{"append", [][]byte{[]byte("after the full log")}},
	)
}

// TestCrashRandomOps explores seeded random sequences ending with a full
// log, with every strategy.
func TestCrashRandomOps(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			o := crashsim.Options{Strategies: crashStrategies, ExhaustiveLimit: 16, Seed: int64(seed) + 1}
			if testing.Short() {
				o.MaxPoints = 10
			}
			crashsim.Explore(t, logWorkload(randomOps(seed, 12), applyOp), o)
		})
	}
}

// TestCrashCheckerCatchesBrokenAppend proves the crash check can fail: an
// append that moves write_offset before its data is persistent (the bug
// log_persist's order prevents) must be reported.
func TestCrashCheckerCatchesBrokenAppend(t *testing.T) {
	broken := func(l *Log, o logOp) error {
		if o.kind != "append" {
			return applyOp(l, o)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		w := l.write.Load()
		n := uint64(len(o.bufs[0]))
		copy(l.data[w:w+n], o.bufs[0]) // stored, never flushed
		field := l.data[layout.WriteOffsetAt : layout.WriteOffsetAt+8]
		binary.LittleEndian.PutUint64(field, w+n)
		l.m.Persist(field)
		l.write.Store(w + n)
		return nil
	}
	rep, err := crashsim.Run(logWorkload(crashOps()[:2], broken),
		crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Pessimistic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("a torn append went unnoticed: %v: empty", rep)
	}
}

// TestCrashCreate: a crash during create leaves an image that is either
// still blank (create again), refused by Open with an error wrapping
// core.ErrCorrupt (the header persisted but not yet the descriptor, as
// with C, whose create writes them in the same order), or, once create
// has returned, an empty log that takes appends.
func TestCrashCreate(t *testing.T) {
	created := 0 // fence count when CreateOnMap returned
	w := crashsim.Workload{
		Size: MinPoolSize,
		Run: func(m *core.Map) error {
			l, err := CreateOnMap(view(m), nil)
			if err != nil {
				return err
			}
			created = m.Persister().(*crashsim.Device).Fences()
			return l.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			blank := !slices.ContainsFunc(m.Bytes()[:layout.DataStart], func(b byte) bool { return b != 0 })
			if blank && c.Point <= created {
				l, err := CreateOnMap(view(m), nil)
				if err != nil {
					return fmt.Errorf("create on a blank image: %w", err)
				}
				return l.Close()
			}
			l, err := OpenOnMap(view(m), nil)
			if err != nil {
				if c.Point > created {
					return fmt.Errorf("open after create returned: %w", err)
				}
				if !errors.Is(err, core.ErrCorrupt) {
					return fmt.Errorf("half-created pool: %w, want ErrCorrupt", err)
				}
				return nil
			}
			defer l.Close()
			if l.Tell() != 0 {
				return fmt.Errorf("new log holds %d bytes", l.Tell())
			}
			return l.Append([]byte("first"))
		},
	}
	crashsim.Explore(t, w, crashsim.Options{Strategies: crashStrategies, ExhaustiveLimit: 16})
	if created <= 0 {
		t.Fatalf("create fences: %d", created)
	}
}
