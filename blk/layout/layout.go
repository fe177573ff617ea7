// Package layout is the on-media format of a libpmemblk pool of PMDK
// 1.12.1 (src/libpmemblk/blk.h, btt_layout.h; man 7 libpmemblk): the
// pmemblk descriptor after the pool header, and the BTT (Block Translation
// Table) behind it, with its arenas, info blocks, map and flog.
//
// It decodes, encodes and validates these structures, computes an arena's
// geometry as C lays it out, and picks the current entry of a flog pair as
// C does. Package blk (through its BTT) and the tools (pmempool check, info
// and repair) share it, so that the library and the checker read a pool the
// same way. It holds no run-time state and touches no mapping: callers hand
// it byte slices and keep the bounds checks of their own images.
//
// # Pool
//
// A blk pool file starts with the 4096-byte pool header (core/pool,
// signature "PMEMBLK"). At [DescOffset] follow the block size (u32,
// [BSizeAt]) and the is_zeroed flag (u32, [IsZeroedAt]); C keeps run-time
// fields after them, which are not part of the format. The BTT starts at
// [BTTOffset] and fills the rest of the pool.
//
// # BTT
//
// The BTT is a sequence of arenas of at most [MaxArena] bytes. Each arena
// starts with an info block ([Info], [InfoSize] bytes, Fletcher-64
// checksum) and ends with its backup; between them lie the data area
// (internal blocks of InternalLBASize bytes), the map (one u32 per external
// block: the internal block holding it, with two flag bits, [MapNormal] and
// friends) and the flog (one 64-byte pair of 16-byte [Flog] entries per free
// block). Offsets in an info block are relative to the arena's start.
package layout

import (
	"math/bits"

	"github.com/gopmdk/pmdk/core/pool"
)

// The pmemblk descriptor (struct pmemblk after its pool_hdr, blk.h).
const (
	// DescOffset is where the descriptor follows the pool header.
	DescOffset = pool.HeaderSize
	// BSizeAt is the byte offset of bsize (u32): the block size users see.
	BSizeAt = DescOffset
	// IsZeroedAt is the byte offset of is_zeroed (u32): non-zero when the
	// pool file was created zeroed, so the first layout write need not
	// clear the map.
	IsZeroedAt = DescOffset + 4
	// RuntimeDataAt is where C's run-time struct keeps its data pointer
	// (after bsize, is_zeroed, addr, size, is_pmem and rdonly). pmempool
	// info finds the BTT at data - addr, so a pool made outside C stores
	// BTTOffset here (with addr 0). Nothing else of the run-time part is
	// read.
	RuntimeDataAt = DescOffset + 32
	// StructSize is sizeof(struct pmemblk) of a release build on x86-64:
	// the descriptor and C's run-time fields, as pmempool info dumps them
	// and as it bounds the block size of a pool (MaxBSize).
	StructSize = 4200
	// BTTOffset is where the BTT starts: StructSize rounded up to a page
	// (BLK_FORMAT_DATA_ALIGN).
	BTTOffset = 2 * pool.HeaderSize
	// MinPoolSize is the smallest pool (PMEMBLK_MIN_POOL): a BTT of
	// MinSize bytes after the header pages.
	MinPoolSize = MinSize + BTTOffset
	// MinBlockSize is the smallest internal block (PMEMBLK_MIN_BLK);
	// smaller block sizes are stored in blocks of this size.
	MinBlockSize = MinLBASize
)

// BTT constants (btt_layout.h).
const (
	Alignment        = 4096    // alignment of every BTT structure within an arena (BTT_ALIGNMENT)
	InfoSize         = 4096    // size of one info block
	MinSize          = 1 << 24 // smallest namespace (and arena) holding a BTT (BTT_MIN_SIZE)
	MaxArena         = 1 << 39 // largest arena: 512 GiB (BTT_MAX_ARENA)
	MinLBASize       = 512     // smallest internal block (BTT_MIN_LBA_SIZE)
	InternalLBAAlign = 256     // internal block size alignment (BTT_INTERNAL_LBA_ALIGNMENT)
	DefaultNFree     = 256     // free blocks (flog pairs) per arena (BTT_DEFAULT_NFREE)
	FlogSize         = 16      // one flog entry: lba, old_map, new_map, seq
	FlogPairSize     = 64      // one flog pair, padded to BTT_FLOG_PAIR_ALIGN
	MapEntrySize     = 4       // one map entry (BTT_MAP_ENTRY_SIZE)
	MajorVersion     = 1       // BTTINFO_MAJOR_VERSION
	MinorVersion     = 1       // BTTINFO_MINOR_VERSION
	InfoFlagError    = 0x1     // info flags: the arena is in the error state (BTTINFO_FLAG_ERROR)
	// Signature starts every info block (BTTINFO_SIG), NUL-padded to 16
	// bytes.
	Signature = "BTT_ARENA_INFO\x00\x00"
)

// Map entries: the top two bits say how the 30-bit post-map block number
// is to be read. An entry with neither bit (as the map is after the layout
// is written) is the initial state: external block i lives in internal
// block i.
const (
	MapError    = 0x40000000 // reads fail with an I/O error
	MapZero     = 0x80000000 // reads return zeros
	MapNormal   = 0xC0000000 // a written block
	MapLBAMask  = 0x3fffffff // the post-map block number
	MapFlagMask = 0xC0000000 // the two flag bits
)

// PostMap returns the internal block map entry e of external block premap
// names: its block number, or premap itself for an entry in the initial
// state.
func PostMap(e, premap uint32) uint32 {
	if e&MapFlagMask == 0 {
		return premap
	}
	return e & MapLBAMask
}

// InternalLBASize is the data-area block size for external block size
// lbasize: at least MinLBASize, rounded up to InternalLBAAlign. It is 0
// when that does not fit 32 bits.
func InternalLBASize(lbasize uint32) uint32 {
	s := max(lbasize, MinLBASize)
	r := (uint64(s) + InternalLBAAlign - 1) &^ (InternalLBAAlign - 1)
	if r > 1<<32-1 {
		return 0
	}
	return uint32(r)
}

// FlogAreaSize is the size of the flog of nfree pairs, page-aligned.
func FlogAreaSize(nfree uint32) uint64 {
	return roundUp(uint64(nfree)*FlogPairSize, Alignment)
}

// MapAreaSize is the size of the map of nlba entries, page-aligned.
func MapAreaSize(nlba uint32) uint64 {
	return roundUp(uint64(nlba)*MapEntrySize, Alignment)
}

func roundUp(v, a uint64) uint64 { return (v + a - 1) / a * a }

// ArenaInfo returns the info block of an arena of arenaSize bytes for
// external block size lbasize with nfree free blocks, spaceLeft bytes of
// namespace following it (which decide whether another arena comes next),
// as btt_info_set computes it: sizes and offsets set, signature, UUIDs,
// flags, versions and checksum left to the caller. ok is false when the
// arena cannot hold 2*nfree blocks.
func ArenaInfo(lbasize, nfree uint32, arenaSize, spaceLeft uint64) (in Info, ok bool) {
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
// before any layout is written, as C's read_layout computes it: the arena
// count and the external block count.
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

// MaxBSize is the largest block size a blk pool file of fileSize bytes can
// have, as pmempool check bounds it (blk_get_max_bsize): one arena's data
// area holding 2*DefaultNFree blocks. 0 means none fits.
func MaxBSize(fileSize uint64) uint32 {
	if fileSize <= StructSize {
		return 0
	}
	arena := min(fileSize-StructSize, MaxArena)
	over := 2*InfoSize + FlogAreaSize(DefaultNFree)
	if arena < over+Alignment {
		return 0
	}
	ilba := (arena-over-Alignment)/(2*DefaultNFree) - MapEntrySize
	ilba = max(ilba, MinLBASize)
	ilba = roundUp(ilba, InternalLBAAlign) - InternalLBAAlign
	return uint32(min(ilba, 1<<32-1))
}

// Area is a byte range of an arena: Off from the arena's start, Len bytes.
// OK is false when computing it overflowed 64 bits.
type Area struct {
	Off, Len uint64
	OK       bool
}

// End returns Off+Len and whether it did not overflow.
func (a Area) End() (uint64, bool) {
	s, c := bits.Add64(a.Off, a.Len, 0)
	return s, a.OK && c == 0
}

// DataArea is the data area in.DataOff names: InternalNLBA blocks of
// InternalLBASize bytes.
func (in *Info) DataArea() Area {
	hi, lo := bits.Mul64(uint64(in.InternalNLBA), uint64(in.InternalLBASize))
	return Area{in.DataOff, lo, hi == 0}
}

// MapArea is the map in.MapOff names: ExternalNLBA entries.
func (in *Info) MapArea() Area {
	return Area{in.MapOff, uint64(in.ExternalNLBA) * MapEntrySize, true}
}

// FlogArea is the flog in.FlogOff names: NFree pairs.
func (in *Info) FlogArea() Area {
	return Area{in.FlogOff, uint64(in.NFree) * FlogPairSize, true}
}

// BackupArea is the backup info block in.InfoOff names.
func (in *Info) BackupArea() Area { return Area{in.InfoOff, InfoSize, true} }
