package set

import (
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/core"
)

// SDS is the shutdown state of a source (struct pmemset_sds): the ids of
// the NVDIMMs under it, their unsafe shutdown count when last seen, and
// how many parts of it are mapped. The application keeps it in persistent
// memory and stores it durably on every EventSDSUpdate; a Refcount above
// zero at the next start means the parts were not all removed (the
// program ended without closing its sets).
type SDS struct {
	ID       string
	USC      uint64
	Refcount int
}

// PartState is the state of a part's source as its shutdown state tells
// (pmemset_part_state); Config.AcceptableStates is a set of them.
type PartState uint8

const (
	// StateIndeterminate: the source is on other devices than its
	// shutdown state records while parts are still counted as mapped.
	StateIndeterminate PartState = 1 << iota
	// StateOK: closed cleanly; no recovery needed.
	StateOK
	// StateOKButAlreadyOpen: consistent, and mapped already (another
	// part of the same source).
	StateOKButAlreadyOpen
	// StateOKButInterrupted: consistent, but not closed cleanly.
	StateOKButInterrupted
	// StateCorrupted: the devices had an unsafe shutdown while parts were
	// mapped: the data may be lost.
	StateCorrupted
)

// partState reads the device's current count and id, computes the state
// of src's next part from its SDS and refreshes the SDS as libpmemset
// does: the count is adopted when nothing was mapped, the id and count
// when the source moved to other devices with nothing mapped.
func partState(src *Source) (PartState, error) {
	sds := src.sds
	usc, err := src.src.UnsafeShutdownCount()
	if err == nil {
		var id string
		id, err = src.src.DeviceID()
		if err == nil {
			return nextState(sds, src.uses, id, usc), nil
		}
	}
	if errors.Is(err, core.ErrNotSupported) {
		return 0, fmt.Errorf("%w: %w", ErrSDSNotSupported, err)
	}
	return 0, fmt.Errorf("set: shutdown state: %w", err)
}

func nextState(sds *SDS, uses int, id string, usc uint64) PartState {
	state := StateOK
	switch {
	case sds.Refcount > 0 && uses > 0:
		state = StateOKButAlreadyOpen
	case sds.Refcount > 0:
		state = StateOKButInterrupted
	}
	switch {
	case sds.ID == id && sds.USC != usc && sds.Refcount != 0:
		state = StateCorrupted
	case sds.ID == id:
		sds.USC = usc
	case sds.Refcount == 0:
		sds.ID, sds.USC = id, usc
	default:
		state = StateIndeterminate
	}
	return state
}
