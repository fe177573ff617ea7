package pmemtest

import (
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// BreakWriteBack makes every later msync(2) of the pages under b fail, so
// a test can see how a library reports a failed write-back on a page-cache
// pool. b must lie in a shared file mapping, such as a [core.Map] from
// [MapImage], core.NewMap or core.MapFile. Loads and stores to b keep
// working, but they no longer reach the file: after the pool is closed and
// reopened it shows what the file held when b was broken, as after a
// write-back lost to an I/O error. The test is skipped where the kernel
// cannot do it. See [haltest.BreakWriteBack] for how.
func BreakWriteBack(t testing.TB, b []byte) {
	t.Helper()
	haltest.BreakWriteBack(t, b)
}

// ChangedPages returns the indexes of the pages (of size bytes) in which a
// and b differ, for tests that find where an operation writes by comparing
// a mapping before and after it. a and b have the same length.
func ChangedPages(a, b []byte, size int) []int {
	var pages []int
	for off := 0; off < len(a); off += size {
		end := min(off+size, len(a))
		if string(a[off:end]) != string(b[off:end]) {
			pages = append(pages, off/size)
		}
	}
	return pages
}

// MapImage writes image to a new file in [Dir] and maps it shared with
// core.NewMap, so a test can open a pool on the Map (OpenOnMap) and still
// reach its bytes, for [BreakWriteBack] say. It returns the Map and the
// file's path; the Map is closed when the test ends, if not before.
func MapImage(t testing.TB, image []byte) (*core.Map, string) {
	t.Helper()
	path := Path(t, "image")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m, err := core.NewMap(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, path
}
