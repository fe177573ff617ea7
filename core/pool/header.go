package pool

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"time"

	"github.com/gopmdk/pmdk/core"
)

// HeaderSize is the size in bytes of the pool header at the start of every
// pool file (struct pool_hdr on 4 KiB-page machines).
const HeaderSize = 4096

// Byte offsets of the fields of the pool header.
const (
	offSignature    = 0
	offMajor        = 8
	offCompat       = 12
	offIncompat     = 16
	offROCompat     = 20
	offPoolsetUUID  = 24
	offUUID         = 40
	offPrevPartUUID = 56
	offNextPartUUID = 72
	offPrevReplUUID = 88
	offNextReplUUID = 104
	offCrTime       = 120
	offArch         = 128 // alignment_desc u64, machine_class u8, data u8, reserved [4]u8, machine u16
	offUnused       = 144
	offUnused2      = 2048 // first byte not covered by the checksum with FeatCksum2K
	offSDS          = 4024
	offChecksum     = 4088

	unusedSize  = offUnused2 - offUnused
	unused2Size = offSDS - offUnused2
)

// Feature flags of the pool header (POOL_FEAT_*). Compat features may be
// ignored, incompat ones must be known to open a pool, unknown ro-compat
// ones force a read-only open.
const (
	FeatCheckBadBlocks uint32 = 0x1 // compat: check bad blocks on open (CHECK_BAD_BLOCKS)
	FeatSingleHdr      uint32 = 0x1 // incompat: header only in the first part of a poolset (SINGLEHDR)
	FeatCksum2K        uint32 = 0x2 // incompat: the checksum covers only the first 2 KiB (CKSUM_2K)
	FeatSDS            uint32 = 0x4 // incompat: the shutdown state is maintained (SHUTDOWN_STATE)

	// KnownCompat, KnownIncompat and KnownROCompat are the features this
	// package understands, as libpmemobj/blk/log 1.12.1 built with ndctl
	// (POOL_FEAT_*_VALID).
	KnownCompat   = FeatCheckBadBlocks
	KnownIncompat = FeatSingleHdr | FeatCksum2K | FeatSDS
	KnownROCompat = uint32(0)
)

// Kind describes a pool type: what a library writes at create and expects
// at open.
type Kind struct {
	Signature string // at most 8 bytes, NUL-padded on media, e.g. "PMEMLOG"
	Major     uint32 // format major version
	// Feature flags set at create.
	Compat, Incompat, ROCompat uint32
	// MinSize is the smallest pool size in bytes the library accepts
	// (PMEMLOG_MIN_POOL etc.); sizes below HeaderSize count as HeaderSize.
	MinSize int64
}

// The pool kinds of PMDK 1.12.1 with the default features of Debian's
// build (compat CHECK_BAD_BLOCKS, incompat CKSUM_2K|SHUTDOWN_STATE, as
// pmempool create writes them) and the libraries' minimum pool sizes on
// 4 KiB-page machines.
var (
	Log = Kind{Signature: "PMEMLOG", Major: 1, Compat: FeatCheckBadBlocks, Incompat: FeatCksum2K | FeatSDS, MinSize: 2 << 20}
	Blk = Kind{Signature: "PMEMBLK", Major: 1, Compat: FeatCheckBadBlocks, Incompat: FeatCksum2K | FeatSDS, MinSize: 16<<20 + 8<<10}
	Obj = Kind{Signature: "PMEMOBJ", Major: 6, Compat: FeatCheckBadBlocks, Incompat: FeatCksum2K | FeatSDS, MinSize: 8 << 20}
)

// KindOf returns the kind of PMDK 1.12.1 (Log, Blk, Obj) whose signature
// is sig, as Header.SignatureString gives it.
func KindOf(sig string) (Kind, bool) {
	for _, k := range [...]Kind{Log, Blk, Obj} {
		if k.Signature == sig {
			return k, true
		}
	}
	return Kind{}, false
}

// ArchFlags identify the architecture that created a pool (struct
// arch_flags). Values follow ELF: machine class 2 = 64-bit, data 1 =
// little-endian, machine 62 = x86-64.
type ArchFlags struct {
	AlignmentDesc uint64  // offset 128: 4 bits per C type, (alignment-1)
	MachineClass  uint8   // offset 136
	Data          uint8   // offset 137
	Reserved      [4]byte // offset 138, must be zero
	Machine       uint16  // offset 142
}

// Machine values of ArchFlags (PMDK_MACHINE_*).
const (
	MachineX86_64  = 62
	MachineAArch64 = 183
	MachinePPC64   = 21
	MachineRISCV64 = 243
)

// alignmentDesc64 is the alignment descriptor of every LP64 Linux target
// PMDK supports: char 1, short 2, int 4, long, long long, size_t, off_t 8,
// float 4, double 8, long double 16, void * 8 (each stored as alignment-1).
const alignmentDesc64 = 0x7f737777310

// LocalArch returns the arch flags PMDK would write on this machine.
func LocalArch() ArchFlags {
	a := ArchFlags{AlignmentDesc: alignmentDesc64, MachineClass: 2, Data: 1}
	switch runtime.GOARCH {
	case "amd64":
		a.Machine = MachineX86_64
	case "arm64":
		a.Machine = MachineAArch64
	case "ppc64le":
		a.Machine = MachinePPC64
	case "riscv64":
		a.Machine = MachineRISCV64
	}
	return a
}

// Header is the decoded pool header (struct pool_hdr). Integers are
// little-endian on media.
type Header struct {
	Signature                  [8]byte // offset 0
	Major                      uint32  // offset 8
	Compat, Incompat, ROCompat uint32  // offsets 12, 16, 20
	PoolsetUUID                UUID    // offset 24
	UUID                       UUID    // offset 40: this file
	PrevPartUUID, NextPartUUID UUID    // offsets 56, 72
	PrevReplUUID, NextReplUUID UUID    // offsets 88, 104
	CrTime                     uint64  // offset 120: seconds since the epoch
	Arch                       ArchFlags
	Unused                     [unusedSize]byte  // offset 144, must be zero, checksummed
	Unused2                    [unused2Size]byte // offset 2048, must be zero, checksummed only without FeatCksum2K
	SDS                        ShutdownState     // offset 4024
	Checksum                   uint64            // offset 4088
}

// NewHeader returns a header for a new single-file pool of kind k: fresh
// random poolset and file UUIDs, the part and replica links pointing at the
// file itself, the creation time now and this machine's arch flags. The SDS
// is zero and the checksum is set by Encode.
func NewHeader(k Kind) *Header {
	h := &Header{Major: k.Major, Compat: k.Compat, Incompat: k.Incompat, ROCompat: k.ROCompat}
	copy(h.Signature[:], k.Signature)
	h.PoolsetUUID = NewUUID()
	h.UUID = NewUUID()
	h.PrevPartUUID, h.NextPartUUID = h.UUID, h.UUID
	h.PrevReplUUID, h.NextReplUUID = h.UUID, h.UUID
	h.CrTime = uint64(time.Now().Unix())
	h.Arch = LocalArch()
	return h
}

// DecodeHeader decodes the first HeaderSize bytes of b. It checks nothing
// but the length: use Validate.
func DecodeHeader(b []byte) (*Header, error) {
	if len(b) < HeaderSize {
		return nil, core.Corrupt(0, "pool header: length", HeaderSize, len(b))
	}
	le := binary.LittleEndian
	h := &Header{}
	copy(h.Signature[:], b[offSignature:])
	h.Major = le.Uint32(b[offMajor:])
	h.Compat = le.Uint32(b[offCompat:])
	h.Incompat = le.Uint32(b[offIncompat:])
	h.ROCompat = le.Uint32(b[offROCompat:])
	copy(h.PoolsetUUID[:], b[offPoolsetUUID:])
	copy(h.UUID[:], b[offUUID:])
	copy(h.PrevPartUUID[:], b[offPrevPartUUID:])
	copy(h.NextPartUUID[:], b[offNextPartUUID:])
	copy(h.PrevReplUUID[:], b[offPrevReplUUID:])
	copy(h.NextReplUUID[:], b[offNextReplUUID:])
	h.CrTime = le.Uint64(b[offCrTime:])
	h.Arch.AlignmentDesc = le.Uint64(b[offArch:])
	h.Arch.MachineClass = b[offArch+8]
	h.Arch.Data = b[offArch+9]
	copy(h.Arch.Reserved[:], b[offArch+10:])
	h.Arch.Machine = le.Uint16(b[offArch+14:])
	copy(h.Unused[:], b[offUnused:])
	copy(h.Unused2[:], b[offUnused2:])
	h.SDS = decodeSDS(b[offSDS:])
	h.Checksum = le.Uint64(b[offChecksum:])
	return h, nil
}

// encodeFields writes every field of h into b[:HeaderSize] as it is,
// including h.Checksum.
func (h *Header) encodeFields(b []byte) {
	b = b[:HeaderSize]
	le := binary.LittleEndian
	copy(b[offSignature:], h.Signature[:])
	le.PutUint32(b[offMajor:], h.Major)
	le.PutUint32(b[offCompat:], h.Compat)
	le.PutUint32(b[offIncompat:], h.Incompat)
	le.PutUint32(b[offROCompat:], h.ROCompat)
	copy(b[offPoolsetUUID:], h.PoolsetUUID[:])
	copy(b[offUUID:], h.UUID[:])
	copy(b[offPrevPartUUID:], h.PrevPartUUID[:])
	copy(b[offNextPartUUID:], h.NextPartUUID[:])
	copy(b[offPrevReplUUID:], h.PrevReplUUID[:])
	copy(b[offNextReplUUID:], h.NextReplUUID[:])
	le.PutUint64(b[offCrTime:], h.CrTime)
	le.PutUint64(b[offArch:], h.Arch.AlignmentDesc)
	b[offArch+8] = h.Arch.MachineClass
	b[offArch+9] = h.Arch.Data
	copy(b[offArch+10:], h.Arch.Reserved[:])
	le.PutUint16(b[offArch+14:], h.Arch.Machine)
	copy(b[offUnused:], h.Unused[:])
	copy(b[offUnused2:], h.Unused2[:])
	h.SDS.encode(b[offSDS:])
	le.PutUint64(b[offChecksum:], h.Checksum)
}

// checksumEnd is the first byte the header checksum does not cover.
func (h *Header) checksumEnd() int {
	if h.Incompat&FeatCksum2K != 0 {
		return offUnused2
	}
	return offChecksum
}

// ComputeChecksum returns the checksum the fields of h call for.
func (h *Header) ComputeChecksum() uint64 {
	var b [HeaderSize]byte
	h.encodeFields(b[:])
	return headerChecksum(b[:], h.Incompat)
}

func headerChecksum(b []byte, incompat uint32) uint64 {
	end := offChecksum
	if incompat&FeatCksum2K != 0 {
		end = offUnused2
	}
	return Checksum(b[:HeaderSize], offChecksum, end)
}

// Encode sets h.Checksum and writes all HeaderSize bytes of the header into
// b, which must be at least that long. The SDS is written as it is: set
// its checksum with [ShutdownState.UpdateChecksum] first.
func (h *Header) Encode(b []byte) {
	h.encodeFields(b)
	h.Checksum = headerChecksum(b, h.Incompat)
	binary.LittleEndian.PutUint64(b[offChecksum:], h.Checksum)
}

// SignatureString returns the signature up to its first NUL.
func (h *Header) SignatureString() string {
	s, _, _ := bytes.Cut(h.Signature[:], []byte{0})
	return string(s)
}

// ForceReadOnly reports whether h has ro-compat features this package does
// not know, so that the pool may only be opened read-only.
func (h *Header) ForceReadOnly() bool { return h.ROCompat&^KnownROCompat != 0 }

// Validate checks h as the header of a single-file pool of kind k, in the
// order libpmem* 1.12.1 does (util_header_check), and returns an error
// naming the first field that fails. A pool of another known type is
// [ErrWrongType], of another major version [ErrVersion], with unknown
// incompat features [ErrIncompatible]: the pool is sound but not for this
// library. Every other error is damage and wraps [core.ErrCorrupt] (an
// unknown signature among them). Unknown ro-compat features are no error:
// see ForceReadOnly.
func (h *Header) Validate(k Kind) error {
	var first error
	h.check(k, true, func(err error) bool { first = err; return false })
	return first
}

// ValidateFormat is Validate without the part and replica links, for a
// header of one part of a poolset, whose links the caller checks.
func (h *Header) ValidateFormat(k Kind) error {
	var first error
	h.check(k, false, func(err error) bool { first = err; return false })
	return first
}

// Problems returns every problem of h as the header of a single-file pool
// of kind k, for checkers (pmempool check): Validate's checks, each
// reported on its own, and CheckUnused's.
func (h *Header) Problems(k Kind) []error {
	var all []error
	h.check(k, true, func(err error) bool { all = append(all, err); return true })
	if err := h.CheckUnused(); err != nil {
		all = append(all, err)
	}
	return all
}

// check runs the checks of Validate (the links too when single) in C's
// order and passes each failure to report; it stops when report returns
// false.
func (h *Header) check(k Kind, single bool, report func(error) bool) {
	hf := func(field string) string { return "pool header: " + field }
	fail := func(off int64, field string, want, got any) bool {
		return report(core.Corrupt(off, hf(field), want, got))
	}
	if h.Major == 0 && !fail(offMajor, "major (must not be 0)", k.Major, h.Major) {
		return
	}
	var want [8]byte
	copy(want[:], k.Signature)
	if h.Signature != want {
		// Another pool type's signature is a pool of that type; any
		// other is damage.
		err := wrongType(h.SignatureString())
		if _, known := KindOf(h.SignatureString()); !known {
			err = core.Corrupt(offSignature, hf("signature"), fmt.Sprintf("%q", k.Signature), fmt.Sprintf("%q", h.Signature[:]))
		}
		if !report(err) {
			return
		}
	}
	if h.Major != 0 && h.Major != k.Major && !report(wrongVersion(h.Major, k.Major)) {
		return
	}
	if u := h.Incompat &^ KnownIncompat; u != 0 && !report(fmt.Errorf("%w: %#x (known: %#x)", ErrIncompatible, h.Incompat, KnownIncompat)) {
		return
	}
	if c := h.ComputeChecksum(); c != h.Checksum && !fail(offChecksum, "checksum", fmt.Sprintf("%#x", c), fmt.Sprintf("%#x", h.Checksum)) {
		return
	}
	local, a := LocalArch(), h.Arch
	for _, c := range []struct {
		bad       bool
		off       int64
		field     string
		want, got any
	}{
		{a.Reserved != [4]byte{}, offArch + 10, "arch_flags.reserved", "zeros", a.Reserved},
		{a.Machine != local.Machine, offArch + 14, "arch_flags.machine", local.Machine, a.Machine},
		{a.Data != local.Data, offArch + 9, "arch_flags.data", local.Data, a.Data},
		{a.MachineClass != local.MachineClass, offArch + 8, "arch_flags.machine_class", local.MachineClass, a.MachineClass},
		{a.AlignmentDesc != local.AlignmentDesc, offArch, "arch_flags.alignment_desc",
			fmt.Sprintf("%#x", local.AlignmentDesc), fmt.Sprintf("%#x", a.AlignmentDesc)},
	} {
		if c.bad && !fail(c.off, c.field, c.want, c.got) {
			return
		}
	}
	if !single {
		return
	}
	// Only a poolset with OPTION SINGLEHDR may carry SINGLEHDR.
	if h.Incompat&FeatSingleHdr != 0 && !fail(offIncompat, "incompat features (SINGLEHDR outside a poolset)", nil, fmt.Sprintf("%#x", h.Incompat)) {
		return
	}
	for _, l := range []struct {
		off  int64
		name string
		u    UUID
	}{
		{offPrevPartUUID, "prev_part_uuid", h.PrevPartUUID},
		{offNextPartUUID, "next_part_uuid", h.NextPartUUID},
		{offPrevReplUUID, "prev_repl_uuid", h.PrevReplUUID},
		{offNextReplUUID, "next_repl_uuid", h.NextReplUUID},
	} {
		if l.u != h.UUID && !fail(l.off, l.name+" (single-file pool links to itself)", h.UUID, l.u) {
			return
		}
	}
}

// CheckUnused reports a non-zero byte in the unused areas of the header,
// which must be zero. Validate does not call it: libpmem* 1.12.1 open such
// pools (a later format may use the bytes), but a checker should say so.
func (h *Header) CheckUnused() error {
	if i := firstNonZero(h.Unused[:]); i >= 0 {
		return core.Corrupt(int64(offUnused+i), "pool header: unused (must be zero)", 0, h.Unused[i])
	}
	if i := firstNonZero(h.Unused2[:]); i >= 0 {
		return core.Corrupt(int64(offUnused2+i), "pool header: unused2 (must be zero)", 0, h.Unused2[i])
	}
	return nil
}

func firstNonZero(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return i
		}
	}
	return -1
}

// IsZero reports whether every byte of b is zero: a header, descriptor or
// layout block that was never written (or an unused area as it must be).
func IsZero(b []byte) bool { return firstNonZero(b) < 0 }
