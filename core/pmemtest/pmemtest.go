// Package pmemtest helps tests that need pool files, as net/http/httptest
// helps tests that need servers.
package pmemtest

import (
	"io/fs"
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

// CopyTree copies a fixture tree (files, directories, symlinks as they are)
// into a fresh t.TempDir() and returns it, so a test may change the copy:
// how sysfs fixtures are given to code that writes to them.
func CopyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
