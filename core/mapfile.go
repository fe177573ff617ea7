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
	FileCreate  FileFlags = 1 << iota // create the file (PMEM_FILE_CREATE)
	FileExcl                          // with FileCreate: fail if it exists (PMEM_FILE_EXCL)
	FileSparse                        // do not allocate blocks (PMEM_FILE_SPARSE)
	FileTmpfile                       // an unnamed temporary file in the directory path (PMEM_FILE_TMPFILE)
)

// MapFile maps the whole file at path, creating it with size bytes and
// permissions perm when flags ask to, like pmem_map_file. The mapping's
// persist path follows what the platform offers: msync on a page-cache file,
// CPU flushes on DAX or when PMEM_IS_PMEM_FORCE=1.
func MapFile(path string, size int64, flags FileFlags, perm os.FileMode) (*Map, error) {
	oflag := os.O_RDWR
	if flags&FileCreate != 0 {
		oflag |= os.O_CREATE
		if flags&FileExcl != 0 {
			oflag |= os.O_EXCL
		}
	}
	var f *os.File
	var err error
	if flags&FileTmpfile != 0 {
		fd, terr := unix.Open(path, unix.O_TMPFILE|unix.O_RDWR, uint32(perm.Perm()))
		if terr != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: terr}
		}
		f = os.NewFile(uintptr(fd), path)
	} else if f, err = os.OpenFile(path, oflag, perm); err != nil {
		return nil, err
	}
	defer f.Close()
	if flags&(FileCreate|FileTmpfile) != 0 && size > 0 {
		if err := f.Truncate(size); err != nil {
			return nil, err
		}
		if flags&FileSparse == 0 {
			if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
				return nil, fmt.Errorf("core: allocate %s: %w", path, err)
			}
		}
	}
	return mapOpenFile(f)
}

// mapOpenFile maps all of f, shared, with the persist path its platform
// gives.
func mapOpenFile(f *os.File) (*Map, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size <= 0 {
		return nil, fmt.Errorf("core: map %s: empty file", f.Name())
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("core: map %s: too large", f.Name())
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("core: map %s: %w", f.Name(), err)
	}
	g := GranularityPage
	if forcePmem() {
		g = GranularityCacheLine
	}
	return NewMemoryMap(data, g, NewPersister(g, nil), func() error { return unix.Munmap(data) }), nil
}

// forcePmem reports PMEM_IS_PMEM_FORCE=1: treat page-cache files as pmem.
func forcePmem() bool { return os.Getenv("PMEM_IS_PMEM_FORCE") == "1" }
