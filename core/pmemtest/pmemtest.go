// Package pmemtest helps tests that need pool files, as net/http/httptest
// helps tests that need servers.
package pmemtest

import (
	"os"
	"path/filepath"
	"strings"
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

// Poolset writes a poolset file named name in dir: PMEMPOOLSET, then lines,
// in which {dir} stands for dir (so "8M {dir}/part0" names a part file
// beside the poolset file). It returns the poolset file's path; the parts
// are created by whoever creates the pool.
func Poolset(t testing.TB, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	text := "PMEMPOOLSET\n" + strings.ReplaceAll(strings.Join(lines, "\n"), "{dir}", dir) + "\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
