package sysfstest_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gopmdk/pmdk/hal/sysfs/sysfstest"
)

const archive = `A comment, ignored.
-- dev/block/259:0 -> ../../devices/ndbus0/region0/pmem0 --
-- devices/ndbus0/region0/pmem0/dev --
259:0
-- devices/ndbus0/region0/badblocks --
-- devices/ndbus0/region0/mapping0 --
nmem0,0,1024,0

-- bus/nd/devices/ --
`

func TestParse(t *testing.T) {
	fsys, err := sysfstest.Parse([]byte(archive))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"devices/ndbus0/region0/pmem0/dev": "259:0\n",
		"dev/block/259:0/dev":              "259:0\n", // through the link
		"devices/ndbus0/region0/badblocks": "",
		"devices/ndbus0/region0/mapping0":  "nmem0,0,1024,0\n\n",
	} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", name, b, err, want)
		}
	}
	if target, err := fs.ReadLink(fsys, "dev/block/259:0"); err != nil || target != "../../devices/ndbus0/region0/pmem0" {
		t.Errorf("link: %q %v", target, err)
	}
	if ents, err := fs.ReadDir(fsys, "bus/nd/devices"); err != nil || len(ents) != 0 {
		t.Errorf("empty directory: %v %v", ents, err)
	}
	if err := fstest.TestFS(fsys, "devices/ndbus0/region0/pmem0/dev", "dev/block/259:0"); err != nil {
		t.Error(err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{
		"-- ../x --\n",
		"-- /abs --\n",
		"-- a --\n-- a --\n",
		"-- l -> t --\ncontent\n",
		"-- d/ --\ncontent\n",
		"-- ./ --\n",
	} {
		if _, err := sysfstest.Parse([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Not markers: content of the file before them.
	fsys, err := sysfstest.Parse([]byte("-- f --\n--x --\n-- --\n"))
	if err != nil || string(fsys["f"].Data) != "--x --\n-- --\n" {
		t.Errorf("%v %v", fsys, err)
	}
}

func TestLoadCopies(t *testing.T) {
	a := sysfstest.Load(t, "../../testdata/sysfs/eadr.txtar")
	b := sysfstest.Load(t, "../../testdata/sysfs/eadr.txtar")
	for name := range a {
		if strings.Contains(name, ":") {
			delete(a, name)
		}
	}
	if len(a) == len(b) {
		t.Fatal("trees share their map")
	}
}

func TestSet(t *testing.T) {
	fsys, err := sysfstest.Parse([]byte(archive))
	if err != nil {
		t.Fatal(err)
	}
	fsys["loop"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("loop")}
	fsys["abs"] = &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("/sys/devices")}
	// Through the link: the device's own attribute changes.
	if err := sysfstest.Set(fsys, "dev/block/259:0/dev", []byte("8:0\n")); err != nil {
		t.Fatal(err)
	}
	if got := string(fsys["devices/ndbus0/region0/pmem0/dev"].Data); got != "8:0\n" {
		t.Errorf("target holds %q", got)
	}
	if err := sysfstest.Set(fsys, "devices/ndbus0/region0/new", []byte("x")); err != nil || string(fsys["devices/ndbus0/region0/new"].Data) != "x" {
		t.Errorf("new file: %v", err)
	}
	for _, bad := range []string{"loop/x", "abs/x", "bus/nd/devices", "../x"} {
		if err := sysfstest.Set(fsys, bad, nil); err == nil {
			t.Errorf("Set(%s) accepted", bad)
		}
	}
}
