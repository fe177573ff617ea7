package layout

import (
	"encoding/binary"
	"math/bits"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
)

// Heap geometry (heap_layout.h).
const (
	HeapMajor = 1
	HeapMinor = 0
	// ChunkSize is CHUNKSIZE: 256 KiB.
	ChunkSize = 256 << 10
	// MaxChunk is the number of chunks (and chunk headers) of a full zone.
	MaxChunk = 65535 - 7
	// HeapHeaderSize is sizeof(struct heap_header).
	HeapHeaderSize = 1024
	// ZoneHeaderSize is sizeof(struct zone_header).
	ZoneHeaderSize = 64
	// ChunkHeaderSize is sizeof(struct chunk_header).
	ChunkHeaderSize = 8
	// ZoneMetaSize is the zone header and its chunk headers: 512 KiB.
	ZoneMetaSize = ZoneHeaderSize + MaxChunk*ChunkHeaderSize
	// ZoneMaxSize is the span of a full zone, metadata and chunks.
	ZoneMaxSize = ZoneMetaSize + MaxChunk*ChunkSize
	// ZoneMinSize is the smallest zone: its metadata and one chunk.
	ZoneMinSize = ZoneMetaSize + ChunkSize
	// HeapMinSize is HEAP_MIN_SIZE: sizeof(struct heap_layout), which is
	// the header and a zone's metadata, plus the smallest zone (so C counts
	// the first zone's metadata twice).
	HeapMinSize = HeapHeaderSize + ZoneMetaSize + ZoneMinSize
	// ZoneMagic marks an initialized zone header.
	ZoneMagic = 0xC3F0A2D2
	// HeapSignature is the heap header's signature, NUL included.
	HeapSignature = "MEMORY_HEAP_HDR\x00"
)

// Offsets in the heap header.
const (
	heapSigAt      = 0
	heapMajorAt    = 16
	heapMinorAt    = 24
	heapUnusedAt   = 32
	heapChunkAt    = 40
	heapPerZoneAt  = 48
	HeapChecksumAt = 1016
)

// Chunk types (enum chunk_type).
const (
	ChunkUnknown = 0
	ChunkFooter  = 1
	ChunkFree    = 2
	ChunkUsed    = 3
	ChunkRun     = 4
	ChunkRunData = 5
	maxChunkType = 6
)

// Chunk flags (enum chunk_flags).
const (
	FlagCompactHeader = 0x1
	FlagHeaderNone    = 0x2
	FlagAligned       = 0x4
	FlagFlexBitmap    = 0x8
	flagsAllValid     = FlagCompactHeader | FlagHeaderNone | FlagAligned | FlagFlexBitmap
)

// HeapHeader is struct heap_header.
type HeapHeader struct {
	Signature     [16]byte
	Major, Minor  uint64
	Unused        uint64 // "might be garbage": not checked
	ChunkSize     uint64
	ChunksPerZone uint64
	Checksum      uint64
	ChecksumOK    bool
}

// NewHeapHeader returns the header C's heap_init writes, encoded.
func NewHeapHeader() []byte {
	b := make([]byte, HeapHeaderSize)
	copy(b[heapSigAt:], HeapSignature)
	le := binary.LittleEndian
	le.PutUint64(b[heapMajorAt:], HeapMajor)
	le.PutUint64(b[heapMinorAt:], HeapMinor)
	le.PutUint64(b[heapChunkAt:], ChunkSize)
	le.PutUint64(b[heapPerZoneAt:], MaxChunk)
	le.PutUint64(b[HeapChecksumAt:], pool.Checksum(b, HeapChecksumAt, 0))
	return b
}

// DecodeHeapHeader reads the heap header at the start of h.
func DecodeHeapHeader(h []byte) HeapHeader {
	le := binary.LittleEndian
	var hh HeapHeader
	copy(hh.Signature[:], h[heapSigAt:])
	hh.Major = le.Uint64(h[heapMajorAt:])
	hh.Minor = le.Uint64(h[heapMinorAt:])
	hh.Unused = le.Uint64(h[heapUnusedAt:])
	hh.ChunkSize = le.Uint64(h[heapChunkAt:])
	hh.ChunksPerZone = le.Uint64(h[heapPerZoneAt:])
	hh.Checksum = le.Uint64(h[HeapChecksumAt:])
	hh.ChecksumOK = hh.Checksum == pool.Checksum(h[:HeapHeaderSize], HeapChecksumAt, 0)
	return hh
}

// Problems lists what libpmemobj refuses in the heap header (heap_verify_
// header checks the checksum and signature) and what this package needs
// (the chunk geometry it is written for). off is the heap's offset in the
// pool, for the error positions.
func (hh HeapHeader) Problems(off uint64) []error {
	var p []error
	at := func(o int) int64 { return int64(off) + int64(o) }
	if !hh.ChecksumOK {
		p = append(p, core.Corrupt(at(HeapChecksumAt), "heap header: checksum", nil, hh.Checksum))
	}
	if string(hh.Signature[:]) != HeapSignature {
		p = append(p, core.Corrupt(at(heapSigAt), "heap header: signature", HeapSignature, string(hh.Signature[:])))
	}
	if hh.ChunkSize != ChunkSize {
		p = append(p, core.Corrupt(at(heapChunkAt), "heap header: chunk size", ChunkSize, hh.ChunkSize))
	}
	if hh.ChunksPerZone != MaxChunk {
		p = append(p, core.Corrupt(at(heapPerZoneAt), "heap header: chunks per zone", MaxChunk, hh.ChunksPerZone))
	}
	return p
}

// MaxZone returns the number of zones in a heap of heapSize bytes
// (heap_max_zone): every full zone, and a last one if at least
// ZoneMinSize bytes remain.
func MaxZone(heapSize uint64) uint32 {
	if heapSize < HeapHeaderSize {
		return 0
	}
	size := heapSize - HeapHeaderSize
	n := size / ZoneMaxSize
	if size%ZoneMaxSize >= ZoneMinSize {
		n++
	}
	return uint32(n)
}

// ZoneSizeIdx returns how many chunks zone z of nzones has in a heap of
// heapSize bytes (zone_calc_size_idx): MaxChunk for every zone but the
// last, which gets what fits. C subtracts the heap header from the last
// zone's space even though it lies before zone 0; so do we.
func ZoneSizeIdx(z, nzones uint32, heapSize uint64) uint32 {
	if z+1 < nzones {
		return MaxChunk
	}
	raw := heapSize - uint64(z)*ZoneMaxSize
	if raw < ZoneMetaSize+HeapHeaderSize {
		return 0
	}
	return uint32(min((raw-ZoneMetaSize-HeapHeaderSize)/ChunkSize, MaxChunk))
}

// ZoneOffset returns the offset of zone z from the heap start.
func ZoneOffset(z uint32) uint64 { return HeapHeaderSize + uint64(z)*ZoneMaxSize }

// ChunkHeaderOffset returns the offset of chunk c's header of zone z from
// the heap start.
func ChunkHeaderOffset(z, c uint32) uint64 {
	return ZoneOffset(z) + ZoneHeaderSize + uint64(c)*ChunkHeaderSize
}

// ChunkOffset returns the offset of chunk c of zone z from the heap start.
func ChunkOffset(z, c uint32) uint64 {
	return ZoneOffset(z) + ZoneMetaSize + uint64(c)*ChunkSize
}

// ZoneHeader is the word a zone header starts with: magic and size.
type ZoneHeader struct {
	Magic   uint32
	SizeIdx uint32
}

// Word returns the zone header's first 8 bytes as C stores them at once.
func (z ZoneHeader) Word() uint64 { return uint64(z.Magic) | uint64(z.SizeIdx)<<32 }

// DecodeZoneHeader splits the first word of a zone header.
func DecodeZoneHeader(w uint64) ZoneHeader {
	return ZoneHeader{Magic: uint32(w), SizeIdx: uint32(w >> 32)}
}

// ChunkHeader is struct chunk_header: one 8-byte word, updated atomically.
type ChunkHeader struct {
	Type    uint16
	Flags   uint16
	SizeIdx uint32
}

// Word packs h as it lies in memory.
func (h ChunkHeader) Word() uint64 {
	return uint64(h.Type) | uint64(h.Flags)<<16 | uint64(h.SizeIdx)<<32
}

// DecodeChunkHeader unpacks a chunk header word.
func DecodeChunkHeader(w uint64) ChunkHeader {
	return ChunkHeader{Type: uint16(w), Flags: uint16(w >> 16), SizeIdx: uint32(w >> 32)}
}

// Valid reports whether libpmemobj accepts h as the header of a chunk
// (heap_verify_chunk_header): a known type and known flags.
func (h ChunkHeader) Valid() bool {
	return h.Type != ChunkUnknown && h.Type < maxChunkType && h.Flags&^flagsAllValid == 0
}

// HeaderType returns the object header type chunk flags select.
func (h ChunkHeader) HeaderType() HeaderType { return HeaderTypeOfFlags(h.Flags) }

// Object header types (enum header_type).
type HeaderType uint8

const (
	HeaderLegacy HeaderType = iota
	HeaderCompact
	HeaderNone
)

// Size returns the header's size in bytes.
func (t HeaderType) Size() uint64 {
	switch t {
	case HeaderLegacy:
		return LegacyHeaderSize
	case HeaderCompact:
		return CompactHeaderSize
	}
	return 0
}

// Flag returns the chunk flag that selects t.
func (t HeaderType) Flag() uint16 {
	switch t {
	case HeaderCompact:
		return FlagCompactHeader
	case HeaderNone:
		return FlagHeaderNone
	}
	return 0
}

func (t HeaderType) String() string {
	switch t {
	case HeaderLegacy:
		return "legacy"
	case HeaderCompact:
		return "compact"
	case HeaderNone:
		return "none"
	}
	return "unknown"
}

// HeaderTypeOfFlags returns the header type chunk flags select, compact
// taking precedence as in C.
func HeaderTypeOfFlags(f uint16) HeaderType {
	switch {
	case f&FlagCompactHeader != 0:
		return HeaderCompact
	case f&FlagHeaderNone != 0:
		return HeaderNone
	}
	return HeaderLegacy
}

// Object headers (struct allocation_header_*).
const (
	CompactHeaderSize = 16
	LegacyHeaderSize  = 64
	// HeaderSizeShift: the top 16 bits of a header's size word (compact)
	// or root_size word (legacy) hold the object flags.
	HeaderSizeShift = 48
	HeaderSizeMask  = 1<<HeaderSizeShift - 1
	// legacy header field offsets
	LegacySizeAt  = 8
	LegacyFlagsAt = 48
	LegacyTypeAt  = 56
	// ObjInternal marks the root object and the library's own objects
	// (OBJ_INTERNAL_OBJECT_MASK): iteration skips them.
	ObjInternal = 1 << 15
	// RootTypeNum is POBJ_ROOT_TYPE_NUM.
	RootTypeNum = 0
)

// EncodeCompactHeader writes a compact object header into b[:16].
func EncodeCompactHeader(b []byte, realSize, typeNum uint64, flags uint16) {
	binary.LittleEndian.PutUint64(b, realSize|uint64(flags)<<HeaderSizeShift)
	binary.LittleEndian.PutUint64(b[8:], typeNum)
}

// EncodeLegacyHeader writes a legacy object header into b[:64].
func EncodeLegacyHeader(b []byte, realSize, typeNum uint64, flags uint16) {
	clear(b[:LegacyHeaderSize])
	binary.LittleEndian.PutUint64(b[LegacySizeAt:], realSize)
	binary.LittleEndian.PutUint64(b[LegacyFlagsAt:], uint64(flags)<<HeaderSizeShift)
	binary.LittleEndian.PutUint64(b[LegacyTypeAt:], typeNum)
}

// ObjectHeader is what an object header of any type says.
type ObjectHeader struct {
	Size    uint64 // real size: header and user data (0 with HeaderNone)
	TypeNum uint64
	Flags   uint16
}

// DecodeObjectHeader reads the header of type t at the start of b (which
// must hold t.Size() bytes).
func DecodeObjectHeader(t HeaderType, b []byte) ObjectHeader {
	le := binary.LittleEndian
	switch t {
	case HeaderCompact:
		w := le.Uint64(b)
		return ObjectHeader{Size: w & HeaderSizeMask, TypeNum: le.Uint64(b[8:]), Flags: uint16(w >> HeaderSizeShift)}
	case HeaderLegacy:
		return ObjectHeader{Size: le.Uint64(b[LegacySizeAt:]), TypeNum: le.Uint64(b[LegacyTypeAt:]),
			Flags: uint16(le.Uint64(b[LegacyFlagsAt:]) >> HeaderSizeShift)}
	}
	return ObjectHeader{}
}

// Run layout (struct chunk_run).
const (
	// RunHeaderSize is struct chunk_run_header: block_size, alignment.
	RunHeaderSize = 16
	// RunContentSize is a one-chunk run's room for bitmap and data.
	RunContentSize = ChunkSize - RunHeaderSize
	// Bits per bitmap word, the most units one allocation may take in a run.
	RunBitsPerValue = 64
	// The fixed bitmap of runs without FlagFlexBitmap: 38 words.
	runDefaultBitmapValues = 40 - RunHeaderSize/8
	runDefaultBitmapSize   = 8 * runDefaultBitmapValues
	runDefaultBitmapNBits  = RunBitsPerValue * runDefaultBitmapValues
	runDefaultSize         = ChunkSize - RunHeaderSize - runDefaultBitmapSize
)

// RunContentBytes returns the bitmap-and-data room of a run of sizeIdx
// chunks.
func RunContentBytes(sizeIdx uint32) uint64 {
	return RunContentSize + uint64(sizeIdx-1)*ChunkSize
}

// RunBitmap is the geometry of a run's bitmap (struct run_bitmap, without
// its pointer).
type RunBitmap struct {
	NBits   uint32 // units in the run
	NValues uint32 // 64-bit words of the bitmap that hold unit bits
	Size    uint32 // bytes from the end of the run header to the data
}

// RunBitmapOf computes the bitmap of a run (memblock_run_bitmap). For a
// run without FlagFlexBitmap whose units do not fit the fixed bitmap, C
// shrinks the run: the returned sizeIdx is the run size the bitmap is
// for. unitSize must be non-zero and sizeIdx at least 1.
func RunBitmapOf(sizeIdx uint32, flags uint16, unitSize, alignment uint64) (RunBitmap, uint32) {
	var a uint64
	if alignment != 0 {
		a = 1
	}
	if flags&FlagFlexBitmap != 0 {
		content := RunContentBytes(sizeIdx)
		nbits := content / unitSize
		nvalues := (nbits + RunBitsPerValue - 1) / RunBitsPerValue
		// Align the data start to a cache line: the bitmap and the run
		// header together fill whole lines.
		const perLine = CacheLine / 8
		nvalues = (nvalues+RunHeaderSize/8+perLine-1)/perLine*perLine - RunHeaderSize/8
		size := nvalues * 8
		nbits = (content-size)/unitSize - a
		unusedValues := (nvalues*RunBitsPerValue - nbits) / RunBitsPerValue
		return RunBitmap{NBits: uint32(nbits), NValues: uint32(nvalues - unusedValues), Size: uint32(size)}, sizeIdx
	}
	nallocs := (runDefaultSize + uint64(sizeIdx-1)*ChunkSize) / unitSize
	for nallocs > runDefaultBitmapNBits {
		if sizeIdx > 1 {
			sizeIdx--
			nallocs = (runDefaultSize + uint64(sizeIdx-1)*ChunkSize) / unitSize
		} else {
			nallocs = runDefaultBitmapNBits
		}
	}
	nbits := nallocs - a
	unusedValues := (runDefaultBitmapNBits - nbits) / RunBitsPerValue
	return RunBitmap{NBits: uint32(nbits), NValues: uint32(runDefaultBitmapValues - unusedValues),
		Size: runDefaultBitmapSize}, sizeIdx
}

// RunDataOffset returns the offset of a run's first unit from the start
// of its chunk (run_get_data_start): after the header and the bitmap, or,
// for an aligned run, where the user data of the first unit (after an
// object header of hdrSize bytes) meets alignment. chunkOff is the
// chunk's offset in the pool, whose alignment matters for aligned runs.
func RunDataOffset(b RunBitmap, flags uint16, hdrSize, alignment, chunkOff uint64) uint64 {
	off := RunHeaderSize + uint64(b.Size)
	if flags&FlagAligned == 0 || alignment == 0 {
		return off
	}
	base := chunkOff + off + hdrSize
	return (base+alignment-1)/alignment*alignment - hdrSize - chunkOff
}

// LastBitmapWord returns the value C gives the last bitmap word of a new
// run: the bits past NBits set, so they are never allocated.
func (b RunBitmap) LastBitmapWord() uint64 {
	trailing := b.NBits % RunBitsPerValue
	return ^uint64(0) << trailing
}

// CalcSizeIdx returns the units of unitSize needed for size bytes
// (CALC_SIZE_IDX).
func CalcSizeIdx(unitSize, size uint64) uint64 {
	if size == 0 {
		return 0
	}
	return (size-1)/unitSize + 1
}

// FreeRuns returns the lengths of the runs of clear bits in w from bit 0,
// in order, as (offset, length) pairs, through yield; a false from yield
// stops. It is how a run bitmap word maps to free blocks.
func FreeRuns(w uint64, yield func(off, n uint32) bool) {
	for pos := uint32(0); pos < 64; {
		rest := w >> pos
		if rest == 0 {
			yield(pos, 64-pos)
			return
		}
		free := uint32(bits.TrailingZeros64(rest))
		if free > 0 && !yield(pos, free) {
			return
		}
		pos += free
		used := uint32(bits.TrailingZeros64(^(w >> pos)))
		if pos+used >= 64 || used == 64 {
			return
		}
		pos += used
	}
}
