package core

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/sysfs"
	"github.com/gopmdk/pmdk/hal/sysfs/sysfstest"
)

// The fixtures' regions, through hal's rule (pmem2_auto_flush), which
// mappings of their sources follow.
func TestEADRFromPersistenceDomain(t *testing.T) {
	load := func(name string) fs.FS { return sysfstest.Load(t, filepath.Join("testdata", "sysfs", name+".txtar")) }
	if !hal.AutoFlush(load("devdax")) {
		t.Error("devdax fixture: every region says cpu_cache")
	}
	if hal.AutoFlush(load("fsdax")) {
		t.Error("fsdax fixture: memory_controller is not eADR")
	}
	if hal.AutoFlush(load("nobus")) || hal.AutoFlush(fstest.MapFS{}) {
		t.Error("no nd bus, no eADR")
	}
	// A bus with no region at all is not eADR either.
	if hal.AutoFlush(fstest.MapFS{sysfs.NDDevices: {Mode: fs.ModeDir | 0o555}}) {
		t.Error("empty nd bus reported eADR")
	}
}

func TestDeepFlushRegionWritesOne(t *testing.T) {
	dir := t.TempDir()
	region := filepath.Join(dir, "bus/nd/devices/region3")
	if err := os.MkdirAll(region, 0o755); err != nil {
		t.Fatal(err)
	}
	l := &ndLocation{sysfs: sysfs.Dir(dir), regionID: 3}
	// No attribute: nothing to do, no error.
	if err := deepFlushRegion(l); err != nil {
		t.Fatal(err)
	}
	attr := filepath.Join(region, "deep_flush")
	// "0" means the region has no flush hints: leave it alone.
	if err := os.WriteFile(attr, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := deepFlushRegion(l); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(attr); string(b) != "0\n" {
		t.Fatalf("wrote to a region without flush hints: %q", b)
	}
	// The kernel's attribute takes the write as a command; a plain file
	// keeps what was written, starting at offset 0.
	if err := os.WriteFile(attr, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := deepFlushRegion(l); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(attr); string(b) != "1\n" {
		t.Fatalf("deep_flush got %q, want a 1 written", b)
	}
	// A tree that cannot be written is skipped, as an attribute that
	// cannot be opened for writing is.
	ro := fstest.MapFS{"bus/nd/devices/region3/deep_flush": {Data: []byte("1\n")}}
	if err := deepFlushRegion(&ndLocation{sysfs: ro, regionID: 3}); err != nil {
		t.Fatalf("read-only tree: %v", err)
	}
}

func TestMapToFile(t *testing.T) {
	exts := []extent{
		{logical: 0, physical: 1 << 20, length: 64 << 10, blksize: 4096},
		{logical: 64 << 10, physical: 8 << 20, length: 64 << 10, blksize: 4096},
	}
	cases := []struct {
		name string
		in   []BadBlock
		want []BadBlock
	}{
		{"outside", []BadBlock{{0, 512}, {4 << 20, 4096}}, nil},
		{"inside first, unaligned", []BadBlock{{1<<20 + 4096 + 512, 512}}, []BadBlock{{4096, 4096}}},
		{"straddles first start", []BadBlock{{1<<20 - 1024, 2048}}, []BadBlock{{0, 4096}}},
		{"inside second", []BadBlock{{8<<20 + 8192, 8192}}, []BadBlock{{64<<10 + 8192, 8192}}},
		{"spans two blocks unaligned", []BadBlock{{1<<20 + 4000, 200}}, []BadBlock{{0, 8192}}},
	}
	for _, tc := range cases {
		if got := mapToFile(tc.in, exts); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseBadBlocks(t *testing.T) {
	got, err := parseBadBlocks("8 8\n\n4088 16\n")
	want := []BadBlock{{4096, 4096}, {4088 * 512, 16 * 512}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"8\n", "x 1\n", "1 0\n", "-1 2\n", "18014398509481983 1\n", "1 18446744073709551615\n"} {
		if _, err := parseBadBlocks(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := parseBadBlocks(strings.Repeat("1 1\n", maxBadBlocks+1)); err == nil {
		t.Error("unbounded record count accepted")
	}
}

// FuzzParseBadBlocks: any sysfs text gives records inside int64 range or
// an error, never a panic.
func FuzzParseBadBlocks(f *testing.F) {
	for _, s := range []string{"", "8 8\n4088 16\n8200 1\n41000 8\n", "0 1", "9223372036854775807 1\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		bbs, err := parseBadBlocks(text)
		if err != nil {
			return
		}
		for _, b := range bbs {
			if b.Offset < 0 || b.Length <= 0 || b.Offset > 1<<63-1-b.Length {
				t.Fatalf("record out of range: %+v", b)
			}
		}
		exts := []extent{{logical: 0, physical: 0, length: 1 << 40, blksize: 4096}}
		for _, b := range mapToFile(bbs, exts) {
			if b.Length <= 0 || b.Offset < 0 {
				t.Fatalf("mapped record out of range: %+v", b)
			}
		}
	})
}

// DeepFlush of a device DAX mapping persists and then asks its region to
// flush, through the region's deep_flush attribute.
func TestDeepFlushDevDAXWritesRegion(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat(os.DevNull, &st); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	devices := filepath.Join(root, "bus/nd/devices")
	for p, v := range map[string]string{
		"dax4.0/dax4.0/dev":  devString(st.Rdev) + "\n",
		"region4/deep_flush": "1\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(devices, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(devices, p), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := make([]byte, 4096)
	m := NewMemoryMap(data, GranularityCacheLine, NewPersister(GranularityCacheLine, nil), nil)
	m.info = &mapInfo{src: Source{kind: sourceFD, fd: -1, ftype: fileDevDAX, rdev: st.Rdev, sysfs: sysfs.Dir(root)}, isPmem: true}
	if err := os.WriteFile(filepath.Join(devices, "region4/deep_flush"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.DeepFlush(data[64:128]); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(devices, "region4/deep_flush")); string(b) != "1\n" {
		t.Fatalf("region deep_flush holds %q, want the 1 DeepFlush writes", b)
	}
	// A device DAX whose region cannot be found is reported, not ignored.
	m.info.src.rdev++
	if err := m.DeepFlush(data[:64]); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("unknown device DAX: %v", err)
	}
}
