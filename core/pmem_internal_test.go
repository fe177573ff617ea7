package core

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/hal"
)

// The facade must pick each mapping's own persist path, and the CPU path
// for memory it does not know.
func TestFacadePersisterChoice(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	t.Setenv("PMEM2_FORCE_GRANULARITY", "")
	dir := t.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "core-"); err == nil {
		dir = d
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	page, err := MapFile(filepath.Join(dir, "page"), 1<<20, FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PMEM_IS_PMEM_FORCE", "1")
	forced, err := MapFile(filepath.Join(dir, "forced"), 1<<20, FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PMEM_IS_PMEM_FORCE", "")

	if p, ok := persisterFor(page.Bytes()[4096:8192]).(*msyncPersister); !ok || p != page.persist {
		t.Errorf("page-cache mapping: %T, want the mapping's *msyncPersister", persisterFor(page.Bytes()[4096:8192]))
	}
	// Forced pmem flushes with CPU instructions, or with msync in a build
	// without them.
	if hal.Selected().Flush() == hal.FlushMsync {
		if _, ok := persisterFor(forced.Bytes()[1:]).(*msyncPersister); !ok {
			t.Errorf("forced mapping, msync kernels: %T, want *msyncPersister", persisterFor(forced.Bytes()[1:]))
		}
	} else if _, ok := persisterFor(forced.Bytes()[1:]).(cpuPersister); !ok {
		t.Errorf("forced mapping: %T, want cpuPersister", persisterFor(forced.Bytes()[1:]))
	}
	if lookup(forced.Bytes()) != forced || lookup(page.Bytes()[len(page.Bytes())-1:]) != page {
		t.Error("lookup misses a registered mapping")
	}
	heap := make([]byte, 128)
	if lookup(heap) != nil {
		t.Error("heap memory found in the registry")
	}
	if _, ok := persisterFor(heap).(cpuPersister); !ok {
		t.Errorf("unknown memory: %T, want cpuPersister", persisterFor(heap))
	}
	// A slice running past the end of a mapping is not inside it.
	b := page.Bytes()
	if page.contains(b[len(b)-10:len(b)-10+10]) != true || page.contains(heap) {
		t.Error("contains")
	}
	page.Close()
	forced.Close()
	if p := registry.Load(); p != nil && len(*p) != 0 {
		t.Errorf("registry keeps %d closed mappings", len(*p))
	}
}

// TestMsyncMemsetFills: the page-cache persister's Memset stores c in
// exactly dst (the write-back is left out: MemNoFlush).
func TestMsyncMemsetFills(t *testing.T) {
	p := NewPersister(GranularityPage, nil)
	for _, n := range []int{0, 1, 2, 3, 63, 64, 65, 4095, 4096, 100001} {
		b := make([]byte, n+2)
		p.Memset(b[1:n+1], 0xc3, MemNoFlush)
		for i, v := range b {
			want := byte(0xc3)
			if i == 0 || i == n+1 {
				want = 0
			}
			if v != want {
				t.Fatalf("n=%d: byte %d is %#x, want %#x", n, i, v, want)
			}
		}
	}
}
