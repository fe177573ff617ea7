package set

import (
	"errors"

	"github.com/gopmdk/pmdk/core"
)

// Errors of the package; each matches a PMEMSET_E_* code of libpmemset.
// Errors of the mapping itself wrap core's (core.ErrOffsetUnaligned,
// core.ErrMapRange, ...) as well.
var (
	// ErrGranularityNotSupported: a part cannot offer the granularity the
	// set requires (PMEMSET_E_GRANULARITY_NOT_SUPPORTED); it wraps
	// core.ErrGranularityNotSupported too.
	ErrGranularityNotSupported = core.ErrGranularityNotSupported
	// ErrGranularityMismatch: a part's granularity differs from that of
	// the parts mapped before it; all parts of a set share one.
	ErrGranularityMismatch = errors.New("set: part granularity differs from the set's")
	// ErrNoPartMapped: the set has no part yet, so no granularity.
	ErrNoPartMapped = errors.New("set: no part mapped")
	// ErrCannotCoalesce: CoalescingFull and the addresses right after the
	// previous part map are taken.
	ErrCannotCoalesce = errors.New("set: cannot coalesce the part with the previous part map")
	// ErrCannotFitPartMap: Config.Reservation has no free range the part
	// fits in (PMEMSET_E_CANNOT_FIT_PART_MAP).
	ErrCannotFitPartMap = errors.New("set: part does not fit in the reservation")
	// ErrPartMapInUse: the part map is referenced (FirstPartMap,
	// NextPartMap, PartMapAt without Drop) by others than the caller
	// of RemovePartMap, or at all for RemoveRange
	// (PMEMSET_E_PART_MAP_POSSIBLE_USE_AFTER_DROP).
	ErrPartMapInUse = errors.New("set: part map still referenced")
	// ErrPartNotFound: no part map at the address, or the part map is not
	// the set's.
	ErrPartNotFound = errors.New("set: part map not found")
	// ErrSDSAlreadySet: the source has a shutdown state already.
	ErrSDSAlreadySet = errors.New("set: shutdown state already set for the source")
	// ErrSDSNotSupported: the source's device reports no unsafe shutdown
	// count or device id (not on an NVDIMM).
	ErrSDSNotSupported = errors.New("set: shutdown state not supported by the source's device")
	// ErrUndesirablePartState: the part's state (PartState) is not one the
	// Config accepts.
	ErrUndesirablePartState = errors.New("set: undesirable part state")
	// ErrSourceTooSmall: the source is smaller than the part and may not
	// grow (FileDoNotGrow, or a source of a descriptor).
	ErrSourceTooSmall = errors.New("set: source file too small for the part")
	// ErrInvalidFlags: source flags outside the valid ones.
	ErrInvalidFlags = errors.New("set: invalid source file flags")
	// ErrMapLengthUnset: no length given and the source is empty.
	ErrMapLengthUnset = errors.New("set: map length unset and the source is empty")
	// ErrBadBlocks: the part's source has bad blocks the event callback
	// did not clear (PMEMSET_E_IO_FAIL).
	ErrBadBlocks = errors.New("set: source has bad blocks")
	// ErrOutsideSet: a range given to a data method is not within the
	// set's part maps.
	ErrOutsideSet = errors.New("set: range outside the set's part maps")
	// ErrPartInUse: the source is used by parts still mapped (Close).
	ErrPartInUse = errors.New("set: source still mapped")
)
