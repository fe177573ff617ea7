package hal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal/sysfs"
)

// DetectFile reports how stores to a mapping of f reach persistence: DAX
// or page cache, and the persistence domain of the nd region behind it,
// read from the real /sys. f must be open for reading.
func DetectFile(f *os.File) (Platform, error) { return DetectFileIn(f, nil) }

// DetectFileIn is [DetectFile] with sysfs read from the tree fsys, rooted
// at /sys (see package [sysfs]); nil means the machine's.
func DetectFileIn(f *os.File, fsys fs.FS) (Platform, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return Platform{}, fmt.Errorf("hal: detect %s: %w", f.Name(), err)
	}
	var p Platform
	var derr error
	if err := rc.Control(func(fd uintptr) { p, derr = DetectFDIn(int(fd), fsys) }); err != nil {
		return Platform{}, fmt.Errorf("hal: detect %s: %w", f.Name(), err)
	}
	if derr != nil {
		return p, fmt.Errorf("hal: detect %s: %w", f.Name(), derr)
	}
	return p, nil
}

// DetectFD is [DetectFile] for a file descriptor. The caller keeps fd open
// for the duration of the call.
func DetectFD(fd int) (Platform, error) { return DetectFDIn(fd, nil) }

// DetectFDIn is [DetectFD] with sysfs read from the tree fsys, rooted at
// /sys; nil means the machine's.
//
// DAX is decided by the kernel itself: a shared mapping with MAP_SYNC is
// accepted only where no page cache sits between the mapping and the
// media. A device-DAX character device is recognised by its sysfs
// subsystem instead, since its mappings must be aligned to the device's
// alignment. When sysfs cannot be read as expected, the error comes with
// the Platform detected so far (DAX is always valid).
func DetectFDIn(fd int, fsys fs.FS) (Platform, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Platform{}, &fs.PathError{Op: "fstat", Path: fmt.Sprintf("fd %d", fd), Err: err}
	}
	var id fileIdentity
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		id = fileIdentity{sysfs.Char, unix.Major(st.Rdev), unix.Minor(st.Rdev)}
	case unix.S_IFBLK:
		id = fileIdentity{sysfs.Block, unix.Major(st.Rdev), unix.Minor(st.Rdev)}
	default:
		id = fileIdentity{sysfs.Block, unix.Major(st.Dev), unix.Minor(st.Dev)}
	}
	p, serr := describe(sysfs.Or(fsys), id)
	if id.kind != sysfs.Char {
		dax, err := probeMapSync(fd)
		if err != nil {
			return Platform{}, err
		}
		p.DAX = dax
	}
	return p, serr
}

// probeMapSync reports whether the kernel accepts a MAP_SYNC mapping of fd,
// which it does only for DAX files.
func probeMapSync(fd int) (bool, error) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return false, &fs.PathError{Op: "fcntl", Path: fmt.Sprintf("fd %d", fd), Err: err}
	}
	prot := unix.PROT_READ
	switch fl & unix.O_ACCMODE {
	case unix.O_RDWR:
		prot |= unix.PROT_WRITE
	case unix.O_WRONLY:
		return false, &fs.PathError{Op: "probe MAP_SYNC", Path: fmt.Sprintf("fd %d", fd), Err: fmt.Errorf("%w: file is write-only", fs.ErrPermission)}
	}
	// One page at offset 0: the kernel decides MAP_SYNC support before
	// looking at the file size, and nothing is touched.
	b, err := unix.Mmap(fd, 0, os.Getpagesize(), prot, unix.MAP_SHARED_VALIDATE|unix.MAP_SYNC)
	switch {
	case err == nil:
		if err := unix.Munmap(b); err != nil {
			return true, &fs.PathError{Op: "munmap", Path: fmt.Sprintf("fd %d", fd), Err: err}
		}
		return true, nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL):
		// The file system has no MAP_SYNC (page cache), or the kernel
		// predates MAP_SHARED_VALIDATE.
		return false, nil
	case errors.Is(err, unix.ENODEV):
		// Not mappable at all (pipes, some special files): no DAX.
		return false, nil
	}
	return false, &fs.PathError{Op: "probe MAP_SYNC", Path: fmt.Sprintf("fd %d", fd), Err: err}
}
