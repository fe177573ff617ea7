package core_test

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal"
)

// mapBroken maps a fresh page-cache file of four pages through MapFile (so
// the facade finds it) and breaks the write-back of its third page: msync
// of any range touching it fails for real, with EINVAL.
func mapBroken(t *testing.T) (m *core.Map, good, broken []byte) {
	t.Helper()
	page := os.Getpagesize()
	m, err := core.MapFile(pmemtest.Path(t, "pool"), int64(4*page), core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	pmemtest.BreakWriteBack(t, m.Bytes()[2*page:3*page])
	return m, m.Bytes()[8 : page-8], m.Bytes()[2*page+8 : 2*page+200]
}

func wantPersistErr(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, core.ErrPersist) || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("%s: %v, want ErrPersist wrapping msync's EINVAL", what, err)
	}
}

// TestPersistFailure makes msync fail on a page-cache mapping and checks
// that every way to persist records it on the Map: Err is nil before,
// then the first failure, kept when later write-backs succeed (the kernel
// would not report the lost data again), and Close returns it once.
func TestPersistFailure(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE") // also on a DAX PMEM_TEST_DIR
	src := make([]byte, 4096)
	for _, tc := range []struct {
		name string
		op   func(m *core.Map, b []byte)
	}{
		{"Persist", func(m *core.Map, b []byte) { m.Persist(b) }},
		{"Flush+Drain", func(m *core.Map, b []byte) { m.Flush(b); m.Drain() }},
		{"Memcpy", func(m *core.Map, b []byte) { m.Memcpy(b, src[:len(b)], 0) }},
		{"Memmove/nodrain", func(m *core.Map, b []byte) { m.Memmove(b, src[:len(b)], core.MemNoDrain); m.Drain() }},
		{"Memset/nontemporal", func(m *core.Map, b []byte) { m.Memset(b, 7, core.MemNonTemporal) }},
		{"facade Persist", func(_ *core.Map, b []byte) { core.Persist(b) }},
		{"facade MemcpyPersist", func(_ *core.Map, b []byte) { core.MemcpyPersist(b, src[:len(b)]) }},
		{"facade Memset", func(_ *core.Map, b []byte) { core.Memset(b, 9, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, good, broken := mapBroken(t)
			if m.Granularity() != core.GranularityPage {
				t.Fatalf("granularity %v, want page", m.Granularity())
			}
			tc.op(m, good)
			if err := m.Err(); err != nil {
				t.Fatalf("after persisting intact pages: %v", err)
			}
			tc.op(m, broken)
			first := m.Err()
			wantPersistErr(t, "Err after the failed write-back", first)
			tc.op(m, good)
			if err := m.Err(); err != first {
				t.Fatalf("Err after a later write-back succeeded: %v, want the first failure %v", err, first)
			}
			if err := m.Close(); err != first {
				t.Fatalf("Close: %v, want %v", err, first)
			}
			if err := m.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

// TestPersistFailureNoFlush: stores that skip the flush never reach msync,
// so they cannot fail; Msync reports its error directly without making it
// the Map's; DeepFlush returns the Map's failure.
func TestPersistFailureNoFlush(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE")
	m, _, broken := mapBroken(t)
	m.Memset(broken, 1, core.MemNoFlush)
	m.Memcpy(broken, make([]byte, len(broken)), core.MemNoFlush|core.MemNoDrain)
	if err := m.Err(); err != nil {
		t.Fatalf("Err after stores without flush: %v", err)
	}
	if err := core.Msync(broken); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("Msync: %v, want EINVAL", err)
	}
	if err := m.Err(); err != nil {
		t.Fatalf("Err after Msync: %v, want nil (Msync returns its error)", err)
	}
	wantPersistErr(t, "DeepFlush", m.DeepFlush(broken))
	wantPersistErr(t, "Err after DeepFlush", m.Err())
}

// TestPersistFailureCPUPath: CPU cache flushes do not write pages back, so
// a forced-pmem mapping over the same broken page reports nothing, unless
// the build flushes with msync (no assembly), which must report it.
func TestPersistFailureCPUPath(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE")
	m, _, broken := mapBroken(t)
	if m.Granularity() != core.GranularityCacheLine {
		t.Fatalf("granularity %v, want cache line", m.Granularity())
	}
	m.Persist(broken)
	m.Memcpy(broken, make([]byte, len(broken)), 0)
	if hal.Selected().Flush() == hal.FlushMsync {
		wantPersistErr(t, "msync kernels", m.Err())
	} else if err := m.Err(); err != nil {
		t.Fatalf("CPU flush path: %v, want nil", err)
	}
}
