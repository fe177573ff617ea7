package core

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultSysfsRoot is where a [Source] reads the platform's NVDIMM
// information (bad blocks, unsafe shutdown counts, eADR, deep flush) unless
// [Source.SetSysfsRoot] points it at another tree.
const DefaultSysfsRoot = "/sys"

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
	dev   uint64 // st_dev: the block device a regular file lives on
	rdev  uint64 // st_rdev: the device DAX character device
	size  int64  // anonymous sources only
	sysfs string
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
func FromFD(fd int) (*Source, error) {
	return FromFDAt(fd, DefaultSysfsRoot)
}

// FromFDAt is FromFD reading the platform's sysfs tree at sysfsRoot (to
// tell a device DAX and, later, for NVDIMM information): tests point it at
// fixture trees.
func FromFDAt(fd int, sysfsRoot string) (*Source, error) {
	return fromFD(fd, sysfsRoot)
}

func fromFD(fd int, sysfs string) (*Source, error) {
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
	s := &Source{kind: sourceFD, fd: fd, dev: st.Dev, rdev: st.Rdev, sysfs: sysfs}
	if s.ftype, err = fileTypeOf(&st, sysfs); err != nil {
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
	return &Source{kind: sourceAnon, fd: -1, size: size, sysfs: DefaultSysfsRoot}, nil
}

// SetSysfsRoot makes s read the NVDIMM information from the sysfs tree at
// root instead of [DefaultSysfsRoot]: tests point it at fixture trees.
func (s *Source) SetSysfsRoot(root string) { s.sysfs = root }

// SysfsRoot returns the sysfs tree s reads.
func (s *Source) SysfsRoot() string { return s.sysfs }

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
	return readSysfsUint(l.devices, l.device, attr)
}

// fileTypeOf tells a regular file from a device DAX, refusing anything else
// (pmem2_get_type_from_stat).
func fileTypeOf(st *unix.Stat_t, sysfs string) (fileType, error) {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return fileRegular, nil
	case unix.S_IFDIR:
		return 0, fmt.Errorf("directory: %w", ErrInvalidFileType)
	case unix.S_IFCHR:
		sub, err := filepath.EvalSymlinks(filepath.Join(sysfs, charDevDir(st.Rdev), "subsystem"))
		if err != nil || filepath.Base(sub) != "dax" {
			return 0, fmt.Errorf("character device %s is not device DAX: %w", devString(st.Rdev), ErrInvalidFileType)
		}
		return fileDevDAX, nil
	}
	return 0, fmt.Errorf("file mode %#o: %w", st.Mode&unix.S_IFMT, ErrInvalidFileType)
}

// devString formats a device number as sysfs does in its "dev" files.
func devString(dev uint64) string {
	return strconv.FormatUint(uint64(unix.Major(dev)), 10) + ":" + strconv.FormatUint(uint64(unix.Minor(dev)), 10)
}

func charDevDir(rdev uint64) string { return filepath.Join("dev", "char", devString(rdev)) }

// maxSysfsAttr caps what is read of one sysfs attribute: they are single
// values or short lists; a huge file is not one.
const maxSysfsAttr = 1 << 20

// readSysfsAttr reads one attribute file under root, trimmed of the final
// newline.
func readSysfsAttr(root string, elem ...string) (string, error) {
	p := filepath.Join(append([]string{root}, elem...)...)
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var out []byte
	for len(out) < maxSysfsAttr {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if n == 0 || err != nil {
			break
		}
	}
	if len(out) >= maxSysfsAttr {
		return "", fmt.Errorf("core: sysfs %s: larger than %d bytes: %w", p, maxSysfsAttr, ErrInvalidArgument)
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// readSysfsUint reads an attribute holding one unsigned number, decimal or
// 0x-prefixed hexadecimal, that must fit an int64.
func readSysfsUint(root string, elem ...string) (int64, error) {
	s, err := readSysfsAttr(root, elem...)
	if err != nil {
		return 0, fmt.Errorf("core: sysfs: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 63)
	if err != nil {
		return 0, fmt.Errorf("core: sysfs %s: %w", filepath.Join(elem...), err)
	}
	return int64(v), nil
}
