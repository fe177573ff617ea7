package core

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error that reports bad on-media data: a
// field out of range, a checksum mismatch, a truncated file.
var ErrCorrupt = errors.New("corrupt pool")

// CorruptError names the field of a pool that failed validation and where
// it lies. errors.Is(err, ErrCorrupt) holds for it.
type CorruptError struct {
	Offset int64  // byte offset of the field in the pool file, or -1
	Field  string // e.g. "pool header: checksum"
	Want   any    // what was expected, or nil
	Got    any    // what was found, or nil
}

func (e *CorruptError) Error() string {
	msg := "corrupt pool: " + e.Field
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" at offset %#x", e.Offset)
	}
	switch {
	case e.Want != nil && e.Got != nil:
		msg += fmt.Sprintf(": want %v, got %v", e.Want, e.Got)
	case e.Got != nil:
		msg += fmt.Sprintf(": bad value %v", e.Got)
	}
	return msg
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Corrupt returns a *CorruptError for field at offset, with the expected
// and the found value (either may be nil).
func Corrupt(offset int64, field string, want, got any) error {
	return &CorruptError{Offset: offset, Field: field, Want: want, Got: got}
}

// ErrPersist is wrapped by the error of a persist path that failed to
// make data durable: msync(2) of a page-cache mapping failed, and the error
// wraps its errno too (EIO, ENOSPC...). It is kept by the [Persister] and
// reported by [Map.Err] and [Map.Close]; the libraries return it from the
// write whose persist failed and refuse every later write of the pool, since
// the data of the failed write-back may be lost although it still reads
// back from the mapping. Reopening the pool shows what reached the media.
var ErrPersist = errors.New("core: persist failed")

// Errors of mapping (NewMap, MapFile) and of the platform queries. Each
// matches one PMEM2_E_* code of libpmem2; errors.Is finds them through the
// wrapping that adds the path or the values involved.
var (
	// ErrNotSupported: the platform, the source or the build does not
	// offer what was asked (bad blocks, unsafe shutdown count or device id
	// of a file that is not on an NVDIMM namespace, deep flush of anonymous
	// memory). PMEM2_E_NOSUPP.
	ErrNotSupported = errors.New("core: not supported")
	// ErrGranularityNotSupported: the mapping cannot offer the store
	// granularity the Config requires, e.g. CACHE_LINE asked of a
	// page-cache file. PMEM2_E_GRANULARITY_NOT_SUPPORTED.
	ErrGranularityNotSupported = errors.New("core: granularity not supported")
	// ErrOffsetUnaligned: Config.Offset is not a multiple of the source's
	// alignment. PMEM2_E_OFFSET_UNALIGNED.
	ErrOffsetUnaligned = errors.New("core: offset not aligned")
	// ErrLengthUnaligned: Config.Length is not a multiple of the source's
	// alignment. PMEM2_E_LENGTH_UNALIGNED.
	ErrLengthUnaligned = errors.New("core: length not aligned")
	// ErrMapRange: offset + length overflows or lies beyond the end of
	// the source. PMEM2_E_MAP_RANGE.
	ErrMapRange = errors.New("core: mapping range beyond the source")
	// ErrSourceEmpty: the source has length 0. PMEM2_E_SOURCE_EMPTY.
	ErrSourceEmpty = errors.New("core: empty source")
	// ErrInvalidFileType: a directory, socket, or a character device that
	// is not device DAX. PMEM2_E_INVALID_FILE_TYPE.
	ErrInvalidFileType = errors.New("core: file type not supported")
	// ErrInvalidFileHandle: a negative, closed or write-only descriptor.
	// PMEM2_E_INVALID_FILE_HANDLE.
	ErrInvalidFileHandle = errors.New("core: invalid file handle")
	// ErrDevDAXPrivate: device DAX cannot be mapped private.
	// PMEM2_E_SRC_DEVDAX_PRIVATE.
	ErrDevDAXPrivate = errors.New("core: device DAX cannot be mapped private")
	// ErrOutsideMap: a slice passed to a Map method does not lie inside
	// the mapping. PMEM2_E_DEEP_FLUSH_RANGE for DeepFlush.
	ErrOutsideMap = errors.New("core: range outside the mapping")
	// ErrInvalidArgument: flags or sizes the call does not accept (as
	// EINVAL from pmem_map_file).
	ErrInvalidArgument = errors.New("core: invalid argument")
	// ErrAddressInUse: [NewPartsMapAt] or [NewReservation] was asked for
	// a range of which some page is mapped already (EEXIST of
	// MAP_FIXED_NOREPLACE), or [NewPartsMapIn] for a range of the
	// reservation a mapping holds (PMEM2_E_MAPPING_EXISTS).
	ErrAddressInUse = errors.New("core: address range in use")
	// ErrReservationNotEmpty: a [Reservation] with mappings in it cannot
	// be closed. PMEM2_E_VM_RESERVATION_NOT_EMPTY.
	ErrReservationNotEmpty = errors.New("core: reservation not empty")
)
