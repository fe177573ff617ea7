package hal

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"golang.org/x/sys/unix"
)

// TestDetectFDInFakeSysfs runs the whole detection on real descriptors,
// with a sysfs root that places their devices in nd regions: fstat's
// device numbers must lead to the region, and the MAP_SYNC probe must
// still answer for the real file system.
func TestDetectFDInFakeSysfs(t *testing.T) {
	// A regular file: its file system's device becomes pmem0 in region0.
	name := filepath.Join(t.TempDir(), "pool")
	if err := os.WriteFile(name, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	blk := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	sys := fstest.MapFS{
		"devices/ndbus0/region0/persistence_domain":       {Data: []byte("cpu_cache\n")},
		"devices/ndbus0/region0/namespace0.0/block/pmem0": {Mode: fs.ModeDir},
		"dev/block/" + blk:                                   {Mode: fs.ModeSymlink, Data: []byte("../../devices/ndbus0/region0/namespace0.0/block/pmem0")},
		"devices/ndbus0/region1/persistence_domain":          {Data: []byte("memory_controller\n")},
		"devices/ndbus0/region1/dax1.0/dax/dax1.0/dev":       {Data: []byte("1:5\n")},
		"devices/ndbus0/region1/dax1.0/dax/dax1.0/subsystem": {Mode: fs.ModeSymlink, Data: []byte("../../../../../../bus/dax")},
		"dev/char/1:5": {Mode: fs.ModeSymlink, Data: []byte("../../devices/ndbus0/region1/dax1.0/dax/dax1.0")},
	}
	p, err := DetectFileIn(f, sys)
	if err != nil {
		t.Fatal(err)
	}
	want := Platform{DAX: p.DAX, EADR: true, Domain: DomainCPUCache, Region: "devices/ndbus0/region0",
		Device: "devices/ndbus0/region0/namespace0.0/block/pmem0"}
	if p != want {
		t.Errorf("file on %s:\n got %+v\nwant %+v", blk, p, want)
	}
	if p.DAX && !daxMount(t, filepath.Dir(name)) {
		t.Errorf("DAX reported for a file on a non-DAX mount")
	}

	// A character device: /dev/zero (1:5) posing as device DAX dax1.0.
	z, err := os.Open("/dev/zero")
	if err != nil {
		t.Skip(err)
	}
	defer z.Close()
	if err := unix.Fstat(int(z.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 5 {
		t.Skipf("/dev/zero is %d:%d here", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	p, err = DetectFDIn(int(z.Fd()), sys)
	if err != nil {
		t.Fatal(err)
	}
	want = Platform{DAX: true, DeviceDAX: true, Domain: DomainMemoryController, Region: "devices/ndbus0/region1",
		Device: "devices/ndbus0/region1/dax1.0/dax/dax1.0"}
	if p != want {
		t.Errorf("char device 1:5:\n got %+v\nwant %+v", p, want)
	}
}
