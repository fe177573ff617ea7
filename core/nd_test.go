package core_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal/sysfs/sysfstest"
	"golang.org/x/sys/unix"
)

// sysfsFixture loads the sysfs tree testdata/sysfs/NAME.txtar (its README
// describes them); each call gives a fresh tree the test may change.
func sysfsFixture(t testing.TB, name string) fstest.MapFS {
	return sysfstest.Load(t, filepath.Join("testdata", "sysfs", name+".txtar"))
}

// writeAttr sets the content of a sysfs attribute in a fixture tree.
func writeAttr(t testing.TB, fsys fstest.MapFS, name, val string) {
	t.Helper()
	if err := sysfstest.Set(fsys, name, []byte(val)); err != nil {
		t.Fatal(err)
	}
}

// fsdaxFile makes a file on disk (ext4 or whatever t.TempDir is: it needs
// FIEMAP) and an fsdax fixture tree in which pmem0 is that file's block
// device.
func fsdaxFile(t *testing.T) (*os.File, fstest.MapFS) {
	t.Helper()
	root := sysfsFixture(t, "fsdax")
	path := filepath.Join(t.TempDir(), "pool")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	writeAttr(t, root, "block/pmem0/dev", core.DevString(st.Dev)+"\n")
	return f, root
}

func TestNVDIMMInfoFsdaxFixture(t *testing.T) {
	f, root := fsdaxFile(t)
	src, err := core.FromFDIn(int(f.Fd()), root)
	if err != nil {
		t.Fatal(err)
	}
	usc, err := src.UnsafeShutdownCount()
	if err != nil || usc != 3+4 {
		t.Fatalf("usc %d %v, want 7 (sum over both DIMMs)", usc, err)
	}
	id, err := src.DeviceID()
	if err != nil || id != "8089-a2-1740-000000018089-a2-1740-00000002" {
		t.Fatalf("device id %q %v", id, err)
	}
	bbs, err := src.BadBlocks()
	if err != nil || len(bbs) != 0 {
		t.Fatalf("no bad blocks in the fixture, got %v %v", bbs, err)
	}

	// A bad block 3 sectors into the file's first extent shows up at the
	// file offset of that sector, rounded out to the file-system block.
	exts, err := core.FileExtents(int(f.Fd()))
	if errors.Is(err, core.ErrNotSupported) || len(exts) == 0 {
		t.Skipf("no FIEMAP extents under %s: %v", f.Name(), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	_ = unix.Fstat(int(f.Fd()), &st)
	blk := int64(st.Blksize)
	e := exts[len(exts)-1]
	sector := (e[1] + blk + 3*512) / 512
	writeAttr(t, root, "block/pmem0/badblocks", itoa(sector)+" 2\n")
	bbs, err = src.BadBlocks()
	want := []core.BadBlock{{Offset: e[0] + blk, Length: blk}}
	if err != nil || !reflect.DeepEqual(bbs, want) {
		t.Fatalf("bad blocks %v %v, want %v (extent %v)", bbs, err, want, e)
	}

	// A mapping reports the same, with the extents it saw when mapped, and
	// deep flush works through msync on a file.
	m, err := core.NewMap(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, err := m.BadBlocks(); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("map bad blocks %v %v, want %v", got, err, want)
	}
	if got, err := m.UnsafeShutdownCount(); err != nil || got != 7 {
		t.Fatalf("map usc %d %v", got, err)
	}
	if err := m.DeepFlush(m.Bytes()[4096:8192]); err != nil {
		t.Fatal(err)
	}
	if err := m.DeepFlush(make([]byte, 8)); !errors.Is(err, core.ErrOutsideMap) {
		t.Fatalf("deep flush outside the map: %v", err)
	}

	// A DIMM without the counter makes the whole count unsupported.
	delete(root, "bus/nd/devices/nmem1/nfit/dirty_shutdown")
	if _, err := src.UnsafeShutdownCount(); !errors.Is(err, core.ErrNotSupported) {
		t.Fatalf("usc with a silent DIMM: %v", err)
	}
	// Corrupt sysfs values are errors, not panics.
	writeAttr(t, root, "block/pmem0/badblocks", "12 x\n")
	if _, err := src.BadBlocks(); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("bad badblocks line: %v", err)
	}
	writeAttr(t, root, "bus/nd/devices/region0/mappings", "99999999\n")
	if _, err := src.DeviceID(); err == nil {
		t.Fatal("absurd mappings count accepted")
	}
	writeAttr(t, root, "bus/nd/devices/region0/mappings", "1\n")
	writeAttr(t, root, "bus/nd/devices/region0/mapping0", "../../../etc,0,0,0\n")
	if _, err := src.DeviceID(); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("path in a mapping: %v", err)
	}
}

func itoa(v int64) string { return string(appendInt(nil, v)) }

func appendInt(b []byte, v int64) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

func TestNVDIMMInfoDevDAXFixture(t *testing.T) {
	root := sysfsFixture(t, "devdax")
	// /dev/null is a real character device; the fixture says 1:3 is dax.
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || core.DevString(st.Rdev) != "1:3" {
		t.Skipf("/dev/null is not 1:3 here (%v)", err)
	}
	src, err := core.FromFDIn(int(f.Fd()), root)
	if err != nil {
		t.Fatal(err)
	}
	if !src.IsDevDAX() {
		t.Fatal("not seen as device DAX")
	}
	if n, err := src.Size(); err != nil || n != 16<<20 {
		t.Fatalf("size %d %v", n, err)
	}
	if a, err := src.Alignment(); err != nil || a != 2<<20 {
		t.Fatalf("alignment %d %v", a, err)
	}
	if _, err := core.NewMap(src, &core.Config{Sharing: core.SharingPrivate, RequiredGranularity: core.GranularityPage}); !errors.Is(err, core.ErrDevDAXPrivate) {
		t.Fatalf("private device DAX: %v", err)
	}
	if _, err := core.NewMap(src, &core.Config{Offset: 4096, RequiredGranularity: core.GranularityPage}); !errors.Is(err, core.ErrOffsetUnaligned) {
		t.Fatalf("offset not 2 MiB aligned on device DAX: %v", err)
	}
	if usc, err := src.UnsafeShutdownCount(); err != nil || usc != 17 {
		t.Fatalf("usc %d %v", usc, err)
	}
	if id, err := src.DeviceID(); err != nil || id != "cafe-01-2001-deadbeef" {
		t.Fatalf("id %q %v", id, err)
	}
	bbs, err := src.BadBlocks()
	want := []core.BadBlock{{Offset: 0, Length: 8 * 512}, {Offset: (8200 - 4096) * 512, Length: 512}}
	if err != nil || !reflect.DeepEqual(bbs, want) {
		t.Fatalf("bad blocks %v %v, want %v", bbs, err, want)
	}
	writeAttr(t, root, "bus/nd/devices/dax1.0/align", "3000\n")
	if _, err := src.Alignment(); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("alignment not a power of two: %v", err)
	}
	if _, err := core.FromFDIn(int(f.Fd()), sysfsFixture(t, "fsdax")); !errors.Is(err, core.ErrInvalidFileType) {
		t.Fatalf("character device that is not dax: %v", err)
	}
}

func TestNVDIMMInfoNotSupported(t *testing.T) {
	f := newFile(t, "nosupp", 1<<16, 0)
	skipIfDAX(t, f.Name())
	// A tree without an nd bus: nothing is supported, as libpmem2 without ndctl.
	src, err := core.FromFDIn(int(f.Fd()), sysfsFixture(t, "nobus"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.UnsafeShutdownCount(); !errors.Is(err, core.ErrNotSupported) {
		t.Errorf("usc: %v", err)
	}
	if _, err := src.DeviceID(); !errors.Is(err, core.ErrNotSupported) {
		t.Errorf("device id: %v", err)
	}
	if _, err := src.BadBlocks(); !errors.Is(err, core.ErrNotSupported) {
		t.Errorf("bad blocks: %v", err)
	}
	// A bus whose devices do not hold the file: no USC, no id, no bad
	// blocks (libpmem2 with ndctl says "no bad block found", not an error).
	src.SetSysfs(sysfsFixture(t, "fsdax"))
	if _, err := src.UnsafeShutdownCount(); !errors.Is(err, core.ErrNotSupported) {
		t.Errorf("usc of a file on no namespace: %v", err)
	}
	if bbs, err := src.BadBlocks(); err != nil || len(bbs) != 0 {
		t.Errorf("bad blocks of a file on no namespace: %v %v", bbs, err)
	}
	// This machine, through the real /sys.
	src.SetSysfs(nil)
	m := mustMap(t, src, nil)
	if _, err := m.UnsafeShutdownCount(); !errors.Is(err, core.ErrNotSupported) {
		t.Errorf("usc here: %v", err)
	}
	if _, err := m.DeviceID(); !errors.Is(err, core.ErrNotSupported) {
		t.Errorf("device id here: %v", err)
	}
	if bbs, err := m.BadBlocks(); len(bbs) != 0 || (err != nil && !errors.Is(err, core.ErrNotSupported)) {
		t.Errorf("bad blocks here: %v %v", bbs, err)
	}
	if err := m.DeepFlush(m.Bytes()); err != nil {
		t.Errorf("deep flush of a page-cache file: %v", err)
	}
}

// A file on an NVDIMM namespace whose file system cannot list extents
// (tmpfs has no FIEMAP) cannot have its bad blocks placed: that is an error,
// not an empty list.
func TestNVDIMMBadBlocksWithoutExtents(t *testing.T) {
	dir, err := os.MkdirTemp("/dev/shm", "core-")
	if err != nil {
		t.Skip("no /dev/shm")
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f, err := os.Create(filepath.Join(dir, "pool"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := core.FileExtents(int(f.Fd())); !errors.Is(err, core.ErrNotSupported) {
		t.Skipf("this /dev/shm lists extents (%v)", err)
	}
	root := sysfsFixture(t, "fsdax")
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	writeAttr(t, root, "block/pmem0/dev", core.DevString(st.Dev)+"\n")
	src, err := core.FromFDIn(int(f.Fd()), root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.BadBlocks(); !errors.Is(err, core.ErrNotSupported) {
		t.Fatalf("source bad blocks without extents: %v", err)
	}
	m := mustMap(t, src, nil)
	if _, err := m.BadBlocks(); !errors.Is(err, core.ErrNotSupported) {
		t.Fatalf("map bad blocks without extents: %v", err)
	}
	if usc, err := m.UnsafeShutdownCount(); err != nil || usc != 7 {
		t.Fatalf("usc %d %v", usc, err)
	}
}
