package pool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal/sysfs"
	"github.com/gopmdk/pmdk/hal/sysfs/sysfstest"
	"golang.org/x/sys/unix"
)

// fsdaxRoot loads core's fsdax sysfs fixture (two NFIT DIMMs with dirty
// shutdown counts 3 and 4, block device pmem0) and makes pmem0 the device
// of the file system under dir, so pool files there count as living on
// NVDIMMs.
func fsdaxRoot(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	fsys := sysfstest.Load(t, filepath.Join("..", "testdata", "sysfs", "fsdax.txtar"))
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	setAttr(t, fsys, "block/pmem0/dev", sysfs.DevNumber(unix.Major(st.Dev), unix.Minor(st.Dev)))
	return fsys
}

func setAttr(t *testing.T, fsys fstest.MapFS, name, val string) {
	t.Helper()
	if err := sysfstest.Set(fsys, name, []byte(val+"\n")); err != nil {
		t.Fatal(err)
	}
}

// TestSDSThroughSysfs runs the SDS protocol on counts and ids that core
// reads from a sysfs tree, as on a machine with NVDIMMs: an unsafe shutdown
// (the DIMM's count grows) while the pool was open refuses the open.
func TestSDSThroughSysfs(t *testing.T) {
	dir := pmemtest.Dir(t)
	root := fsdaxRoot(t, dir)
	path := filepath.Join(dir, "pool")
	o := Options{sysfs: root}
	p, err := Create(path, testSize, 0o600, Log, &o)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Header()
	wantID := DeviceIDChecksum("8089-a2-1740-000000018089-a2-1740-00000002", true)
	if h.SDS.USC != 3+4 || h.SDS.DeviceID != wantID || h.SDS.Dirty != 1 {
		t.Fatalf("SDS %+v, want USC 7 and the fixture DIMMs' id checksum %#x", h.SDS, wantID)
	}
	crashed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()

	setAttr(t, root, "bus/nd/devices/nmem0/nfit/dirty_shutdown", "4")
	// Clean close, then an unsafe shutdown: reinitialised.
	p, err = Open(path, Log, &o)
	if err != nil {
		t.Fatalf("USC changed while closed: %v", err)
	}
	if got := p.Header().SDS.USC; got != 8 {
		t.Fatalf("USC after reinit %d, want 8", got)
	}
	p.Close()
	// Open at the crash, then an unsafe shutdown: refused.
	if err := os.WriteFile(path, crashed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Log, &o); !errors.Is(err, ErrUnsafeShutdown) {
		t.Fatalf("USC changed while open: %v, want ErrUnsafeShutdown", err)
	}
	o.IgnoreSDS = true
	p, err = Open(path, Log, &o)
	if err != nil {
		t.Fatalf("IgnoreSDS: %v", err)
	}
	p.Close()
}

// TestBadBlocksThroughSysfs: with CHECK_BAD_BLOCKS (on by default) a pool
// whose device reports bad blocks under the file refuses to open or be
// created, unless IgnoreBadBlocks. Needs FIEMAP (not on tmpfs), so the
// pool lives in t.TempDir().
func TestBadBlocksThroughSysfs(t *testing.T) {
	dir := t.TempDir()
	root := fsdaxRoot(t, dir)
	path := filepath.Join(dir, "pool")
	o := Options{sysfs: root}
	p, err := Create(path, testSize, 0o600, Log, &o)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	// Every sector of the device is bad: whatever the file's extents.
	setAttr(t, root, "block/pmem0/badblocks", "0 4294967295")
	p, err = Open(path, Log, &o)
	if err == nil {
		p.Close()
		t.Skip("no bad blocks seen: the file system under t.TempDir() reports no extents (FIEMAP)")
	}
	if !errors.Is(err, ErrBadBlocks) {
		t.Fatalf("open: %v, want ErrBadBlocks", err)
	}
	if _, err := Create(filepath.Join(dir, "new"), testSize, 0o600, Log, &o); !errors.Is(err, ErrBadBlocks) {
		t.Fatalf("create: %v, want ErrBadBlocks", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("failed create left its file")
	}
	o.IgnoreBadBlocks = true
	p, err = Open(path, Log, &o)
	if err != nil {
		t.Fatalf("IgnoreBadBlocks: %v", err)
	}
	p.Close()
	// Without the feature nothing is checked.
	k := Log
	k.Compat = 0
	o.IgnoreBadBlocks = false
	p, err = Create(filepath.Join(dir, "nocheck"), testSize, 0o600, k, &o)
	if err != nil {
		t.Fatalf("create without CHECK_BAD_BLOCKS: %v", err)
	}
	p.Close()
}
