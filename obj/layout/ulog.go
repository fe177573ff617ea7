package layout

import (
	"encoding/binary"

	"github.com/gopmdk/pmdk/core/pool"
)

// Lanes (lane.h): each lane holds three ulogs back to back.
const (
	UlogHeaderSize = 64
	// Capacities of a lane's logs, in data bytes after their header.
	LaneInternalCapacity = 192  // LANE_REDO_INTERNAL_SIZE
	LaneExternalCapacity = 640  // LANE_REDO_EXTERNAL_SIZE
	LaneUndoCapacity     = 2048 // LANE_UNDO_SIZE
	LaneSize             = 3072
	// Offsets of the logs in a lane.
	LaneInternalAt = 0
	LaneExternalAt = LaneInternalAt + UlogHeaderSize + LaneInternalCapacity
	LaneUndoAt     = LaneExternalAt + UlogHeaderSize + LaneExternalCapacity
)

// Offsets in a ulog header.
const (
	UlogChecksumAt = 0
	UlogNextAt     = 8
	UlogCapacityAt = 16
	UlogGenNumAt   = 24
	UlogFlagsAt    = 32
	UlogUnusedAt   = 40
)

// Ulog flags.
const (
	// UlogUserOwned marks a log buffer the application appended
	// (pmemobj_tx_log_append_buffer); the library never frees it.
	UlogUserOwned = 1
)

// Entry operations, in the top three bits of an entry's first word.
const (
	OpSet    uint64 = 0b000 << 61
	OpAnd    uint64 = 0b001 << 61
	OpOr     uint64 = 0b010 << 61
	OpBufSet uint64 = 0b101 << 61
	OpBufCpy uint64 = 0b110 << 61
	OpMask   uint64 = 0b111 << 61
	// ValEntrySize is an entry with a value (SET, AND, OR).
	ValEntrySize = 16
	// BufEntryHeaderSize precedes the data of a buffer entry:
	// offset|op, checksum, size.
	BufEntryHeaderSize = 24
)

// UlogHeader is the 64-byte header of a ulog.
type UlogHeader struct {
	Checksum uint64
	Next     uint64 // pool offset of the next log (0: none)
	Capacity uint64 // data bytes of this log (first log: bytes stored)
	GenNum   uint64
	Flags    uint64
}

// DecodeUlogHeader reads a ulog header.
func DecodeUlogHeader(b []byte) UlogHeader {
	le := binary.LittleEndian
	return UlogHeader{
		Checksum: le.Uint64(b[UlogChecksumAt:]),
		Next:     le.Uint64(b[UlogNextAt:]),
		Capacity: le.Uint64(b[UlogCapacityAt:]),
		GenNum:   le.Uint64(b[UlogGenNumAt:]),
		Flags:    le.Uint64(b[UlogFlagsAt:]),
	}
}

// Encode writes h into b[:64], unused words zero.
func (h UlogHeader) Encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[UlogChecksumAt:], h.Checksum)
	le.PutUint64(b[UlogNextAt:], h.Next)
	le.PutUint64(b[UlogCapacityAt:], h.Capacity)
	le.PutUint64(b[UlogGenNumAt:], h.GenNum)
	le.PutUint64(b[UlogFlagsAt:], h.Flags)
	clear(b[UlogUnusedAt:UlogHeaderSize])
}

// UlogChecksum computes the checksum of a ulog whose header and n bytes of
// entries are b[:64+n] (the checksum field counts as zero).
func UlogChecksum(b []byte) uint64 { return pool.Checksum(b, UlogChecksumAt, 0) }

// EntryOp returns the operation of an entry's first word.
func EntryOp(w uint64) uint64 { return w & OpMask }

// EntryOffset returns the pool offset an entry's first word targets.
func EntryOffset(w uint64) uint64 { return w &^ OpMask }

// BufEntrySize returns the bytes a buffer entry of size data bytes takes:
// header and data rounded up to a cache line.
func BufEntrySize(size uint64) uint64 {
	return (BufEntryHeaderSize + size + CacheLine - 1) &^ (CacheLine - 1)
}

// BufEntryChecksum computes the checksum of a buffer entry whose bytes
// (header, data and padding, its checksum field counting as zero) are e,
// for a log of generation genNum (ulog_entry_valid).
func BufEntryChecksum(e []byte, genNum uint64) uint64 {
	c := pool.Checksum(e, 8, 0)
	var g [8]byte
	binary.LittleEndian.PutUint64(g[:], genNum)
	return pool.ChecksumSeq(g[:], c)
}

// AlignedUlogOffset returns where C places a ulog given the offset of its
// buffer: rounded up to a cache line (ulog_by_offset).
func AlignedUlogOffset(off uint64) uint64 {
	return (off + CacheLine - 1) &^ (CacheLine - 1)
}
