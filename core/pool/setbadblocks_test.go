package pool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestSetBadBlocksThroughSysfs: the part files of a poolset are checked
// for bad blocks one by one (the multi-part mapping reports none): with
// every sector of the fake NVDIMM bad, open and create of a poolset on it
// fail with ErrBadBlocks naming a part, the failed create leaves no part
// behind, and IgnoreBadBlocks opens. Needs FIEMAP (not on tmpfs).
func TestSetBadBlocksThroughSysfs(t *testing.T) {
	dir := t.TempDir()
	root := fsdaxRoot(t, dir)
	o := Options{sysfs: root}
	set := pmemtest.Poolset(t, dir, "bb.set", "8M {dir}/p0", "8M {dir}/p1", "REPLICA", "16M {dir}/r0")
	p, err := Create(set, 0, 0o600, Log, &o)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	setAttr(t, root, "block/pmem0/badblocks", "0 4294967295")
	// A single-file pool tells whether bad blocks can be seen here.
	if p, err := Create(filepath.Join(dir, "single"), testSize, 0o600, Log, &o); err == nil {
		p.Close()
		t.Skip("no bad blocks seen: the file system under t.TempDir() reports no extents (FIEMAP)")
	}
	p, err = Open(set, Log, &o)
	if !errors.Is(err, ErrBadBlocks) || !strings.Contains(err.Error(), filepath.Join(dir, "p0")) {
		t.Fatalf("open: %v, want ErrBadBlocks naming p0", err)
	}
	other := pmemtest.Poolset(t, dir, "new.set", "8M {dir}/n0", "8M {dir}/n1")
	if _, err := Create(other, 0, 0o600, Log, &o); !errors.Is(err, ErrBadBlocks) {
		t.Fatalf("create: %v, want ErrBadBlocks", err)
	}
	for _, n := range []string{"n0", "n1"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("failed create left part %s", n)
		}
	}
	o.IgnoreBadBlocks = true
	p, err = Open(set, Log, &o)
	if err != nil {
		t.Fatalf("IgnoreBadBlocks: %v", err)
	}
	p.Close()
}
