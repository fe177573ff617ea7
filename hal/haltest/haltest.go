// Package haltest runs tests and benchmarks over every kernel set of
// [hal] that this CPU and build support, and maps small files for them, as
// net/http/httptest serves net/http tests.
package haltest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal"
)

var (
	flushKinds = []hal.FlushKind{hal.FlushNone, hal.FlushCLFLUSH, hal.FlushCLFLUSHOPT, hal.FlushCLWB, hal.FlushMsync}
	moveKinds  = []hal.MoveKind{hal.MoveGeneric, hal.MoveSSE2, hal.MoveAVX, hal.MoveAVX512F}
)

// All returns every kernel set this CPU and build support, each with the
// given non-temporal threshold (0 means hal's default), generic stores
// first.
func All(threshold int) []*hal.Kernels {
	var ks []*hal.Kernels
	for _, m := range moveKinds {
		for _, f := range flushKinds {
			if k, err := hal.NewKernels(f, m, threshold); err == nil {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

// ForEachKernel runs fn as a subtest, named after the set (such as
// "clwb+avx512f"), for every kernel set of [All] with the default threshold.
func ForEachKernel(t *testing.T, fn func(t *testing.T, k *hal.Kernels)) {
	t.Helper()
	for _, k := range All(0) {
		t.Run(k.Name(), func(t *testing.T) { fn(t, k) })
	}
}

// ForEachKernelB is [ForEachKernel] for benchmarks.
func ForEachKernelB(b *testing.B, fn func(b *testing.B, k *hal.Kernels)) {
	b.Helper()
	for _, k := range All(0) {
		b.Run(k.Name(), func(b *testing.B) { fn(b, k) })
	}
}

// Dir returns a directory for test mappings: $PMEM_TEST_DIR when set,
// else /dev/shm (so the mapping is memory, not disk), else t.TempDir().
// Files made there are removed when the test ends.
func Dir(tb testing.TB) string {
	tb.Helper()
	for _, d := range []string{os.Getenv("PMEM_TEST_DIR"), "/dev/shm"} {
		if d == "" {
			continue
		}
		if dir, err := os.MkdirTemp(d, "haltest-"); err == nil {
			tb.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}

// MapFile creates a file of size bytes in [Dir] and maps it shared and
// writable. The mapping is unmapped when the test ends; the slice must not
// be used after that.
func MapFile(tb testing.TB, size int) []byte {
	tb.Helper()
	path := filepath.Join(Dir(tb), "map")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		tb.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		tb.Fatalf("mmap %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := unix.Munmap(m); err != nil {
			tb.Error(err)
		}
	})
	return m
}
