package pmemtest

import (
	"bytes"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// BreakWriteBack makes every later msync(2) of the pages under b fail, so
// a test can see how a library reports a failed write-back on a page-cache
// pool. b must lie in a shared file mapping, such as a [core.Map] from
// [MapImage], core.MapFile or core.NewMap. Loads and stores to b keep
// working, but they no longer reach the file: after the pool is closed and
// reopened it shows what the file held when b was broken, as after a
// write-back lost to an I/O error. The test is skipped where the kernel
// cannot do it. See [haltest.BreakWriteBack] for how.
func BreakWriteBack(t testing.TB, b []byte) {
	t.Helper()
	haltest.BreakWriteBack(t, b)
}

// PagesWritten runs op and returns the indexes of the pages of b (of
// os.Getpagesize bytes, from b's start) whose content it changed, for tests
// that find where an operation writes. The test fails if op does.
func PagesWritten(t testing.TB, b []byte, op func() error) []int {
	t.Helper()
	before := bytes.Clone(b)
	if err := op(); err != nil {
		t.Fatal(err)
	}
	size := os.Getpagesize()
	var pages []int
	for off := 0; off < len(b); off += size {
		end := min(off+size, len(b))
		if !bytes.Equal(before[off:end], b[off:end]) {
			pages = append(pages, off/size)
		}
	}
	return pages
}

// MapImage writes image to a new file in [Dir] and maps it with
// core.MapFile, so a test can open a pool on the Map (OpenOnMap) and still
// reach its bytes, for [BreakWriteBack] say. It returns the Map and the
// file's path; the Map is closed when the test ends, if not before.
func MapImage(t testing.TB, image []byte) (*core.Map, string) {
	t.Helper()
	path := Path(t, "image")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := core.MapFile(path, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, path
}
