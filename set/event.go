package set

import "github.com/gopmdk/pmdk/core"

// EventType is the kind of an Event (pmemset_event).
type EventType uint8

const (
	EventCopy             EventType = iota // Memcpy: Dst, Src, Flags; before the copy
	EventMove                              // Memmove: Dst, Src, Flags
	EventSet                               // Memset: Dst, Value, Flags
	EventFlush                             // Flush, and the first half of Persist: Dst
	EventDrain                             // Drain, the end of Persist and of Mem* without MemNoDrain
	EventPersist                           // reserved, as in libpmemset (Persist sends Flush then Drain)
	EventRemoveRange                       // RemoveRange: Dst
	EventPartAdd                           // a part was mapped: Dst is its part map, Source
	EventPartRemove                        // a part map is being removed: Dst
	EventSDSUpdate                         // Source's SDS changed: store it durably
	EventBadBlock                          // BadBlock of Source found while mapping
	EventBadBlocksCleared                  // the callback cleared every bad block of Source
)

var eventNames = [...]string{"copy", "move", "set", "flush", "drain", "persist", "remove-range",
	"part-add", "part-remove", "sds-update", "badblock", "badblocks-cleared"}

func (t EventType) String() string {
	if int(t) < len(eventNames) {
		return eventNames[t]
	}
	return "unknown"
}

// Event is what the Config.OnEvent callback gets (pmemset_event_context).
// Dst and Src are ranges of the set's memory (Src of a copy may be any
// memory); the fields a type does not use are zero.
type Event struct {
	Type     EventType
	Dst, Src []byte
	Value    byte
	Flags    core.MemFlags
	Source   *Source
	SDS      *SDS
	BadBlock core.BadBlock
}
