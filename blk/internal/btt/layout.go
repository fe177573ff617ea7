package btt

import (
	"encoding/binary"
	"math/bits"
)

// On-media constants of the BTT, as PMDK 1.12.1 lays it out
// (src/libpmemblk/btt_layout.h).
const (
	Alignment        = 4096                     // alignment of every BTT structure within an arena
	InfoSize         = 4096                     // size of one info block
	MinSize          = 16 << 20                 // smallest namespace (and arena) a BTT uses
	MaxArena         = 1 << 39                  // largest arena: 512 GiB
	MinLBASize       = 512                      // smallest internal block
	InternalLBAAlign = 256                      // internal block size alignment
	DefaultNFree     = 256                      // free blocks (flog pairs) per arena
	FlogPairAlign    = 64                       // each flog pair starts on this alignment
	FlogSize         = 16                       // one flog entry: lba, old_map, new_map, seq
	MapEntrySize     = 4                        // one map entry
	mapLockAlign     = 64                       // map entries sharing one map lock
	MajorVersion     = 1                        // BTTINFO_MAJOR_VERSION
	MinorVersion     = 1                        // BTTINFO_MINOR_VERSION
	InfoFlagError    = 0x1                      // arena is in the error state (read-only)
	Signature        = "BTT_ARENA_INFO\x00\x00" // 16 bytes
)

// Map entry bits: the top two bits say how the 30-bit post-map block number
// is to be read.
const (
	MapError   = 0x40000000 // reads fail with an I/O error
	MapZero    = 0x80000000 // reads return zeros
	MapNormal  = 0xC0000000 // a written block
	MapLBAMask = 0x3fffffff // the post-map block number
	mapFlags   = ^uint32(MapLBAMask)
)

func entryIsZero(e uint32) bool          { return e&mapFlags == MapZero }
func entryIsError(e uint32) bool         { return e&mapFlags == MapError }
func entryIsInitial(e uint32) bool       { return e&mapFlags == 0 }
func entryIsZeroOrInitial(e uint32) bool { f := e & mapFlags; return f == 0 || f == MapZero }

// Info is an arena's info block (struct btt_info), decoded. Offsets are
// relative to the start of the arena.
type Info struct {
	Sig             [16]byte // 0: "BTT_ARENA_INFO\0\0"
	UUID            [16]byte // 16: this BTT
	ParentUUID      [16]byte // 32: the containing pool (poolset UUID)
	Flags           uint32   // 48: InfoFlagError
	Major           uint16   // 52
	Minor           uint16   // 54
	ExternalLBASize uint32   // 56: block size users see
	ExternalNLBA    uint32   // 60: blocks users see in this arena
	InternalLBASize uint32   // 64: size of a data-area block
	InternalNLBA    uint32   // 68: blocks in the data area
	NFree           uint32   // 72: free blocks (flog pairs)
	InfoSize        uint32   // 76: size of this block
	NextOff         uint64   // 80: next arena, or 0
	DataOff         uint64   // 88: data area
	MapOff          uint64   // 96: map
	FlogOff         uint64   // 104: flog
	InfoOff         uint64   // 112: backup info block
	// 120..4087: unused, zero
	Checksum uint64 // 4088: Fletcher-64 of the block with this field as zero
}

const infoChecksumOff = InfoSize - 8

// Encode writes the info block into b (InfoSize bytes) with its checksum.
func (in *Info) Encode(b []byte) {
	b = b[:InfoSize]
	clear(b)
	copy(b[0:], in.Sig[:])
	copy(b[16:], in.UUID[:])
	copy(b[32:], in.ParentUUID[:])
	le := binary.LittleEndian
	le.PutUint32(b[48:], in.Flags)
	le.PutUint16(b[52:], in.Major)
	le.PutUint16(b[54:], in.Minor)
	le.PutUint32(b[56:], in.ExternalLBASize)
	le.PutUint32(b[60:], in.ExternalNLBA)
	le.PutUint32(b[64:], in.InternalLBASize)
	le.PutUint32(b[68:], in.InternalNLBA)
	le.PutUint32(b[72:], in.NFree)
	le.PutUint32(b[76:], in.InfoSize)
	le.PutUint64(b[80:], in.NextOff)
	le.PutUint64(b[88:], in.DataOff)
	le.PutUint64(b[96:], in.MapOff)
	le.PutUint64(b[104:], in.FlogOff)
	le.PutUint64(b[112:], in.InfoOff)
	in.Checksum = Checksum(b, infoChecksumOff)
	le.PutUint64(b[infoChecksumOff:], in.Checksum)
}

// DecodeInfo reads an info block from b (at least InfoSize bytes). It does
// not validate anything.
func DecodeInfo(b []byte) Info {
	b = b[:InfoSize]
	var in Info
	le := binary.LittleEndian
	copy(in.Sig[:], b[0:])
	copy(in.UUID[:], b[16:])
	copy(in.ParentUUID[:], b[32:])
	in.Flags = le.Uint32(b[48:])
	in.Major = le.Uint16(b[52:])
	in.Minor = le.Uint16(b[54:])
	in.ExternalLBASize = le.Uint32(b[56:])
	in.ExternalNLBA = le.Uint32(b[60:])
	in.InternalLBASize = le.Uint32(b[64:])
	in.InternalNLBA = le.Uint32(b[68:])
	in.NFree = le.Uint32(b[72:])
	in.InfoSize = le.Uint32(b[76:])
	in.NextOff = le.Uint64(b[80:])
	in.DataOff = le.Uint64(b[88:])
	in.MapOff = le.Uint64(b[96:])
	in.FlogOff = le.Uint64(b[104:])
	in.InfoOff = le.Uint64(b[112:])
	in.Checksum = le.Uint64(b[infoChecksumOff:])
	return in
}

// Checksum is PMDK's Fletcher-64 variant (util_checksum_compute) over b,
// whose length is a multiple of 4, with the 8 bytes at csumOff read as zero.
func Checksum(b []byte, csumOff int) uint64 {
	var lo, hi uint32
	for i := 0; i+4 <= len(b); i += 4 {
		if i < csumOff || i >= csumOff+8 {
			lo += binary.LittleEndian.Uint32(b[i:])
		}
		hi += lo
	}
	return uint64(hi)<<32 | uint64(lo)
}

// Flog is one flog entry (struct btt_flog).
type Flog struct {
	LBA    uint32 // 0: pre-map block this entry is about
	OldMap uint32 // 4: the block it replaced (the free block once done)
	NewMap uint32 // 8: the block written
	Seq    uint32 // 12: 1, 2, 3, 1, ...; 0 = never written
}

func decodeFlog(b []byte) Flog {
	le := binary.LittleEndian
	return Flog{LBA: le.Uint32(b), OldMap: le.Uint32(b[4:]), NewMap: le.Uint32(b[8:]), Seq: le.Uint32(b[12:])}
}

// nextSeq is the sequence number after s: 1 → 2 → 3 → 1.
func nextSeq(s uint32) uint32 { return [4]uint32{0, 2, 3, 1}[s&3] }

// validFlog picks the current entry of a flog pair: the one with the later
// sequence number. ok is false when neither or both look current.
func validFlog(p [2]Flog) (cur int, ok bool) {
	if p[0].Seq > 3 || p[1].Seq > 3 || p[0].Seq == p[1].Seq {
		return 0, false
	}
	switch {
	case p[0].Seq == 0:
		return 1, true
	case p[1].Seq == 0:
		return 0, true
	case nextSeq(p[0].Seq) == p[1].Seq:
		return 1, true
	}
	return 0, true
}

// InternalLBASize is the data-area block size for external block size
// lbasize: at least MinLBASize, rounded up to InternalLBAAlign. It is 0 when
// that overflows.
func InternalLBASize(lbasize uint32) uint32 {
	s := max(lbasize, MinLBASize)
	r := (uint64(s) + InternalLBAAlign - 1) &^ (InternalLBAAlign - 1)
	if r > 1<<32-1 {
		return 0
	}
	return uint32(r)
}

// FlogAreaSize is the size of the flog of nfree pairs.
func FlogAreaSize(nfree uint32) uint64 {
	return roundUp(uint64(nfree)*roundUp(2*FlogSize, FlogPairAlign), Alignment)
}

// MapAreaSize is the size of the map of nlba entries.
func MapAreaSize(nlba uint32) uint64 {
	return roundUp(uint64(nlba)*MapEntrySize, Alignment)
}

func roundUp(v, a uint64) uint64 { return (v + a - 1) / a * a }

// ArenaInfo computes the info block fields of an arena of arenaSize bytes
// for external block size lbasize, with spaceLeft bytes of namespace after
// it (which decide whether another arena follows). Signature, UUIDs and
// checksum are left to the caller. ok is false when the arena is too small
// for 2*nfree blocks.
func ArenaInfo(lbasize, nfree uint32, arenaSize, spaceLeft uint64) (Info, bool) {
	var in Info
	ilba := InternalLBASize(lbasize)
	overhead := 2*InfoSize + FlogAreaSize(nfree) + Alignment
	if ilba == 0 || arenaSize < overhead {
		return in, false
	}
	dataSize := arenaSize - 2*InfoSize - FlogAreaSize(nfree)
	inlba := (dataSize - Alignment) / (uint64(ilba) + MapEntrySize)
	if inlba < 2*uint64(nfree) || inlba > MapLBAMask {
		return in, false
	}
	in.ExternalLBASize = lbasize
	in.InternalLBASize = ilba
	in.NFree = nfree
	in.InfoSize = InfoSize
	in.InternalNLBA = uint32(inlba)
	in.ExternalNLBA = uint32(inlba) - nfree
	in.DataOff = InfoSize
	if spaceLeft >= MinSize {
		in.NextOff = arenaSize
	}
	in.InfoOff = arenaSize - InfoSize
	in.FlogOff = in.InfoOff - FlogAreaSize(nfree)
	in.MapOff = in.FlogOff - MapAreaSize(in.ExternalNLBA)
	return in, true
}

// Geometry is what a BTT of rawSize bytes with block size lbasize offers
// before any layout is written: the arena count and the block count.
func Geometry(rawSize uint64, lbasize uint32) (narena int, nlba uint64, ok bool) {
	for left := rawSize; left >= MinSize; {
		size := min(left, MaxArena)
		left -= size
		in, fits := ArenaInfo(lbasize, DefaultNFree, size, left)
		if !fits {
			return 0, 0, false
		}
		narena++
		nlba += uint64(in.ExternalNLBA)
	}
	return narena, nlba, narena > 0
}

// addOK returns a+b and whether it did not overflow.
func addOK(a, b uint64) (uint64, bool) {
	s, c := bits.Add64(a, b, 0)
	return s, c == 0
}

// mulOK returns a*b and whether it did not overflow.
func mulOK(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}
