package log

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, format(m))
	l, err := attach(m, false, nil)
	require.NoError(t, err)
	return l
}

func content(t testing.TB, l *Log) []byte {
	t.Helper()
	b, err := l.Bytes()
	require.NoError(t, err)
	return b
}

func TestAppendTellWalk(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	assert.Equal(t, int64(layout.MinPoolSize-layout.DataStart), l.NBytes())
	assert.Equal(t, int64(0), l.Tell())

	var want []byte
	for i := range 100 {
		rec := bytes.Repeat([]byte{byte(i)}, i)
		require.NoError(t, l.Append(rec))
		want = append(want, rec...)
		require.Equal(t, int64(len(want)), l.Tell())
	}
	require.NoError(t, l.Appendv([]byte("abc"), nil, []byte("defg")))
	want = append(want, "abcdefg"...)
	assert.Equal(t, want, content(t, l))

	// The write offset on media follows every append.
	d, err := layout.Decode(l.data)
	require.NoError(t, err)
	assert.Equal(t, uint64(layout.DataStart+len(want)), d.WriteOffset)

	for _, cs := range []int{0, 1, 7, 64, 4096, len(want), len(want) + 1} {
		t.Run(fmt.Sprintf("chunk%d", cs), func(t *testing.T) {
			var got []byte
			calls := 0
			require.NoError(t, l.Walk(cs, func(b []byte) bool {
				calls++
				if cs > 0 {
					assert.LessOrEqual(t, len(b), cs)
				}
				got = append(got, b...)
				return true
			}))
			assert.Equal(t, want, got)
			wantCalls := 1
			if cs > 0 {
				wantCalls = (len(want) + cs - 1) / cs
			}
			assert.Equal(t, wantCalls, calls)

			got = got[:0]
			calls = 0
			for b, err := range l.Chunks(cs) {
				require.NoError(t, err)
				calls++
				got = append(got, b...)
			}
			assert.Equal(t, want, got)
			assert.Equal(t, wantCalls, calls, "Chunks yields what Walk visits")
		})
	}
}

func TestWalkStops(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	require.NoError(t, l.Append(make([]byte, 100)))
	calls := 0
	require.NoError(t, l.Walk(10, func([]byte) bool { calls++; return calls < 3 }))
	assert.Equal(t, 3, calls)
	calls = 0
	for range l.Chunks(10) {
		calls++
		if calls == 4 {
			break
		}
	}
	assert.Equal(t, 4, calls)
	assert.ErrorIs(t, l.Walk(-1, func([]byte) bool { return true }), ErrInvalidArgument)
}

func TestWalkEmpty(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	calls := 0
	require.NoError(t, l.Walk(0, func(b []byte) bool { calls++; assert.Empty(t, b); return true }))
	assert.Equal(t, 1, calls, "chunksize 0 calls back once, as C does")
	require.NoError(t, l.Walk(16, func([]byte) bool { calls++; return true }))
	assert.Equal(t, 1, calls)
	calls = 0
	for b, err := range l.Chunks(0) {
		require.NoError(t, err)
		assert.Empty(t, b)
		calls++
	}
	assert.Equal(t, 1, calls, "Chunks(0) yields the empty log once, as Walk calls back once")
	for range l.Chunks(16) {
		t.Fatal("Chunks(16) of an empty log yields a chunk")
	}
}

func TestAppendFull(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	room := int(l.NBytes())
	require.ErrorIs(t, l.Append(make([]byte, room+1)), ErrNoSpace)
	require.ErrorIs(t, l.Appendv(make([]byte, room), []byte{1}), ErrNoSpace)
	assert.Equal(t, int64(0), l.Tell(), "a failed append leaves the log unchanged")

	require.NoError(t, l.Append(make([]byte, room-10)))
	require.ErrorIs(t, l.Append(make([]byte, 11)), ErrNoSpace)
	require.NoError(t, l.Appendv(make([]byte, 4), make([]byte, 6)))
	assert.Equal(t, int64(room), l.Tell())
	// A full log refuses even an empty append (write_offset >= end_offset).
	require.ErrorIs(t, l.Append(nil), ErrNoSpace)
	require.ErrorIs(t, l.Appendv(), ErrNoSpace)

	require.NoError(t, l.Rewind())
	assert.Equal(t, int64(0), l.Tell())
	require.NoError(t, l.Append([]byte("again")))
	assert.Equal(t, []byte("again"), content(t, l))
}

func TestClosed(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	assert.ErrorIs(t, l.Append([]byte("x")), ErrClosed)
	assert.ErrorIs(t, l.Appendv([]byte("x")), ErrClosed)
	assert.ErrorIs(t, l.Rewind(), ErrClosed)
	assert.ErrorIs(t, l.Walk(0, func([]byte) bool { return true }), ErrClosed)
	_, err := l.Bytes()
	assert.ErrorIs(t, err, ErrClosed)
	var errs []error
	for b, err := range l.Chunks(0) {
		assert.Nil(t, b)
		errs = append(errs, err)
	}
	assert.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrClosed, "Chunks yields ErrClosed")
	for _, err := range l.Chunks(-1) {
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
}

func TestReadOnly(t *testing.T) {
	l := memLog(t, layout.MinPoolSize)
	require.NoError(t, l.Append([]byte("kept")))
	ro, err := attach(l.m, true, nil)
	require.NoError(t, err)
	assert.True(t, ro.ReadOnly())
	assert.ErrorIs(t, ro.Append([]byte("x")), ErrReadOnly)
	assert.ErrorIs(t, ro.Appendv([]byte("x")), ErrReadOnly)
	assert.ErrorIs(t, ro.Rewind(), ErrReadOnly)
	assert.Equal(t, []byte("kept"), content(t, ro))
}

func TestFormatTooSmall(t *testing.T) {
	m := core.NewMemoryMap(make([]byte, layout.MinPoolSize-1), core.GranularityCacheLine,
		core.NewPersister(core.GranularityCacheLine, nil), nil)
	require.ErrorIs(t, format(m), ErrPoolTooSmall)
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
			require.ErrorIs(t, err, core.ErrCorrupt)
			var ce *core.CorruptError
			require.True(t, errors.As(err, &ce))
			assert.Contains(t, ce.Field, "log descriptor")
		})
	}
	// A full log (write == end) is valid.
	buf := make([]byte, size)
	layout.Descriptor{StartOffset: 8192, EndOffset: size, WriteOffset: size}.Encode(buf)
	m := core.NewMemoryMap(buf, core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, nil), nil)
	l, err := attach(m, false, nil)
	require.NoError(t, err)
	assert.Equal(t, l.NBytes(), l.Tell())
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
	require.Len(t, all, writers*perWriter*recLen)
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
	require.NoError(t, err)
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
				err := l.Walk(0, func(b []byte) bool { n = len(b); return true })
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil || n%len(rec) != 0 || l.Tell() < int64(n) {
					t.Errorf("walk saw %d bytes, tell %d: %v", n, l.Tell(), err)
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
	require.NoError(t, l.Close())
	wg.Wait()

	l, err = Open(path, nil)
	require.NoError(t, err)
	defer l.Close()
	got := content(t, l)
	require.Len(t, got, int(acked.Load())*len(rec), "every acknowledged append, nothing else")
	checkRecords(t, got, len(rec))
}
