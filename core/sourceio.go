package core

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// ReadAt reads len(b) bytes of the file source s from offset off
// (pmem2_source_pread_mcsafe) with pread(2): a poisoned page of a file on
// persistent memory gives the kernel's EIO instead of a machine check.
// Reading past the end is an error, as in libpmem2. Device DAX (which
// has no pread) and anonymous sources give ErrNotSupported.
func (s *Source) ReadAt(b []byte, off int64) (int, error) {
	return s.rw(b, off, false)
}

// WriteAt writes b to the file source s at offset off
// (pmem2_source_pwrite_mcsafe) with pwrite(2); see ReadAt.
func (s *Source) WriteAt(b []byte, off int64) (int, error) {
	return s.rw(b, off, true)
}

func (s *Source) rw(b []byte, off int64, write bool) (int, error) {
	if s.kind != sourceFD || s.ftype == fileDevDAX {
		return 0, fmt.Errorf("core: source read/write: %w", ErrNotSupported)
	}
	size, err := s.Size()
	if err != nil {
		return 0, err
	}
	if off < 0 || off > size || int64(len(b)) > size-off {
		return 0, fmt.Errorf("core: source read/write of %d bytes at %d, size %d: %w", len(b), off, size, ErrMapRange)
	}
	done := 0
	for done < len(b) {
		var n int
		if write {
			n, err = unix.Pwrite(s.fd, b[done:], off+int64(done))
		} else {
			n, err = unix.Pread(s.fd, b[done:], off+int64(done))
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return done, fmt.Errorf("core: source read/write at %d: %w", off+int64(done), err)
		}
		if n == 0 {
			return done, io.ErrUnexpectedEOF
		}
		done += n
	}
	return done, nil
}
