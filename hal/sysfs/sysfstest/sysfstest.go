// Package sysfstest gives tests sysfs fixture trees kept in txtar
// archives, as [testing/fstest.MapFS] values for package sysfs and the code
// reading through it. Real sysfs paths hold ':' (device numbers such as
// 259:0, ACPI names such as LNXSYSTM:00), which Go module zips refuse: an
// archive keeps them in its text instead of in file names.
//
// An archive is the txtar format (a comment, then files each introduced by
// a line "-- NAME --"), with names relative to /sys and two additions:
//
//	-- dev/block/259:0 -> ../../devices/ndbus0/region0/namespace0.0/block/pmem0 --
//	-- bus/nd/devices/ --
//
// "NAME -> TARGET" is a symbolic link (its content must be empty) and a
// name ending in "/" an empty directory. A file's content is the lines up
// to the next marker line, each with its newline.
package sysfstest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

// Load parses the txtar archive in file (see [Parse]), failing t when it
// cannot. Each call returns a new tree, which the test may change.
func Load(t testing.TB, file string) fstest.MapFS {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return fsys
}

// Parse turns a txtar archive into a tree. A name that is not a valid
// [io/fs] path, a name given twice, or a link with content is an error.
func Parse(data []byte) (fstest.MapFS, error) {
	fsys := fstest.MapFS{}
	var cur *fstest.MapFile // the regular file taking content lines, if any
	var curName string
	line := 0
	for len(data) > 0 {
		var l []byte
		l, data, _ = bytes.Cut(data, []byte("\n"))
		line++
		name, ok := marker(l)
		if !ok {
			switch {
			case cur != nil:
				cur.Data = append(cur.Data, l...)
				cur.Data = append(cur.Data, '\n')
			case curName != "" && len(bytes.TrimSpace(l)) > 0:
				return nil, fmt.Errorf("line %d: content for %s, which is not a regular file", line, curName)
			}
			continue
		}
		f := &fstest.MapFile{Mode: 0o444}
		cur, curName = nil, name
		if n, target, isLink := strings.Cut(name, " -> "); isLink {
			name, f.Mode, f.Data = n, fs.ModeSymlink|0o777, []byte(target)
		} else if n, isDir := strings.CutSuffix(name, "/"); isDir {
			name, f.Mode = n, fs.ModeDir|0o555
		} else {
			f.Data = []byte{}
			cur = f
		}
		if !fs.ValidPath(name) || name == "." {
			return nil, fmt.Errorf("line %d: invalid name %q", line, name)
		}
		if fsys[name] != nil {
			return nil, fmt.Errorf("line %d: %s given twice", line, name)
		}
		fsys[name] = f
	}
	return fsys, nil
}

// marker returns NAME from a line "-- NAME --".
func marker(l []byte) (string, bool) {
	s, ok := strings.CutPrefix(string(l), "-- ")
	if !ok {
		return "", false
	}
	s, ok = strings.CutSuffix(s, " --")
	s = strings.TrimSpace(s)
	return s, ok && s != ""
}

// maxLinks bounds the links followed for one name, as the kernel's ELOOP.
const maxLinks = 40

// Set gives the file name in fsys the content data, following symbolic
// links in name as a write to that path would: setting
// "bus/nd/devices/region0/mappings" changes the region's own attribute.
// The file is created if missing.
func Set(fsys fstest.MapFS, name string, data []byte) error {
	real, err := resolve(fsys, name)
	if err != nil {
		return err
	}
	f := fsys[real]
	switch {
	case f == nil:
		f = &fstest.MapFile{Mode: 0o444}
		fsys[real] = f
	case !f.Mode.IsRegular():
		return &fs.PathError{Op: "set", Path: name, Err: fs.ErrInvalid}
	}
	f.Data = append([]byte(nil), data...)
	return nil
}

// resolve returns name with every symbolic link in it followed.
func resolve(fsys fstest.MapFS, name string) (string, error) {
	for hops := 0; ; hops++ {
		if !fs.ValidPath(name) {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: fs.ErrInvalid}
		}
		if hops > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: fmt.Errorf("too many links")}
		}
		link, rest := "", ""
		for p := name; p != "."; p = path.Dir(p) {
			if f := fsys[p]; f != nil && f.Mode.Type() == fs.ModeSymlink {
				link, rest = p, strings.TrimPrefix(strings.TrimPrefix(name, p), "/")
			}
		}
		if link == "" {
			return name, nil
		}
		target := string(fsys[link].Data)
		if path.IsAbs(target) {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: fmt.Errorf("%w: absolute link %s", fs.ErrInvalid, link)}
		}
		name = path.Join(path.Dir(link), target, rest)
	}
}
