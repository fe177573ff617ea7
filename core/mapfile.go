package core

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// FileFlags are the flags of [MapFile], as PMEM_FILE_* of pmem_map_file.
type FileFlags uint32

const (
	FileCreate  FileFlags = 1 << iota // create the file, or set an existing one to size (PMEM_FILE_CREATE)
	FileExcl                          // with FileCreate: fail if it exists (PMEM_FILE_EXCL)
	FileSparse                        // with FileCreate: do not allocate blocks (PMEM_FILE_SPARSE)
	FileTmpfile                       // with FileCreate: an unnamed file in the directory path (PMEM_FILE_TMPFILE)

	fileAllFlags = FileCreate | FileExcl | FileSparse | FileTmpfile
)

// MapFile maps a whole file, the libpmem way (pmem_map_file), and registers
// the mapping so the package-level [Persist], [IsPmem] and Mem* functions
// find its persist path. The rules on size are pmem_map_file's:
//
//   - with FileCreate, size must be > 0 and the file gets exactly size bytes
//     (created, extended or truncated), allocated unless FileSparse;
//   - without FileCreate, size must be 0 and the file's own size is used;
//   - FileTmpfile needs FileCreate and makes path a directory in which an
//     unnamed file is created, gone when the mapping is closed.
//
// perm applies to a created file. A file created with FileCreate|FileExcl is
// removed again when mapping fails. A device DAX is mapped whole; only
// FileCreate and FileSparse are accepted (and ignored) and size must be 0
// or its exact size. Wrong arguments give an
// error wrapping ErrInvalidArgument; the mapping itself is as [NewMap] with
// a nil Config: [Map.IsPmem] is pmem_map_file's is_pmem.
func MapFile(path string, size int64, flags FileFlags, perm os.FileMode) (*Map, error) {
	if flags&^fileAllFlags != 0 {
		return nil, fmt.Errorf("core: map file %s: flags %#x: %w", path, uint32(flags), ErrInvalidArgument)
	}
	if isDevDAXPath(path) {
		if flags&^(FileCreate|FileSparse) != 0 {
			return nil, fmt.Errorf("core: map file %s: flags %#x not valid for device DAX: %w", path, uint32(flags), ErrInvalidArgument)
		}
		return mapDevDAXFile(path, size)
	}
	create := flags&FileCreate != 0
	switch {
	case create && size < 0:
		return nil, fmt.Errorf("core: map file %s: size %d: %w", path, size, ErrInvalidArgument)
	case !create && size != 0:
		return nil, fmt.Errorf("core: map file %s: non-zero size %d without FileCreate: %w", path, size, ErrInvalidArgument)
	case create && size == 0:
		return nil, fmt.Errorf("core: map file %s: zero size with FileCreate: %w", path, ErrInvalidArgument)
	case flags&FileTmpfile != 0 && !create:
		return nil, fmt.Errorf("core: map file %s: FileTmpfile without FileCreate: %w", path, ErrInvalidArgument)
	}

	var f *os.File
	removeOnErr := false
	if flags&FileTmpfile != 0 {
		oflag := unix.O_TMPFILE | unix.O_RDWR | unix.O_CLOEXEC
		if flags&FileExcl != 0 {
			oflag |= unix.O_EXCL // never linkable into the directory
		}
		fd, err := unix.Open(path, oflag, uint32(perm.Perm()))
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		f = os.NewFile(uintptr(fd), path)
	} else {
		oflag := os.O_RDWR
		if create {
			oflag |= os.O_CREATE
			if flags&FileExcl != 0 {
				oflag |= os.O_EXCL
				removeOnErr = true
			}
		}
		var err error
		if f, err = os.OpenFile(path, oflag, perm); err != nil {
			return nil, err
		}
	}
	defer f.Close()
	fail := func(err error) (*Map, error) {
		if removeOnErr {
			_ = os.Remove(path)
		}
		return nil, err
	}
	if create {
		if err := f.Truncate(size); err != nil {
			return fail(err)
		}
		if flags&FileSparse == 0 {
			if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
				return fail(fmt.Errorf("core: allocate %s: %w", path, err))
			}
		}
	}
	src, err := FromFile(f)
	if err != nil {
		return fail(err)
	}
	m, err := NewMap(src, nil)
	if err != nil {
		return fail(fmt.Errorf("core: map file %s: %w", path, err))
	}
	register(m)
	return m, nil
}

// isDevDAXPath reports whether path names a character device (a device DAX
// candidate: FromFile decides).
func isDevDAXPath(path string) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR
}

func mapDevDAXFile(path string, size int64) (*Map, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := FromFile(f)
	if err != nil {
		return nil, fmt.Errorf("core: map file %s: %w", path, err)
	}
	actual, err := src.Size()
	if err != nil {
		return nil, fmt.Errorf("core: map file %s: %w", path, err)
	}
	if size != 0 && size != actual {
		return nil, fmt.Errorf("core: map file %s: device DAX size is %d, not %d: %w", path, actual, size, ErrInvalidArgument)
	}
	m, err := NewMap(src, nil)
	if err != nil {
		return nil, fmt.Errorf("core: map file %s: %w", path, err)
	}
	register(m)
	return m, nil
}
