package conformance_test

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"testing"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	pmemlog "github.com/gopmdk/pmdk/log"
)

// log's cases: a log pool on every backend, and whole-append atomicity at
// every crash point.
func init() {
	conformance.Register("log",
		conformance.Case{Name: "append-walk-rewind-reopen", Run: logReopen},
	)
	conformance.RegisterCrash("log",
		conformance.CrashCase{Name: "append-appendv-rewind", Workload: logCrashWorkload()},
	)
}

// logView is m without its Close: a Log on it can be closed while the
// backend keeps (and later reopens or closes) m.
func logView(m *core.Map) *core.Map {
	return core.NewMemoryMap(m.Bytes(), m.Granularity(), m.Persister(), nil)
}

func logContent(l *pmemlog.Log) ([]byte, error) {
	var got []byte
	err := l.Walk(0, func(b []byte) bool { got = append(got, b...); return true })
	return got, err
}

func logReopen(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, pmemlog.MinPoolSize)
	l, err := pmemlog.CreateOnMap(logView(m), nil)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1000) // past the non-temporal threshold
	want := []byte("gone after the rewind")
	if err := l.Append(want); err != nil {
		t.Fatal(err)
	}
	if err := l.Rewind(); err != nil {
		t.Fatal(err)
	}
	want = want[:0]
	for _, rec := range [][]byte{[]byte("x"), big, []byte("tail")} {
		if err := l.Append(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec...)
	}
	if err := l.Appendv([]byte("v1"), nil, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "v1v2"...)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	m = b.Reopen(t, m)
	l, err = pmemlog.OpenOnMap(logView(m), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := logContent(l); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("reopened log holds %d bytes (%v), want %d", len(got), err, len(want))
	}
	if l.Tell() != int64(len(want)) || l.NBytes() != pmemlog.MinPoolSize-8192 {
		t.Errorf("tell %d nbytes %d", l.Tell(), l.NBytes())
	}
	// Fill the log to the last byte: a full log refuses even one more.
	if err := l.Append(make([]byte, l.NBytes()-l.Tell())); err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte{1}); !errors.Is(err, pmemlog.ErrNoSpace) {
		t.Errorf("append to a full log: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// C's tools judge the pool when there is a file behind the map.
	if path := b.Path(m); path != "" {
		if _, err := exec.LookPath("pmempool"); err == nil {
			if out, err := exec.Command("pmempool", "check", path).CombinedOutput(); err != nil {
				t.Errorf("pmempool check: %v\n%s", err, out)
			}
		}
	}
}

type logCrashOp struct {
	rewind bool
	bufs   [][]byte // one buffer: Append; more: Appendv
}

// logCrashWorkload appends, appendv's and rewinds; after a crash the log
// must hold exactly the acknowledged operations' content, or that plus the
// operation in flight, and take appends again.
func logCrashWorkload() crashsim.Workload {
	fill := func(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }
	// Few operations: the case runs on every crash backend; log's own
	// TestCrash* explore a longer sequence.
	ops := []logCrashOp{
		{bufs: [][]byte{fill(10, 'a')}},
		{bufs: [][]byte{fill(30, 'b'), nil, fill(70, 'c')}},
		{bufs: [][]byte{fill(3000, 'd')}},
		{rewind: true},
		{bufs: [][]byte{fill(100, 'e')}},
	}
	states := [][]byte{nil}
	for _, o := range ops {
		cur := bytes.Clone(states[len(states)-1])
		if o.rewind {
			cur = nil
		}
		states = append(states, append(cur, bytes.Join(o.bufs, nil)...))
	}
	// acked[i]: the fence count when ops[i] returned (0 off the simulator,
	// where Check only sees the uncut end state).
	acked := make([]int, len(ops))
	return crashsim.Workload{
		Size: pmemlog.MinPoolSize,
		Setup: func(m *core.Map) error {
			l, err := pmemlog.CreateOnMap(logView(m), nil)
			if err != nil {
				return err
			}
			return l.Close()
		},
		Run: func(m *core.Map) error {
			dev, _ := m.Persister().(*crashsim.Device)
			l, err := pmemlog.OpenOnMap(logView(m), nil)
			if err != nil {
				return err
			}
			for i, o := range ops {
				switch {
				case o.rewind:
					err = l.Rewind()
				case len(o.bufs) == 1:
					err = l.Append(o.bufs[0])
				default:
					err = l.Appendv(o.bufs...)
				}
				if err != nil {
					return err
				}
				acked[i] = 0 // not a stale count of an earlier backend's run
				if dev != nil {
					acked[i] = dev.Fences()
				}
			}
			return l.Close()
		},
		Check: func(m *core.Map, c crashsim.Crash) error {
			done := 0
			for done < len(ops) && acked[done] < c.Point {
				done++
			}
			l, err := pmemlog.OpenOnMap(logView(m), nil)
			if err != nil {
				return fmt.Errorf("reopen after %d acknowledged ops: %w", done, err)
			}
			defer l.Close()
			got, err := logContent(l)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, states[done]) && (done == len(ops) || !bytes.Equal(got, states[done+1])) {
				return fmt.Errorf("after %d acknowledged ops the log holds %d bytes, want %d (or %d with the op in flight)",
					done, len(got), len(states[done]), len(states[min(done+1, len(ops))]))
			}
			return l.Append([]byte("after the crash"))
		},
	}
}
