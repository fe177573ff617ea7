package hal

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gopmdk/pmdk/hal/sysfs"
	"github.com/gopmdk/pmdk/hal/sysfs/sysfstest"
)

const fixtureBus = "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0"

// fixture loads the sysfs tree testdata/sysfs/NAME.txtar.
func fixture(t *testing.T, name string) fs.FS {
	return sysfstest.Load(t, filepath.Join("testdata", "sysfs", name+".txtar"))
}

func TestDescribeFixtures(t *testing.T) {
	cases := []struct {
		tree string
		id   fileIdentity
		want Platform
	}{
		{"eadr", fileIdentity{sysfs.Block, 259, 0}, Platform{EADR: true, Domain: DomainCPUCache,
			Region: fixtureBus + "/region0", Device: fixtureBus + "/region0/namespace0.0/block/pmem0"}},
		{"eadr", fileIdentity{sysfs.Block, 259, 1}, Platform{EADR: true, Domain: DomainCPUCache,
			Region: fixtureBus + "/region0", Device: fixtureBus + "/region0/namespace0.0/block/pmem0/pmem0p1"}},
		{"eadr", fileIdentity{sysfs.Char, 251, 0}, Platform{DAX: true, DeviceDAX: true, EADR: true, Domain: DomainCPUCache,
			Region: fixtureBus + "/region1", Device: fixtureBus + "/region1/dax1.0/dax/dax1.0"}},
		{"adr", fileIdentity{sysfs.Block, 259, 0}, Platform{Domain: DomainMemoryController,
			Region: fixtureBus + "/region0", Device: fixtureBus + "/region0/namespace0.0/block/pmem0"}},
		{"adr", fileIdentity{sysfs.Char, 251, 0}, Platform{DAX: true, DeviceDAX: true, Domain: DomainMemoryController,
			Region: fixtureBus + "/region1", Device: fixtureBus + "/region1/dax1.0/dax/dax1.0"}},
		{"mixed", fileIdentity{sysfs.Block, 259, 0}, Platform{EADR: true, Domain: DomainCPUCache,
			Region: fixtureBus + "/region0", Device: fixtureBus + "/region0/namespace0.0/block/pmem0"}},
		{"nodomain", fileIdentity{sysfs.Block, 259, 0}, Platform{
			Region: fixtureBus + "/region0", Device: fixtureBus + "/region0/namespace0.0/block/pmem0"}},
		{"noregion", fileIdentity{sysfs.Block, 254, 0}, Platform{Device: "devices/pci0000:00/0000:00:02.0/virtio1/block/vda"}},
		{"noregion", fileIdentity{sysfs.Char, 1, 5}, Platform{Device: "devices/virtual/misc/zero"}},
		{"noregion", fileIdentity{sysfs.Block, 0, 26}, Platform{}}, // tmpfs: no sysfs entry
		{"eadr", fileIdentity{sysfs.Block, 254, 0}, Platform{Device: "devices/pci0000:00/0000:00:02.0/virtio1/block/vda"}},
	}
	for _, c := range cases {
		got, err := describe(fixture(t, c.tree), c.id)
		if err != nil {
			t.Errorf("%s %s %d:%d: %v", c.tree, c.id.kind, c.id.major, c.id.minor, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s %s %d:%d:\n got %+v\nwant %+v", c.tree, c.id.kind, c.id.major, c.id.minor, got, c.want)
		}
	}
}

func TestAutoFlushFixtures(t *testing.T) {
	for tree, want := range map[string]bool{"eadr": true, "adr": false, "mixed": false, "nodomain": false, "noregion": false} {
		if got := AutoFlush(fixture(t, tree)); got != want {
			t.Errorf("AutoFlush(%s) = %v, want %v", tree, got, want)
		}
	}
	if AutoFlush(fstest.MapFS{}) {
		t.Error("AutoFlush of a root without sysfs = true")
	}
}

// mapRegion builds a one-region sysfs with the given persistence_domain
// content and a block device 259:0 in it.
func mapRegion(domain string) fstest.MapFS {
	m := fstest.MapFS{
		"devices/ndbus0/region0/namespace0.0/block/pmem0/dev": {Data: []byte("259:0\n")},
		"dev/block/259:0":        {Mode: fs.ModeSymlink, Data: []byte("../../devices/ndbus0/region0/namespace0.0/block/pmem0")},
		"bus/nd/devices/region0": {Mode: fs.ModeSymlink, Data: []byte("../../../devices/ndbus0/region0")},
	}
	m["devices/ndbus0/region0/persistence_domain"] = &fstest.MapFile{Data: []byte(domain)}
	return m
}

func TestDescribeBadDomain(t *testing.T) {
	for _, d := range []string{"", "cpu_cache", "cpu_cache_and_a_very_long_tail_beyond_32\n"} {
		sys := mapRegion(d)
		p, err := describe(sys, fileIdentity{sysfs.Block, 259, 0})
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("domain %q: err = %v, want fs.ErrInvalid", d, err)
		}
		if p.EADR {
			t.Errorf("domain %q: EADR from an invalid domain", d)
		}
		if AutoFlush(sys) {
			t.Errorf("domain %q: AutoFlush true", d)
		}
	}
	p, err := describe(mapRegion("cpu_cache\n"), fileIdentity{sysfs.Block, 259, 0})
	if err != nil || !p.EADR || p.Region != "devices/ndbus0/region0" {
		t.Errorf("valid domain: %+v, %v", p, err)
	}
	if !AutoFlush(mapRegion("cpu_cache\n")) {
		t.Error("AutoFlush of a cpu_cache region = false")
	}
}

func TestDescribeLinkEscapesRoot(t *testing.T) {
	for _, target := range []string{"../../../../etc", "../../..", "/", "/../../x/region0", "/sys/../x"} {
		sys := fstest.MapFS{"dev/block/8:0": {Mode: fs.ModeSymlink, Data: []byte(target)}}
		_, err := describe(sys, fileIdentity{sysfs.Block, 8, 0})
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("target %q: err = %v, want fs.ErrInvalid", target, err)
		}
	}
}

func TestRegionOf(t *testing.T) {
	for dev, want := range map[string]string{
		"devices/LNXSYSTM:00/ndbus0/region3/pfn3.0/block/pmem3":                      "devices/LNXSYSTM:00/ndbus0/region3",
		"devices/platform/e820_pmem/ndbus1/region1/namespace1.0/block/pmem1/pmem1p2": "devices/platform/e820_pmem/ndbus1/region1",
		"devices/platform/region0/block/x":                                           "", // a region outside an nd bus
		"devices/ndbus0":                                                             "",
		"devices/virtual/block/dm-0":                                                 "",
		"region0":                                                                    "",
	} {
		if got := regionOf(dev); got != want {
			t.Errorf("regionOf(%q) = %q, want %q", dev, got, want)
		}
	}
}

func TestIsRegionName(t *testing.T) {
	for name, want := range map[string]bool{"region0": true, "region12": true, "region": false,
		"region0a": false, "btt0.0": false, "xregion1": false, "regions": false} {
		if got := isRegionName(name); got != want {
			t.Errorf("isRegionName(%q) = %v", name, got)
		}
	}
}

func TestPlatformString(t *testing.T) {
	for _, c := range []struct {
		p    Platform
		want string
	}{
		{Platform{}, "page cache, no eADR (no nd region)"},
		{Platform{DAX: true, EADR: true, Domain: DomainCPUCache, Region: "x/region0"}, "DAX, eADR (cpu_cache, region0)"},
		{Platform{DAX: true, DeviceDAX: true, Domain: DomainMemoryController, Region: "x/region1"}, "device DAX, no eADR (memory_controller, region1)"},
		{Platform{Region: "x/region2"}, "page cache, no eADR (region2, domain unknown)"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.p, got, c.want)
		}
	}
}

// TestDetectRealFiles detects files on this machine's tmpfs (/dev/shm) and
// on the file system of t.TempDir(). Neither accepts MAP_SYNC unless it is
// a DAX mount, which the test finds out from /proc/mounts independently.
func TestDetectRealFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("DAX probe is Linux only")
	}
	dirs := []string{t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "haltest")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		name := filepath.Join(dir, "pool")
		if err := os.WriteFile(name, make([]byte, 1<<16), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, flag := range []int{os.O_RDWR, os.O_RDONLY} {
			f, err := os.OpenFile(name, flag, 0)
			if err != nil {
				t.Fatal(err)
			}
			p, err := DetectFile(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if daxMount(t, dir) {
				t.Logf("%s is on a DAX mount: %s", dir, p)
				continue
			}
			if p.DAX || p.DeviceDAX {
				t.Errorf("%s (flag %#x): DAX reported on a non-DAX mount: %+v", name, flag, p)
			}
			if got := p.String(); !strings.HasPrefix(got, "page cache, ") {
				t.Errorf("%s: %q, want page cache", name, got)
			}
			t.Logf("%s: %s (device %q)", dir, p, p.Device)
		}
	}
}

// daxMount reports whether dir is on a mount with the dax option, read
// from /proc/self/mountinfo (the option is among the super options, after
// " - ").
func daxMount(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no mountinfo: %v", err)
	}
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	best, dax := "", false
	for line := range strings.Lines(string(b)) {
		pre, post, _ := strings.Cut(line, " - ")
		f := strings.Fields(pre)
		if len(f) < 6 {
			continue
		}
		mnt := f[4]
		inside := dir == mnt || strings.HasPrefix(dir, strings.TrimSuffix(mnt, "/")+"/")
		if !inside || len(mnt) < len(best) {
			continue
		}
		best, dax = mnt, false
		opts := f[5]
		if sf := strings.Fields(post); len(sf) >= 3 {
			opts += "," + sf[2]
		}
		for _, o := range strings.Split(opts, ",") {
			if o == "dax" || o == "dax=always" || o == "dax=inode" {
				dax = true
			}
		}
	}
	return dax
}

func TestDetectWriteOnly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	name := filepath.Join(t.TempDir(), "w")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := DetectFile(f); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("write-only file: err = %v, want fs.ErrPermission", err)
	}
}

func TestDetectDevZero(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	p, err := DetectFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.DAX || p.DeviceDAX || p.Region != "" {
		t.Fatalf("/dev/zero: %+v", p)
	}
}

// FuzzDescribe feeds arbitrary persistence_domain contents and device link
// targets to the sysfs walk: it must answer or fail, never panic, and
// never report a region outside the sysfs root.
func FuzzDescribe(f *testing.F) {
	f.Add([]byte("cpu_cache\n"), "../../devices/ndbus0/region0/namespace0.0/block/pmem0")
	f.Add([]byte("memory_controller\n"), "../../devices/ndbus0/region0/dax0.0/dax/dax0.0")
	f.Add([]byte(""), "../../../../../x")
	f.Add([]byte("cpu_cache"), "/devices/region7")
	f.Fuzz(func(t *testing.T, domain []byte, target string) {
		sys := mapRegion(string(domain))
		sys["dev/block/259:0"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte(target)}
		p, err := describe(sys, fileIdentity{sysfs.Block, 259, 0})
		if p.Region != "" && (!fs.ValidPath(p.Region) || !isRegionName(path.Base(p.Region))) {
			t.Fatalf("region %q for target %q", p.Region, target)
		}
		if p.EADR && (p.Domain != DomainCPUCache || err != nil) {
			t.Fatalf("EADR with domain %q, err %v", p.Domain, err)
		}
		if err == nil && p.Region == "devices/ndbus0/region0" && string(domain) == "cpu_cache\n" && !p.EADR {
			t.Fatalf("cpu_cache region not eADR: %+v", p)
		}
		if AutoFlush(sys) != (string(domain) == "cpu_cache\n") {
			t.Fatalf("AutoFlush with domain %q = %v", domain, !(string(domain) == "cpu_cache\n"))
		}
	})
}
