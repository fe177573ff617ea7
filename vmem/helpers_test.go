package vmem

import (
	"os"
	"testing"
	"unsafe"
)

// testDir returns a directory for pool files: under /dev/shm (tmpfs) when
// there is one, else the test's temp dir; removed when the test ends.
func testDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "vmemtest")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// newTestPool creates a pool of size bytes closed at the test's end.
func newTestPool(t testing.TB, size int64, opts *Options) *Pool {
	t.Helper()
	p, err := Create(testDir(t), size, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// checkPool fails the test on any problem Check reports.
func checkPool(t testing.TB, p *Pool) {
	t.Helper()
	problems, err := p.Check()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range problems {
		t.Error(e)
	}
	if len(problems) > 0 {
		t.FailNow()
	}
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
