package layout

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
)

// Byte offsets of the info block fields that errors name.
const (
	infoParentUUIDAt   = 32
	infoFlagsAt        = 48
	infoMajorAt        = 52
	infoExternalNLBAAt = 60
	infoInternalLBAAt  = 64
	infoInternalNLBAAt = 68
	infoNFreeAt        = 72
	infoInfoSizeAt     = 76
	infoNextOffAt      = 80
	infoDataOffAt      = 88
	infoMapOffAt       = 96
	infoFlogOffAt      = 104
	infoInfoOffAt      = 112
	infoUnusedAt       = 120
	// InfoChecksumAt is the byte offset of the checksum, the last 8 bytes.
	InfoChecksumAt = InfoSize - 8
)

// Info is an arena's info block (struct btt_info), decoded. Offsets are
// relative to the start of the arena. Encode after DecodeInfo gives back
// the same bytes, unused area included, which repairs rely on.
type Info struct {
	Sig             [16]byte   // 0: Signature
	UUID            [16]byte   // 16: this BTT
	ParentUUID      [16]byte   // 32: the containing pool (its poolset UUID)
	Flags           uint32     // 48: InfoFlagError
	Major           uint16     // 52: MajorVersion, at least 1
	Minor           uint16     // 54: MinorVersion
	ExternalLBASize uint32     // 56: block size users see
	ExternalNLBA    uint32     // 60: blocks users see in this arena
	InternalLBASize uint32     // 64: size of a data-area block
	InternalNLBA    uint32     // 68: blocks in the data area
	NFree           uint32     // 72: free blocks (flog pairs)
	InfoSize        uint32     // 76: size of this block, InfoSize
	NextOff         uint64     // 80: next arena, or 0 for the last
	DataOff         uint64     // 88: data area
	MapOff          uint64     // 96: map
	FlogOff         uint64     // 104: flog
	InfoOff         uint64     // 112: backup info block
	Unused          [3968]byte // 120: zero as written
	Checksum        uint64     // 4088: Fletcher-64 of the block, this field as zero
}

// DecodeInfo reads the info block in b, which must hold at least InfoSize
// bytes. It validates nothing.
func DecodeInfo(b []byte) Info {
	b = b[:InfoSize]
	var in Info
	le := binary.LittleEndian
	copy(in.Sig[:], b[0:])
	copy(in.UUID[:], b[16:])
	copy(in.ParentUUID[:], b[infoParentUUIDAt:])
	in.Flags = le.Uint32(b[infoFlagsAt:])
	in.Major = le.Uint16(b[infoMajorAt:])
	in.Minor = le.Uint16(b[54:])
	in.ExternalLBASize = le.Uint32(b[56:])
	in.ExternalNLBA = le.Uint32(b[infoExternalNLBAAt:])
	in.InternalLBASize = le.Uint32(b[infoInternalLBAAt:])
	in.InternalNLBA = le.Uint32(b[infoInternalNLBAAt:])
	in.NFree = le.Uint32(b[infoNFreeAt:])
	in.InfoSize = le.Uint32(b[infoInfoSizeAt:])
	in.NextOff = le.Uint64(b[infoNextOffAt:])
	in.DataOff = le.Uint64(b[infoDataOffAt:])
	in.MapOff = le.Uint64(b[infoMapOffAt:])
	in.FlogOff = le.Uint64(b[infoFlogOffAt:])
	in.InfoOff = le.Uint64(b[infoInfoOffAt:])
	copy(in.Unused[:], b[infoUnusedAt:InfoChecksumAt])
	in.Checksum = le.Uint64(b[InfoChecksumAt:])
	return in
}

// Encode writes every field of in into b (InfoSize bytes), the checksum as
// it is in in.Checksum: what a repair that rewrites some fields needs.
// [Info.Seal] computes the checksum.
func (in *Info) Encode(b []byte) {
	b = b[:InfoSize]
	le := binary.LittleEndian
	copy(b[0:], in.Sig[:])
	copy(b[16:], in.UUID[:])
	copy(b[infoParentUUIDAt:], in.ParentUUID[:])
	le.PutUint32(b[infoFlagsAt:], in.Flags)
	le.PutUint16(b[infoMajorAt:], in.Major)
	le.PutUint16(b[54:], in.Minor)
	le.PutUint32(b[56:], in.ExternalLBASize)
	le.PutUint32(b[infoExternalNLBAAt:], in.ExternalNLBA)
	le.PutUint32(b[infoInternalLBAAt:], in.InternalLBASize)
	le.PutUint32(b[infoInternalNLBAAt:], in.InternalNLBA)
	le.PutUint32(b[infoNFreeAt:], in.NFree)
	le.PutUint32(b[infoInfoSizeAt:], in.InfoSize)
	le.PutUint64(b[infoNextOffAt:], in.NextOff)
	le.PutUint64(b[infoDataOffAt:], in.DataOff)
	le.PutUint64(b[infoMapOffAt:], in.MapOff)
	le.PutUint64(b[infoFlogOffAt:], in.FlogOff)
	le.PutUint64(b[infoInfoOffAt:], in.InfoOff)
	copy(b[infoUnusedAt:InfoChecksumAt], in.Unused[:])
	le.PutUint64(b[InfoChecksumAt:], in.Checksum)
}

// Seal encodes in into b (InfoSize bytes) with its checksum computed, and
// stores that checksum in in.Checksum.
func (in *Info) Seal(b []byte) {
	in.Encode(b)
	in.Checksum = InfoChecksum(b)
	binary.LittleEndian.PutUint64(b[InfoChecksumAt:], in.Checksum)
}

// InfoChecksum is the checksum the info block in b (InfoSize bytes) must
// carry: PMDK's Fletcher-64 with the checksum field read as zero.
func InfoChecksum(b []byte) uint64 {
	return pool.Checksum(b[:InfoSize], InfoChecksumAt, 0)
}

// InfoValid reports whether b (InfoSize bytes) holds an info block with
// the BTT signature and a correct checksum, what pmempool takes for a
// valid one (pool_btt_info_valid).
func InfoValid(b []byte) bool {
	return string(b[:len(Signature)]) == Signature &&
		InfoChecksum(b) == binary.LittleEndian.Uint64(b[InfoChecksumAt:])
}

// Validate checks the info block raw (InfoSize bytes, decoded as in) of an
// arena as libpmemblk's read_info does: signature, parent UUID, checksum
// and a major version of at least 1. base is raw's offset in the pool file,
// for the *core.CorruptError returned.
func (in *Info) Validate(raw []byte, parent [16]byte, base int64) error {
	if string(in.Sig[:]) != Signature {
		return core.Corrupt(base, "btt: info signature", Signature, fmt.Sprintf("%q", in.Sig[:]))
	}
	if in.ParentUUID != parent {
		return core.Corrupt(base+infoParentUUIDAt, "btt: info parent UUID", fmt.Sprintf("%x", parent), fmt.Sprintf("%x", in.ParentUUID))
	}
	if sum := InfoChecksum(raw); sum != in.Checksum {
		return core.Corrupt(base+InfoChecksumAt, "btt: info checksum", fmt.Sprintf("%#x", sum), fmt.Sprintf("%#x", in.Checksum))
	}
	if in.Major == 0 {
		return core.Corrupt(base+infoMajorAt, "btt: info major version", ">= 1", 0)
	}
	return nil
}

// MaxNFree bounds the free blocks per arena ValidateGeometry accepts (C
// always writes DefaultNFree), so that run-time state sized by it stays
// small whatever a hostile info block says.
const MaxNFree = 1 << 16

// ValidateGeometry makes sure the sizes of in are coherent and every area
// it names lies inside its arena of arenaSize bytes, so that a reader may
// index the map, flog and data area without further checks. base is the
// info block's offset in the pool file, for the *core.CorruptError
// returned.
func (in *Info) ValidateGeometry(arenaSize uint64, base int64) error {
	if in.NFree == 0 || in.NFree > MaxNFree {
		return core.Corrupt(base+infoNFreeAt, "btt: info nfree", fmt.Sprintf("1..%d", MaxNFree), in.NFree)
	}
	if in.ExternalNLBA == 0 {
		return core.Corrupt(base+infoExternalNLBAAt, "btt: info external_nlba", "> 0", 0)
	}
	if in.InternalLBASize < in.ExternalLBASize || in.InternalLBASize%InternalLBAAlign != 0 {
		return core.Corrupt(base+infoInternalLBAAt, "btt: info internal_lbasize", fmt.Sprintf(">= %d, multiple of %d", in.ExternalLBASize, InternalLBAAlign), in.InternalLBASize)
	}
	if in.InternalNLBA > MapLBAMask+1 || uint64(in.ExternalNLBA)+uint64(in.NFree) > uint64(in.InternalNLBA) {
		return core.Corrupt(base+infoInternalNLBAAt, "btt: info internal_nlba", fmt.Sprintf(">= external_nlba+nfree = %d", uint64(in.ExternalNLBA)+uint64(in.NFree)), in.InternalNLBA)
	}
	if in.InfoSize != InfoSize || in.DataOff < InfoSize {
		return core.Corrupt(base+infoInfoSizeAt, "btt: info infosize/dataoff", InfoSize, fmt.Sprintf("%d/%d", in.InfoSize, in.DataOff))
	}
	for _, a := range []struct {
		name  string
		field int64
		area  Area
	}{
		{"info dataoff", infoDataOffAt, in.DataArea()},
		{"info mapoff", infoMapOffAt, in.MapArea()},
		{"info flogoff", infoFlogOffAt, in.FlogArea()},
		{"info infooff", infoInfoOffAt, in.BackupArea()},
	} {
		if end, ok := a.area.End(); !ok || end > arenaSize {
			return core.Corrupt(base+a.field, "btt: "+a.name+": area outside the arena", fmt.Sprintf("end <= %#x", arenaSize), a.area.Off)
		}
	}
	if in.MapOff%MapEntrySize != 0 || in.FlogOff%FlogSize != 0 {
		return core.Corrupt(base+infoMapOffAt, "btt: info mapoff/flogoff alignment", nil, fmt.Sprintf("%#x/%#x", in.MapOff, in.FlogOff))
	}
	return nil
}

// NextOffAt is the byte offset of nextoff in an info block, for errors
// about the arena chain.
const NextOffAt = infoNextOffAt
