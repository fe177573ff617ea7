package haltest_test

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/haltest"
)

func TestAllIsUniqueAndUsable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range haltest.All(4096) {
		if seen[k.Name()] {
			t.Errorf("%s listed twice", k.Name())
		}
		seen[k.Name()] = true
		if k.MovntThreshold() != 4096 {
			t.Errorf("%s: threshold %d, want 4096", k.Name(), k.MovntThreshold())
		}
		if !hal.Supported(k.Flush(), k.Move()) {
			t.Errorf("%s is not supported", k.Name())
		}
	}
	if !seen["msync+generic"] || !seen["none+generic"] {
		t.Errorf("the portable sets are missing: %v", seen)
	}
}

// TestMapFileIsSharedFileMapping: stores through the mapping reach the file.
func TestMapFileIsSharedFileMapping(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PMEM_TEST_DIR", dir)
	m := haltest.MapFile(t, 8192)
	copy(m[4000:], "persisted")
	if err := unix.Msync(m, unix.MS_SYNC); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "haltest-*", "map"))
	if len(files) != 1 {
		t.Fatalf("want one mapped file under PMEM_TEST_DIR, got %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8192 || string(b[4000:4009]) != "persisted" {
		t.Fatalf("file does not hold the mapping's bytes (len %d)", len(b))
	}
}
