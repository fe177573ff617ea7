package sysfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gopmdk/pmdk/hal/sysfs"
)

func TestReadAttr(t *testing.T) {
	fsys := fstest.MapFS{
		"a":   {Data: []byte("cpu_cache\n")},
		"n":   {Data: []byte("0x1000\n")},
		"big": {Data: []byte(strings.Repeat("x", sysfs.MaxAttr+1))},
		"neg": {Data: []byte("-1\n")},
		"top": {Data: []byte("9223372036854775808\n")},
	}
	if b, err := sysfs.ReadAttr(fsys, "a", 10); err != nil || string(b) != "cpu_cache\n" {
		t.Errorf("ReadAttr at its limit: %q %v", b, err)
	}
	if _, err := sysfs.ReadAttr(fsys, "a", 9); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadAttr past its limit: %v", err)
	}
	if s, err := sysfs.ReadString(fsys, "a"); err != nil || s != "cpu_cache" {
		t.Errorf("ReadString: %q %v", s, err)
	}
	if _, err := sysfs.ReadString(fsys, "big"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadString of more than MaxAttr: %v", err)
	}
	if v, err := sysfs.ReadUint(fsys, "n"); err != nil || v != 0x1000 {
		t.Errorf("ReadUint: %d %v", v, err)
	}
	for _, name := range []string{"a", "neg", "top", "missing"} {
		if _, err := sysfs.ReadUint(fsys, name); err == nil {
			t.Errorf("ReadUint(%s) accepted", name)
		}
	}
	if _, err := sysfs.ReadString(fsys, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing attribute: %v", err)
	}
}

func TestDirWriteAttr(t *testing.T) {
	dir := t.TempDir()
	attr := filepath.Join(dir, "deep_flush")
	if err := os.WriteFile(attr, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := sysfs.Dir(dir)
	if err := sysfs.WriteAttr(fsys, "deep_flush", []byte("1")); err != nil {
		t.Fatal(err)
	}
	// From the start, not truncated: what a plain file keeps of a write(2).
	if b, _ := os.ReadFile(attr); string(b) != "1\n" {
		t.Errorf("attribute holds %q", b)
	}
	if err := sysfs.WriteAttr(fsys, "new", []byte("1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("write created a file: %v", err)
	}
	if err := sysfs.WriteAttr(fsys, "../x", []byte("1")); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("write out of the tree: %v", err)
	}
	if s, err := sysfs.ReadString(fsys, "deep_flush"); err != nil || s != "1" {
		t.Errorf("read back: %q %v", s, err)
	}
	if err := sysfs.WriteAttr(fstest.MapFS{"a": {}}, "a", []byte("1")); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("write to a read-only tree: %v", err)
	}
}

func TestResolveDevice(t *testing.T) {
	for _, c := range []struct {
		target, want string
		invalid      bool
	}{
		{"../../devices/ndbus0/region0/pmem0", "devices/ndbus0/region0/pmem0", false},
		{"/sys/devices/virtual/block/loop0", "devices/virtual/block/loop0", false},
		{"/devices/x", "", true},
		{"/sys", "", true},
		{"/", "", true},
		{"../../..", "", true},
		{"../../../../etc", "", true},
	} {
		fsys := fstest.MapFS{"dev/block/8:0": {Mode: fs.ModeSymlink, Data: []byte(c.target)}}
		got, err := sysfs.ResolveDevice(fsys, sysfs.Block, 8, 0)
		if c.invalid {
			if !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("target %q: %q %v, want fs.ErrInvalid", c.target, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("target %q: %q %v, want %q", c.target, got, err, c.want)
		}
	}
	if got, err := sysfs.ResolveDevice(fstest.MapFS{}, sysfs.Char, 1, 3); got != "" || err != nil {
		t.Errorf("no entry: %q %v", got, err)
	}
}

func TestSubsystem(t *testing.T) {
	fsys := fstest.MapFS{
		"dev/char/251:0":                   {Mode: fs.ModeSymlink, Data: []byte("../../devices/region1/dax1.0")},
		"devices/region1/dax1.0/dev":       {Data: []byte("251:0\n")},
		"devices/region1/dax1.0/subsystem": {Mode: fs.ModeSymlink, Data: []byte("../../../bus/dax")},
	}
	for dir, want := range map[string]string{
		sysfs.DevLink(sysfs.Char, 251, 0): "dax", // through the /sys/dev link
		"devices/region1/dax1.0":          "dax",
		"devices/region1":                 "",
	} {
		if got, err := sysfs.Subsystem(fsys, dir); err != nil || got != want {
			t.Errorf("Subsystem(%s) = %q %v, want %q", dir, got, err, want)
		}
	}
}

// Root and Or(nil) are the machine's /sys.
func TestRoot(t *testing.T) {
	st, err := os.Stat("/sys/dev")
	if err != nil {
		t.Skip("no /sys/dev")
	}
	for _, fsys := range []fs.FS{sysfs.Root(), sysfs.Or(nil)} {
		got, err := fs.Stat(fsys, "dev")
		if err != nil || !got.IsDir() || !os.SameFile(got, st) {
			t.Errorf("dev in %T: %v %v", fsys, got, err)
		}
	}
}
