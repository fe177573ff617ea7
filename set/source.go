package set

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
)

// FileFlags say how [FromPath] opens a file (PMEMSET_SOURCE_FILE_*).
type FileFlags uint32

const (
	// FileCreateAlways creates the file, truncating an existing one.
	FileCreateAlways FileFlags = 1 << iota
	// FileCreateIfNeeded creates the file if it does not exist.
	FileCreateIfNeeded
	// FileDoNotGrow keeps the file's size: a part beyond its end fails
	// with ErrSourceTooSmall instead of growing the file.
	FileDoNotGrow

	validFileFlags = FileCreateAlways | FileCreateIfNeeded | FileDoNotGrow
)

// Source is what parts are mapped from: a file (by path, temporary, or an
// open descriptor) or a core.Source (pmemset_source). It may carry a
// shutdown state (SetSDS) and bad-block detection, which apply to every
// part mapped from it.
type Source struct {
	src   *core.Source
	file  *os.File // owned, when opened by path or temporary
	grow  bool     // the file may grow to fit a part
	sds   *SDS
	state *PartState
	bb    bool
	uses  int // parts mapped from it, in all sets
}

// FromPath opens the file at path for parts (pmemset_xsource_from_file):
// with no flags the file must exist; parts beyond its end make it grow
// unless FileDoNotGrow. perm applies to a created file.
func FromPath(path string, flags FileFlags, perm os.FileMode) (*Source, error) {
	if flags&^validFileFlags != 0 || flags&FileCreateAlways != 0 && flags&FileCreateIfNeeded != 0 {
		return nil, fmt.Errorf("set: source %s: flags %#x: %w", path, flags, ErrInvalidFlags)
	}
	mode := os.O_RDWR
	switch {
	case flags&FileCreateAlways != 0:
		mode |= os.O_CREATE | os.O_TRUNC
	case flags&FileCreateIfNeeded != 0:
		mode |= os.O_CREATE
	}
	f, err := os.OpenFile(path, mode, perm)
	if err != nil {
		return nil, fmt.Errorf("set: source: %w", err)
	}
	return fromOwned(f, flags&FileDoNotGrow == 0)
}

// FromTemporary makes a source of a nameless file in dir, gone when the
// source is closed and its parts unmapped (pmemset_source_from_temporary).
func FromTemporary(dir string) (*Source, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("set: temporary source in %s: %w", dir, err)
	}
	return fromOwned(os.NewFile(uintptr(fd), dir+"/(temporary)"), true)
}

func fromOwned(f *os.File, grow bool) (*Source, error) {
	src, err := core.FromFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("set: source: %w", err)
	}
	return &Source{src: src, file: f, grow: grow}, nil
}

// FromCore makes a source of a core.Source (pmemset_source_from_pmem2),
// which stays the caller's: keep its descriptor open while the source is
// used. Such a source never grows.
func FromCore(src *core.Source) *Source { return &Source{src: src} }

// FromFile makes a source of the open file f, which stays the caller's.
// It never grows.
func FromFile(f *os.File) (*Source, error) {
	src, err := core.FromFile(f)
	if err != nil {
		return nil, fmt.Errorf("set: source: %w", err)
	}
	return &Source{src: src}, nil
}

// Core returns the underlying core.Source.
func (s *Source) Core() *core.Source { return s.src }

// Alignment returns the alignment of part offsets and lengths.
func (s *Source) Alignment() (int64, error) { return s.src.Alignment() }

// ReadAt reads len(b) bytes of the source from off
// (pmemset_source_pread_mcsafe): see core.Source.ReadAt.
func (s *Source) ReadAt(b []byte, off int64) (int, error) { return s.src.ReadAt(b, off) }

// WriteAt writes b to the source at off (pmemset_source_pwrite_mcsafe).
func (s *Source) WriteAt(b []byte, off int64) (int, error) { return s.src.WriteAt(b, off) }

// SetSDS gives the source a shutdown state (pmemset_source_set_sds): the
// caller keeps sds in persistent memory of its own and stores it durably
// on each EventSDSUpdate. When a part of the source is mapped its state
// is computed from sds and the device's unsafe shutdown count and id,
// written to *state (if state is not nil) and checked against
// Config.AcceptableStates.
func (s *Source) SetSDS(sds *SDS, state *PartState) error {
	if s.sds != nil {
		return ErrSDSAlreadySet
	}
	if sds == nil {
		return fmt.Errorf("set: nil shutdown state: %w", core.ErrInvalidArgument)
	}
	s.sds, s.state = sds, state
	return nil
}

// SetBadBlockDetection turns on or off the check for bad blocks when a
// part of the source is mapped (pmemset_source_set_badblock_detection).
func (s *Source) SetBadBlockDetection(on bool) { s.bb = on }

// ClearBadBlock clears bad block bb of the source, as an EventBadBlock
// reports it (pmemset_badblock_clear): see core.Source.ClearBadBlock; the
// range reads zeros afterwards. An event callback may call it, so that
// the part is mapped.
func (s *Source) ClearBadBlock(bb core.BadBlock) error {
	if err := s.src.ClearBadBlock(bb); err != nil {
		return fmt.Errorf("set: %w", err)
	}
	return nil
}

// Close closes the file the source opened (none for FromFile and
// FromCore). Parts mapped from it must be removed first.
func (s *Source) Close() error {
	if s.uses > 0 {
		return ErrPartInUse
	}
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

// ensureSize makes the source at least end bytes long, or fails.
func (s *Source) ensureSize(end int64) error {
	size, err := s.src.Size()
	if err != nil {
		return err
	}
	if size >= end {
		return nil
	}
	if !s.grow || s.file == nil {
		return fmt.Errorf("set: source of %d bytes, part ends at %d: %w", size, end, ErrSourceTooSmall)
	}
	if err := unix.Fallocate(int(s.file.Fd()), 0, size, end-size); err != nil {
		if !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("set: grow source to %d bytes: %w", end, err)
		}
		if err := s.file.Truncate(end); err != nil {
			return fmt.Errorf("set: grow source to %d bytes: %w", end, err)
		}
	}
	return nil
}
