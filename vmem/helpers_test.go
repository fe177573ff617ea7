package vmem

import (
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// newTestPool creates a pool of size bytes closed at the test's end.
func newTestPool(t testing.TB, size int64, opts *Options) *Pool {
	t.Helper()
	p, err := Create(pmemtest.Dir(t), size, opts)
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
