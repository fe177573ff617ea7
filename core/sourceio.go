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

// ClearBadBlock clears bad block bb of s, as listed by BadBlocks
// (pmem2_badblock_clear). In a regular file, as libpmem2 does on fsdax,
// the range is deallocated (a hole punched, so the file system drops the
// poisoned blocks) and allocated again, reading zeros; the file's size is
// kept. Clearing on device DAX takes the NVDIMM bus's clear-error command
// (ndctl), which core does not have: that, like anonymous memory, gives
// an error wrapping ErrNotSupported. A negative or empty range wraps
// ErrInvalidArgument.
func (s *Source) ClearBadBlock(bb BadBlock) error {
	if bb.Offset < 0 || bb.Length <= 0 || bb.Offset > maxInt-bb.Length {
		return fmt.Errorf("core: clear bad block at %d of %d bytes: %w", bb.Offset, bb.Length, ErrInvalidArgument)
	}
	if s.kind != sourceFD || s.ftype != fileRegular {
		return fmt.Errorf("core: clear bad block: only in regular files: %w", ErrNotSupported)
	}
	if err := unix.Fallocate(s.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, bb.Offset, bb.Length); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("core: clear bad block: punch hole: %w (%w)", ErrNotSupported, err)
		}
		return fmt.Errorf("core: clear bad block: punch hole: %w", err)
	}
	if err := unix.Fallocate(s.fd, unix.FALLOC_FL_KEEP_SIZE, bb.Offset, bb.Length); err != nil {
		return fmt.Errorf("core: clear bad block: allocate: %w", err)
	}
	return nil
}
