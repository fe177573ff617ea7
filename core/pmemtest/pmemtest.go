// Package pmemtest helps tests that need pool files, as net/http/httptest
// helps tests that need servers.
package pmemtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns an empty directory for pool files, removed when the test ends:
// under $PMEM_TEST_DIR if set (a DAX mount, say), else under /dev/shm when it
// is a writable tmpfs, else t.TempDir().
func Dir(t testing.TB) string {
	t.Helper()
	for _, root := range []string{os.Getenv("PMEM_TEST_DIR"), "/dev/shm"} {
		if root == "" {
			continue
		}
		if dir, err := os.MkdirTemp(root, "gopmdk-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// Path returns the path of a not yet existing file named name in a fresh
// [Dir].
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Dir(t), name)
}
