package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal/sysfs"
)

type sourceKind uint8

const (
	sourceFD sourceKind = iota + 1
	sourceAnon
)

// fileType is what a file descriptor source points at (PMEM2_FTYPE_*).
type fileType uint8

const (
	fileRegular fileType = iota + 1
	fileDevDAX
)

// Source is the memory a [Map] is made of: a file (regular or device DAX)
// or anonymous memory, as a pmem2_source. A file Source does not own its
// descriptor: keep the file open while the Source is in use; a Map made from
// it does not need it any more.
type Source struct {
	kind  sourceKind
	fd    int
	ftype fileType
	dev   uint64   // st_dev: the block device a regular file lives on
	rdev  uint64   // st_rdev: the device DAX character device
	size  int64    // anonymous sources only
	sysfs fs.FS    // rooted at /sys: NVDIMM information, device DAX, eADR
	file  *os.File // keeps FromFile's file (and so fd) from being finalized
}

// FromFile returns a Source for the open file f (pmem2_source_from_fd). f
// must be open for reading or reading and writing, and be a regular file or
// a device DAX.
func FromFile(f *os.File) (*Source, error) {
	if f == nil {
		return nil, fmt.Errorf("core: source from nil file: %w", ErrInvalidFileHandle)
	}
	s, err := FromFD(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	s.file = f
	return s, nil
}

// FromFD is FromFile for a raw file descriptor.
func FromFD(fd int) (*Source, error) { return FromFDIn(fd, nil) }

// FromFDIn is FromFD reading the platform's sysfs from the tree fsys,
// rooted at /sys (package [sysfs]; nil means the machine's): to tell a
// device DAX, and later for eADR and the NVDIMM information. Tests pass
// fixture trees.
func FromFDIn(fd int, fsys fs.FS) (*Source, error) {
	if fd < 0 {
		return nil, fmt.Errorf("core: source from fd %d: %w", fd, ErrInvalidFileHandle)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		if errors.Is(err, unix.EBADF) {
			return nil, fmt.Errorf("core: source from fd %d: %w", fd, ErrInvalidFileHandle)
		}
		return nil, fmt.Errorf("core: source from fd %d: %w", fd, err)
	}
	if fl&unix.O_ACCMODE == unix.O_WRONLY {
		return nil, fmt.Errorf("core: source from fd %d: opened write-only: %w", fd, ErrInvalidFileHandle)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("core: source from fd %d: %w", fd, err)
	}
	s := &Source{kind: sourceFD, fd: fd, dev: st.Dev, rdev: st.Rdev, sysfs: sysfs.Or(fsys)}
	if s.ftype, err = fileTypeOf(&st, s.sysfs); err != nil {
		return nil, fmt.Errorf("core: source from fd %d: %w", fd, err)
	}
	return s, nil
}

// Anonymous returns a Source of size bytes of anonymous memory
// (pmem2_source_from_anon). Its mappings have byte granularity: nothing
// persists them, so nothing needs flushing.
func Anonymous(size int64) (*Source, error) {
	if size < 0 {
		return nil, fmt.Errorf("core: anonymous source of %d bytes: %w", size, ErrInvalidArgument)
	}
	return &Source{kind: sourceAnon, fd: -1, size: size, sysfs: sysfs.Root()}, nil
}

// SetSysfs makes s read the NVDIMM information from the sysfs tree fsys,
// rooted at /sys, instead of the one it was made with; nil means the
// machine's. Tests point it at fixture trees.
func (s *Source) SetSysfs(fsys fs.FS) { s.sysfs = sysfs.Or(fsys) }

// Sysfs returns the sysfs tree s reads.
func (s *Source) Sysfs() fs.FS { return s.sysfs }

// IsDevDAX reports whether s is a device DAX character device.
func (s *Source) IsDevDAX() bool { return s.kind == sourceFD && s.ftype == fileDevDAX }

// Size returns the size of the source in bytes: the file size now, the
// device DAX size, or the anonymous size (pmem2_source_size).
func (s *Source) Size() (int64, error) {
	switch {
	case s.kind == sourceAnon:
		return s.size, nil
	case s.ftype == fileDevDAX:
		return s.devDAXAttr("size")
	}
	var st unix.Stat_t
	if err := unix.Fstat(s.fd, &st); err != nil {
		if errors.Is(err, unix.EBADF) {
			return 0, fmt.Errorf("core: source size: %w", ErrInvalidFileHandle)
		}
		return 0, fmt.Errorf("core: source size: %w", err)
	}
	return st.Size, nil
}

// Alignment returns the alignment in bytes that mapping offsets and lengths
// must respect: the page size, or the device DAX alignment
// (pmem2_source_alignment).
func (s *Source) Alignment() (int64, error) {
	a := int64(os.Getpagesize())
	if s.IsDevDAX() {
		v, err := s.devDAXAttr("align")
		if err != nil {
			return 0, err
		}
		if v <= 0 || v&(v-1) != 0 {
			return 0, fmt.Errorf("core: device DAX alignment %d is not a power of two: %w", v, ErrInvalidArgument)
		}
		a = v
	}
	return a, nil
}

// devDAXAttr reads a number of the nd dax device behind a device DAX
// source, as libpmem2 asks libndctl for its size and alignment.
func (s *Source) devDAXAttr(attr string) (int64, error) {
	l, err := locateND(s)
	if err != nil {
		return 0, err
	}
	if l == nil {
		return 0, fmt.Errorf("core: device DAX %s: no nd dax device: %w", devString(s.rdev), ErrNotSupported)
	}
	return readSysfsUint(s.sysfs, sysfs.NDDevices, l.device, attr)
}

// fileTypeOf tells a regular file from a device DAX, refusing anything else
// (pmem2_get_type_from_stat).
func fileTypeOf(st *unix.Stat_t, fsys fs.FS) (fileType, error) {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return fileRegular, nil
	case unix.S_IFDIR:
		return 0, fmt.Errorf("directory: %w", ErrInvalidFileType)
	case unix.S_IFCHR:
		sub, err := sysfs.Subsystem(fsys, sysfs.DevLink(sysfs.Char, unix.Major(st.Rdev), unix.Minor(st.Rdev)))
		if err != nil || sub != "dax" {
			return 0, fmt.Errorf("character device %s is not device DAX: %w", devString(st.Rdev), ErrInvalidFileType)
		}
		return fileDevDAX, nil
	}
	return 0, fmt.Errorf("file mode %#o: %w", st.Mode&unix.S_IFMT, ErrInvalidFileType)
}

// devString formats a device number as sysfs does in its "dev" files.
func devString(dev uint64) string { return sysfs.DevNumber(unix.Major(dev), unix.Minor(dev)) }

// readSysfsAttr reads one attribute of the sysfs tree fsys (the path
// elements joined), trimmed of the final newline.
func readSysfsAttr(fsys fs.FS, elem ...string) (string, error) {
	return sysfs.ReadString(fsys, path.Join(elem...))
}

// readSysfsUint reads an attribute holding one unsigned number, decimal or
// 0x-prefixed hexadecimal, that must fit an int64.
func readSysfsUint(fsys fs.FS, elem ...string) (int64, error) {
	v, err := sysfs.ReadUint(fsys, path.Join(elem...))
	if err != nil {
		return 0, fmt.Errorf("core: sysfs: %w", err)
	}
	return v, nil
}
