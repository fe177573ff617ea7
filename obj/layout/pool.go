package layout

import (
	"bytes"
	"encoding/binary"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
)

// Pool-level constants of libpmemobj 1.12.1.
const (
	// PageSize is the alignment C gives the heap (Pagesize on x86-64).
	PageSize = 4096
	// MinPoolSize is PMEMOBJ_MIN_POOL: the smallest pool C creates.
	MinPoolSize = 8 << 20
	// MaxLayout is PMEMOBJ_MAX_LAYOUT: the layout name field, NUL
	// included (so at most MaxLayout-1 bytes of name).
	MaxLayout = 1024
	// MaxAllocSize is PMEMOBJ_MAX_ALLOC_SIZE: the largest object C
	// allocates (about 15.99 GiB).
	MaxAllocSize = 0x3FFDFFFC0
	// NLanes is OBJ_NLANES, the number of lanes C creates.
	NLanes = 1024
	// CacheLine is the unit the ulogs and run data are aligned to.
	CacheLine = 64
)

// Byte offsets in the pool of the descriptor (struct pmemobjpool after its
// pool_hdr). The first DescSize bytes are covered by the descriptor
// checksum; the fields after it are not.
const (
	DescOffset        = pool.HeaderSize       // layout name, 1024 bytes NUL-padded
	DescSize          = 2048                  // OBJ_DSC_P_SIZE
	LanesOffsetAt     = DescOffset + 1024     // lanes_offset
	NLanesAt          = LanesOffsetAt + 8     // nlanes
	HeapOffsetAt      = LanesOffsetAt + 16    // heap_offset
	Unused3At         = LanesOffsetAt + 24    // unused3 (zero)
	DescUnusedAt      = LanesOffsetAt + 32    // unused[984] (must be zero)
	DescChecksumAt    = DescOffset + 2040     // checksum of the 2048 bytes
	RootOffsetAt      = DescOffset + DescSize // root_offset
	RunIDAt           = RootOffsetAt + 8      // run_id (bumped by 2 per open)
	RootSizeAt        = RootOffsetAt + 16     // root_size
	ConversionFlagsAt = RootOffsetAt + 24     // conversion_flags
	HeapSizeAt        = RootOffsetAt + 32     // heap_size (0 = not yet recorded)
	StatsAllocatedAt  = RootOffsetAt + 40     // stats_persistent.heap_curr_allocated
	ReservedAt        = RootOffsetAt + 48     // pmem_reserved[496] (must be zero)
	ReservedSize      = 496
	// RuntimeAt..RuntimeEnd is where C keeps its run-time state (mapping
	// address, heap and lane descriptors, locks...) inside the pool. Not
	// part of the format: never read it; Go writes zeros there.
	RuntimeAt  = ReservedAt + ReservedSize
	RuntimeEnd = 0x2000
	// LanesOffset is where C puts the lanes: sizeof(struct pmemobjpool).
	LanesOffset = RuntimeEnd
)

// Descriptor is the checksummed part of the pool descriptor.
type Descriptor struct {
	Layout      string // the layout name (without its NUL padding)
	LanesOffset uint64 // offset 0x1400
	NLanes      uint64 // offset 0x1408
	HeapOffset  uint64 // offset 0x1410
	Unused3     uint64 // offset 0x1418
	Checksum    uint64 // offset 0x17f8, as stored
	// ChecksumOK reports whether Checksum matches the 2048 bytes.
	ChecksumOK bool
	// UnusedClean reports whether the unused bytes are zero.
	UnusedClean bool
	// LayoutTerminated reports whether the layout field holds a NUL.
	LayoutTerminated bool
}

// NewDescriptor returns the descriptor C writes for a pool of poolSize
// bytes with the given layout name.
func NewDescriptor(layoutName string) Descriptor {
	return Descriptor{
		Layout:      layoutName,
		LanesOffset: LanesOffset,
		NLanes:      NLanes,
		HeapOffset:  HeapOffset(LanesOffset, NLanes),
	}
}

// HeapOffset is where C puts the heap: after nlanes lanes from
// lanesOffset, rounded up to a page.
func HeapOffset(lanesOffset, nlanes uint64) uint64 {
	return (lanesOffset + nlanes*LaneSize + PageSize - 1) &^ (PageSize - 1)
}

// Encode writes d (its checksum recomputed) into a pool image's descriptor
// bytes [DescOffset, DescOffset+DescSize), zeroing the unused ones. A
// layout name of MaxLayout bytes or more is cut to MaxLayout-1, as C's
// strncpy leaves it.
func (d Descriptor) Encode(p []byte) {
	b := p[DescOffset : DescOffset+DescSize]
	clear(b)
	copy(b[:MaxLayout-1], d.Layout)
	le := binary.LittleEndian
	le.PutUint64(b[LanesOffsetAt-DescOffset:], d.LanesOffset)
	le.PutUint64(b[NLanesAt-DescOffset:], d.NLanes)
	le.PutUint64(b[HeapOffsetAt-DescOffset:], d.HeapOffset)
	le.PutUint64(b[Unused3At-DescOffset:], d.Unused3)
	le.PutUint64(b[DescChecksumAt-DescOffset:], DescChecksum(p))
}

// DescChecksum computes the descriptor checksum of a pool image.
func DescChecksum(p []byte) uint64 {
	return pool.Checksum(p[DescOffset:DescOffset+DescSize], DescChecksumAt-DescOffset, 0)
}

// DecodeDescriptor reads the descriptor of a pool image.
func DecodeDescriptor(p []byte) (Descriptor, error) {
	if len(p) < RuntimeEnd {
		return Descriptor{}, core.Corrupt(int64(len(p)), "obj descriptor: pool image size", RuntimeEnd, len(p))
	}
	b := p[DescOffset : DescOffset+DescSize]
	le := binary.LittleEndian
	name := b[:MaxLayout]
	n := bytes.IndexByte(name, 0)
	d := Descriptor{
		LanesOffset:      le.Uint64(b[LanesOffsetAt-DescOffset:]),
		NLanes:           le.Uint64(b[NLanesAt-DescOffset:]),
		HeapOffset:       le.Uint64(b[HeapOffsetAt-DescOffset:]),
		Unused3:          le.Uint64(b[Unused3At-DescOffset:]),
		Checksum:         le.Uint64(b[DescChecksumAt-DescOffset:]),
		LayoutTerminated: n >= 0,
	}
	if n < 0 {
		n = MaxLayout
	}
	d.Layout = string(name[:n])
	d.ChecksumOK = d.Checksum == DescChecksum(p)
	d.UnusedClean = allZero(b[DescUnusedAt-DescOffset : DescChecksumAt-DescOffset])
	return d, nil
}

// Problems returns every way d disagrees with what libpmemobj accepts, or
// with what this package needs to stay inside a pool of poolSize bytes,
// each as a *core.CorruptError. C checks the checksum and the heap
// alignment (obj_descr_check); the bounds of the lanes and the heap are
// ours: C trusts them and faults on a hostile value.
func (d Descriptor) Problems(poolSize uint64) []error {
	var p []error
	if !d.ChecksumOK {
		p = append(p, core.Corrupt(DescChecksumAt, "obj descriptor: checksum", nil, d.Checksum))
	}
	if d.HeapOffset%PageSize != 0 {
		p = append(p, core.Corrupt(HeapOffsetAt, "obj descriptor: heap_offset not page aligned", nil, d.HeapOffset))
	}
	if d.NLanes == 0 || d.NLanes > poolSize/LaneSize {
		p = append(p, core.Corrupt(NLanesAt, "obj descriptor: nlanes", nil, d.NLanes))
	} else if d.LanesOffset < RuntimeEnd || d.LanesOffset%CacheLine != 0 ||
		d.LanesOffset > poolSize || d.NLanes*LaneSize > poolSize-d.LanesOffset {
		p = append(p, core.Corrupt(LanesOffsetAt, "obj descriptor: lanes_offset", nil, d.LanesOffset))
	} else if d.HeapOffset < d.LanesOffset+d.NLanes*LaneSize {
		p = append(p, core.Corrupt(HeapOffsetAt, "obj descriptor: heap_offset inside the lanes", nil, d.HeapOffset))
	}
	if d.HeapOffset > poolSize || poolSize-d.HeapOffset < HeapMinSize {
		p = append(p, core.Corrupt(HeapOffsetAt, "obj descriptor: heap_offset leaves no heap", nil, d.HeapOffset))
	}
	return p
}

// UUIDLo returns the pool_uuid_lo that PMEMoids of a pool carry: the
// poolset UUID of its header folded in half (byte i xor byte i+8),
// read big-endian, as pmemobj_get_uuid_lo computes it.
func UUIDLo(poolsetUUID [16]byte) uint64 {
	var lo uint64
	for i := range 8 {
		lo = lo<<8 | uint64(poolsetUUID[i]^poolsetUUID[8+i])
	}
	return lo
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
