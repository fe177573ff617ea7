package log

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/log/layout"
)

// memLog formats a log in size bytes of ordinary memory persisted with CPU
// flushes; the pool header page is left zero (attach never reads it).
func memLog(t testing.TB, size int) *Log {
	t.Helper()
	m := core.NewMemoryMap(make([]byte, size), core.GranularityCacheLine,
		core.NewPersister(core.GranularityCacheLine, nil), nil)
	if err := format(m); err != nil {
		t.Fatal(err)
	}
	l, err := attach(m, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func content(t testing.TB, l *Log) []byte {
	t.Helper()
	b, err := l.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendTellWalk(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	if got, want := l.NBytes(), int64(layout.MinPoolSize-layout.DataStart); got != want {
		t.Errorf("l.NBytes() = %v, want %v", got, want)
	}
	if got, want := l.Tell(), int64(0); got != want {
		t.Errorf("l.Tell() = %v, want %v", got, want)
	}

	var want []byte
	for i := range 100 {
		rec := bytes.Repeat([]byte{byte(i)}, i)
		if err := l.Append(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec...)
		if got, want := l.Tell(), int64(len(want)); got != want {
			t.Fatalf("l.Tell() = %v, want %v", got, want)
		}
	}
	if err := l.Appendv([]byte("abc"), nil, []byte("defg")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "abcdefg"...)
	if got, want := content(t, l), want; !bytes.Equal(got, want) {
		t.Errorf("content(t, l) = %q, want %q", got, want)
	}

	// The write offset on media follows every append.
	d, err := layout.Decode(l.data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.WriteOffset, uint64(layout.DataStart+len(want)); got != want {
		t.Errorf("d.WriteOffset = %v, want %v", got, want)
	}

	for _, cs := range []int{0, 1, 7, 64, 4096, len(want), len(want) + 1} {
		t.Run(fmt.Sprintf("chunk%d", cs), func(t *testing.T) {
			var got []byte
			calls := 0
			if err := l.Walk(cs, func(b []byte) bool {
				calls++
				if cs > 0 && len(b) > cs {
					t.Errorf("chunk of %d bytes for chunk size %d", len(b), cs)
				}
				got = append(got, b...)
				return true
			}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got = %q, want %q", got, want)
			}
			wantCalls := 1
			if cs > 0 {
				wantCalls = (len(want) + cs - 1) / cs
			}
			if got, want := calls, wantCalls; got != want {
				t.Errorf("calls = %v, want %v", got, want)
			}

			got = got[:0]
			calls = 0
			for b, err := range l.Chunks(cs) {
				if err != nil {
					t.Fatal(err)
				}
				calls++
				got = append(got, b...)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got = %q, want %q", got, want)
			}
			if got, want := calls, wantCalls; got != want {
				t.Errorf("Chunks yields what Walk visits: calls = %v, want %v", got, want)
			}
		})
	}
}

func TestWalkStops(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	if err := l.Append(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	calls := 0
	if err := l.Walk(10, func([]byte) bool { calls++; return calls < 3 }); err != nil {
		t.Fatal(err)
	}
	if got, want := calls, 3; got != want {
		t.Errorf("calls = %v, want %v", got, want)
	}
	calls = 0
	for range l.Chunks(10) {
		calls++
		if calls == 4 {
			break
		}
	}
	if got, want := calls, 4; got != want {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if err := l.Walk(-1, func([]byte) bool { return true }); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("%v, want %v", err, ErrInvalidArgument)
	}
}

func TestWalkEmpty(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	calls := 0
	if err := l.Walk(0, func(b []byte) bool {
		calls++
		if len(b) != 0 {
			t.Errorf("empty log walked as %d bytes", len(b))
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := calls, 1; got != want {
		t.Errorf("chunksize 0 calls back once, as C does: calls = %v, want %v", got, want)
	}
	if err := l.Walk(16, func([]byte) bool { calls++; return true }); err != nil {
		t.Fatal(err)
	}
	if got, want := calls, 1; got != want {
		t.Errorf("calls = %v, want %v", got, want)
	}
	calls = 0
	for b, err := range l.Chunks(0) {
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 0 {
			t.Errorf("not empty: %v", b)
		}
		calls++
	}
	if got, want := calls, 1; got != want {
		t.Errorf("Chunks(0) yields the empty log once, as Walk calls back once: calls = %v, want %v", got, want)
	}
	for range l.Chunks(16) {
		t.Fatal("Chunks(16) of an empty log yields a chunk")
	}
}

func TestAppendFull(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	room := int(l.NBytes())
	if err := l.Append(make([]byte, room+1)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("%v, want %v", err, ErrNoSpace)
	}
	if err := l.Appendv(make([]byte, room), []byte{1}); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("%v, want %v", err, ErrNoSpace)
	}
	if got, want := l.Tell(), int64(0); got != want {
		t.Errorf("a failed append leaves the log unchanged: l.Tell() = %v, want %v", got, want)
	}

	if err := l.Append(make([]byte, room-10)); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(make([]byte, 11)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("%v, want %v", err, ErrNoSpace)
	}
	if err := l.Appendv(make([]byte, 4), make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Tell(), int64(room); got != want {
		t.Errorf("l.Tell() = %v, want %v", got, want)
	}
	// A full log refuses even an empty append (write_offset >= end_offset).
	if err := l.Append(nil); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("%v, want %v", err, ErrNoSpace)
	}
	if err := l.Appendv(); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("%v, want %v", err, ErrNoSpace)
	}

	if err := l.Rewind(); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Tell(), int64(0); got != want {
		t.Errorf("l.Tell() = %v, want %v", got, want)
	}
	if err := l.Append([]byte("again")); err != nil {
		t.Fatal(err)
	}
	if got, want := content(t, l), []byte("again"); !bytes.Equal(got, want) {
		t.Errorf("content(t, l) = %q, want %q", got, want)
	}
}

func TestClosed(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("%v, want %v", err, ErrClosed)
	}
	if err := l.Appendv([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("%v, want %v", err, ErrClosed)
	}
	if err := l.Rewind(); !errors.Is(err, ErrClosed) {
		t.Errorf("%v, want %v", err, ErrClosed)
	}
	if err := l.Walk(0, func([]byte) bool { return true }); !errors.Is(err, ErrClosed) {
		t.Errorf("%v, want %v", err, ErrClosed)
	}
	_, err := l.Bytes()
	if !errors.Is(err, ErrClosed) {
		t.Errorf("%v, want %v", err, ErrClosed)
	}
	var errs []error
	for b, err := range l.Chunks(0) {
		if b != nil {
			t.Errorf("got %v, want nil", b)
		}
		errs = append(errs, err)
	}
	if got, want := len(errs), 1; got != want {
		t.Errorf("len(errs) = %d, want %d", got, want)
	}
	if err := errs[0]; !errors.Is(err, ErrClosed) {
		t.Errorf("Chunks yields ErrClosed: %v, want %v", err, ErrClosed)
	}
	for _, err := range l.Chunks(-1) {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%v, want %v", err, ErrInvalidArgument)
		}
	}
}

func TestReadOnly(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	if err := l.Append([]byte("kept")); err != nil {
		t.Fatal(err)
	}
	ro, err := attach(l.m, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ro.ReadOnly() {
		t.Error("ReadOnly() = false for a read-only log")
	}
	if err := ro.Append([]byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("%v, want %v", err, ErrReadOnly)
	}
	if err := ro.Appendv([]byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("%v, want %v", err, ErrReadOnly)
	}
	if err := ro.Rewind(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("%v, want %v", err, ErrReadOnly)
	}
	if got, want := content(t, ro), []byte("kept"); !bytes.Equal(got, want) {
		t.Errorf("content(t, ro) = %q, want %q", got, want)
	}
}

func TestFormatTooSmall(t *testing.T) {
	m := core.NewMemoryMap(make([]byte, layout.MinPoolSize-1), core.GranularityCacheLine,
		core.NewPersister(core.GranularityCacheLine, nil), nil)
	if err := format(m); !errors.Is(err, ErrPoolTooSmall) {
		t.Fatalf("%v, want %v", err, ErrPoolTooSmall)
	}
}

// TestAttachCorrupt covers every way a descriptor can be wrong.
func TestAttachCorrupt(t *testing.T) {
	const size = layout.MinPoolSize
	cases := []struct {
		name string
		d    layout.Descriptor
	}{
		{"start above end", layout.Descriptor{StartOffset: size + 4096, EndOffset: size, WriteOffset: size}},
		{"start below data area", layout.Descriptor{StartOffset: 4096, EndOffset: size, WriteOffset: 8192}},
		{"start misaligned", layout.Descriptor{StartOffset: 8193, EndOffset: size, WriteOffset: 8193}},
		{"start zero", layout.Descriptor{StartOffset: 0, EndOffset: size, WriteOffset: 8192}},
		{"end past pool", layout.Descriptor{StartOffset: 8192, EndOffset: size + 4096, WriteOffset: 8192}},
		{"end short of pool", layout.Descriptor{StartOffset: 8192, EndOffset: size - 4096, WriteOffset: 8192}},
		{"end huge", layout.Descriptor{StartOffset: 8192, EndOffset: ^uint64(0), WriteOffset: 8192}},
		{"write past end", layout.Descriptor{StartOffset: 8192, EndOffset: size, WriteOffset: size + 1}},
		{"write huge", layout.Descriptor{StartOffset: 8192, EndOffset: size, WriteOffset: ^uint64(0)}},
		{"write below start", layout.Descriptor{StartOffset: 8192, EndOffset: size, WriteOffset: 8191}},
		{"all zero", layout.Descriptor{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf := make([]byte, size)
			c.d.Encode(buf)
			m := core.NewMemoryMap(buf, core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, nil), nil)
			_, err := attach(m, false, nil)
			if !errors.Is(err, core.ErrCorrupt) {
				t.Fatalf("%v, want %v", err, core.ErrCorrupt)
			}
			var ce *core.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("%v is not a *core.CorruptError", err)
			}
			if !strings.Contains(ce.Field, "log descriptor") {
				t.Errorf("%q does not contain %q", ce.Field, "log descriptor")
			}
		})
	}
	// A full log (write == end) is valid.
	buf := make([]byte, size)
	layout.Descriptor{StartOffset: 8192, EndOffset: size, WriteOffset: size}.Encode(buf)
	m := core.NewMemoryMap(buf, core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, nil), nil)
	l, err := attach(m, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Tell(), l.NBytes(); got != want {
		t.Errorf("l.Tell() = %v, want %v", got, want)
	}
}

// TestConcurrent runs appenders, walkers and tellers together (run with
// -race): every append lands whole, and every walk sees a prefix made of
// whole records.
func TestConcurrent(t *testing.T) {
	l := memLog(t, 4<<20)
	const writers, perWriter, recLen = 4, 200, 32
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rec := bytes.Repeat([]byte{byte('a' + w)}, recLen)
			for i := range perWriter {
				var err error
				if i%2 == 0 {
					err = l.Append(rec)
				} else {
					err = l.Appendv(rec[:10], rec[10:])
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 50 {
				var seen []byte
				_ = l.Walk(0, func(b []byte) bool {
					// Tell takes no lock: calling it here cannot deadlock
					// against a waiting append.
					if l.Tell() < int64(len(b)) {
						t.Error("tell below the walked size")
					}
					seen = append(seen, b...)
					return true
				})
				if len(seen)%recLen != 0 {
					t.Errorf("walk saw %d bytes, not whole records", len(seen))
				}
				checkRecords(t, seen, recLen)
				if l.Tell() < int64(len(seen)) {
					t.Error("tell went backwards")
				}
			}
		})
	}
	wg.Wait()
	all := content(t, l)
	if got, want := len(all), writers*perWriter*recLen; got != want {
		t.Fatalf("len(all) = %d, want %d", got, want)
	}
	checkRecords(t, all, recLen)
}

func checkRecords(t testing.TB, b []byte, recLen int) {
	t.Helper()
	for off := 0; off+recLen <= len(b); off += recLen {
		rec := b[off : off+recLen]
		if !bytes.Equal(rec, bytes.Repeat(rec[:1], recLen)) {
			t.Errorf("torn record at %d: %q", off, rec)
			return
		}
	}
}

// TestCloseDuringUse closes a file pool while appends, walks and Tell run:
// each call completes before the unmap or returns ErrClosed, never touches
// the unmapped pool (which would fault), and what was acknowledged is in
// the pool when it is opened again.
func TestCloseDuringUse(t *testing.T) {
	path := pmemtest.Path(t, "close-during-use.log")
	l, err := Create(path, MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := bytes.Repeat([]byte{'r'}, 64)
	var acked atomic.Int64
	var wg sync.WaitGroup
	started := make(chan struct{}, 4)
	for range 2 {
		wg.Go(func() {
			started <- struct{}{}
			for {
				err := l.Append(rec)
				if errors.Is(err, ErrClosed) || errors.Is(err, ErrNoSpace) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				acked.Add(1)
			}
		})
		wg.Go(func() {
			started <- struct{}{}
			for {
				var n int
				var tell int64
				// Tell inside the walk: Close waits for it there, and
				// after Close Tell is 0.
				err := l.Walk(0, func(b []byte) bool { n = len(b); tell = l.Tell(); return true })
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil || n%len(rec) != 0 || tell < int64(n) {
					t.Errorf("walk saw %d bytes, tell %d: %v", n, tell, err)
					return
				}
			}
		})
	}
	for range 4 {
		<-started
	}
	for acked.Load() < 10 {
		runtime.Gosched()
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	l, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := content(t, l)
	if got, want := len(got), int(acked.Load())*len(rec); got != want {
		t.Fatalf("every acknowledged append, nothing else: len(got) = %d, want %d", got, want)
	}
	checkRecords(t, got, len(rec))
}
