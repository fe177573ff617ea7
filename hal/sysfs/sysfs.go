// Package sysfs reads Linux's sysfs through an [io/fs.FS] whose root is
// /sys: the one sysfs reader of hal and core. Paths are relative to /sys
// ("bus/nd/devices/region0/persistence_domain"), so a test passes a
// fixture tree (a [testing/fstest.MapFS], such as package sysfstest loads
// from a txtar archive) where the code would read the machine's.
//
// Every function taking a sysfs tree reads the machine's /sys when it is
// nil ([Or]). Symbolic links are followed as the kernel's sysfs lays them
// out: a tree without [io/fs.ReadLinkFS] has none.
package sysfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Root returns the machine's sysfs: [Dir] of /sys.
func Root() fs.FS { return Dir("/sys") }

// Or returns fsys, or [Root] when fsys is nil.
func Or(fsys fs.FS) fs.FS {
	if fsys == nil {
		return Root()
	}
	return fsys
}

// Dir returns the sysfs tree in directory dir: [os.DirFS] that also writes
// attributes ([AttrWriter]).
func Dir(dir string) fs.FS { return dirFS{os.DirFS(dir).(readFS), dir} }

// readFS is what os.DirFS implements and Dir passes on.
type readFS interface {
	fs.ReadDirFS
	fs.ReadFileFS
	fs.StatFS
	fs.ReadLinkFS
}

type dirFS struct {
	readFS
	dir string
}

var _ AttrWriter = dirFS{}

// WriteAttr writes data to the existing file name, from its start,
// without creating or truncating it: a write(2) to a sysfs attribute.
func (d dirFS) WriteAttr(name string, data []byte) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: "write", Path: name, Err: fs.ErrInvalid}
	}
	f, err := os.OpenFile(filepath.Join(d.dir, filepath.FromSlash(name)), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// AttrWriter is a sysfs tree whose attributes can be written: some take
// commands, such as an nd region's deep_flush.
type AttrWriter interface {
	// WriteAttr writes data to the existing attribute name.
	WriteAttr(name string, data []byte) error
}

// WriteAttr writes data to the attribute name of fsys. The error wraps
// [errors.ErrUnsupported] when fsys is not an [AttrWriter].
func WriteAttr(fsys fs.FS, name string, data []byte) error {
	w, ok := Or(fsys).(AttrWriter)
	if !ok {
		return &fs.PathError{Op: "write", Path: name, Err: errors.ErrUnsupported}
	}
	return w.WriteAttr(name, data)
}

// MaxAttr is the most [ReadString] and [ReadUint] read of one attribute:
// attributes are single values or short lists.
const MaxAttr = 1 << 20

// ReadAttr reads the attribute name whole, as it is (with its newline).
// One longer than limit bytes is an error wrapping [fs.ErrInvalid].
func ReadAttr(fsys fs.FS, name string, limit int) ([]byte, error) {
	f, err := Or(fsys).Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if len(b) > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: longer than %d bytes", fs.ErrInvalid, limit)}
	}
	return b, nil
}

// ReadString reads the attribute name (at most [MaxAttr] bytes) without
// its final newlines.
func ReadString(fsys fs.FS, name string) (string, error) {
	b, err := ReadAttr(fsys, name, MaxAttr)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// ReadUint reads an attribute holding one unsigned number, decimal or
// 0x-prefixed hexadecimal, that fits an int64.
func ReadUint(fsys fs.FS, name string) (int64, error) {
	s, err := ReadString(fsys, name)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 63)
	if err != nil {
		return 0, &fs.PathError{Op: "parse", Path: name, Err: err}
	}
	return int64(v), nil
}

// NDDevices is the directory of the NVDIMM ("nd") bus's devices: regions,
// namespaces, DIMMs.
const NDDevices = "bus/nd/devices"

// Kinds of device number, as directories of /sys/dev.
const (
	Block = "block"
	Char  = "char"
)

// DevNumber formats a device number as sysfs does, in its dev attributes
// and the names in /sys/dev: "259:0".
func DevNumber(major, minor uint32) string {
	return strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10)
}

// DevLink returns the path of a device's link in /sys/dev ("dev/block/259:0"),
// kind being [Block] or [Char].
func DevLink(kind string, major, minor uint32) string {
	return path.Join("dev", kind, DevNumber(major, minor))
}

// ResolveDevice follows a device's link in /sys/dev ([DevLink]) to the
// device's directory in /sys/devices. It returns "" with no error when
// sysfs has no entry for the device (virtual file systems such as tmpfs
// have none), and an error wrapping [fs.ErrInvalid] when the link leads
// out of sysfs.
func ResolveDevice(fsys fs.FS, kind string, major, minor uint32) (string, error) {
	link := DevLink(kind, major, minor)
	target, err := fs.ReadLink(Or(fsys), link)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	var dev string
	if path.IsAbs(target) {
		// Absolute: a path of the machine, inside /sys or not at all.
		dev, _ = strings.CutPrefix(path.Clean(target), "/sys/")
		if dev == path.Clean(target) {
			dev = ""
		}
	} else {
		dev = path.Join(path.Dir(link), target)
	}
	if dev == "" || dev == "." || !fs.ValidPath(dev) {
		return "", &fs.PathError{Op: "readlink", Path: link, Err: fmt.Errorf("%w: target %q leaves sysfs", fs.ErrInvalid, target)}
	}
	return dev, nil
}

// Subsystem returns the name of the subsystem (bus or class) device dir
// belongs to, the last element of its subsystem link ("dax", "block"), or
// "" with no error when it has none.
func Subsystem(fsys fs.FS, dir string) (string, error) {
	target, err := fs.ReadLink(Or(fsys), path.Join(dir, "subsystem"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	return path.Base(target), nil
}
