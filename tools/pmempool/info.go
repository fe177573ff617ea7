package pmempool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core/pool"
	loglayout "github.com/gopmdk/pmdk/log/layout"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

// PoolInfo is what pmempool info shows of a log, blk or obj pool file. Its JSON
// form (the command's --json, which C's pmempool lacks) uses these names.
type PoolInfo struct {
	Path     string `json:"path"`
	FileType string `json:"file_type"`
	Size     uint64 `json:"size"`
	Type     string `json:"type"`
	// PartFile: the header's links name other files, so the file is taken
	// for a poolset part and only its header is shown.
	PartFile bool `json:"part_file"`
	// Forced: the file is read as Type whatever its signature (info -f).
	Forced bool       `json:"forced,omitempty"`
	Header HeaderInfo `json:"pool_header"`
	// BTTOffsetOK (blk): C's run-time fields place the BTT where it is
	// (data - addr = 8 KiB), as in every pool C or gopmdk made.
	BTTOffsetOK bool `json:"-"`
	// nextUnreadable: an arena's next offset points past the file.
	nextUnreadable bool
	Log            *LogInfo       `json:"log,omitempty"`
	Blk            *BlkInfo       `json:"blk,omitempty"`
	Obj            *ObjInfo       `json:"obj,omitempty"`
	Arenas         []BTTInfoBlock `json:"arenas,omitempty"`
}

// HeaderInfo is the pool header as pmempool info prints it.
type HeaderInfo struct {
	Signature         string    `json:"signature"`
	Major             uint32    `json:"major"`
	Incompat          uint32    `json:"incompat_features"`
	IncompatNames     []string  `json:"incompat_feature_names"`
	Compat            uint32    `json:"compat_features"`
	ROCompat          uint32    `json:"ro_compat_features"`
	PoolsetUUID       string    `json:"poolset_uuid"`
	UUID              string    `json:"uuid"`
	PrevPartUUID      string    `json:"prev_part_uuid"`
	NextPartUUID      string    `json:"next_part_uuid"`
	PrevReplUUID      string    `json:"prev_repl_uuid"`
	NextReplUUID      string    `json:"next_repl_uuid"`
	CreationTime      time.Time `json:"creation_time"`
	CrTimeRaw         uint64    `json:"crtime"`
	AlignmentDesc     uint64    `json:"alignment_desc"`
	AlignmentDescOK   bool      `json:"alignment_desc_ok"`
	MachineClass      uint8     `json:"machine_class"`
	Data              uint8     `json:"data"`
	Machine           uint16    `json:"machine"`
	Dirty             bool      `json:"dirty"`
	Checksum          uint64    `json:"checksum"`
	ChecksumComputed  uint64    `json:"checksum_computed"`
	localAlignmentDsc uint64
}

// LogInfo is the log descriptor.
type LogInfo struct {
	StartOffset   uint64 `json:"start_offset"`
	WriteOffset   uint64 `json:"write_offset"`
	EndOffset     uint64 `json:"end_offset"`
	WriteOffsetOK bool   `json:"write_offset_ok"`
}

// BlkInfo is the blk descriptor.
type BlkInfo struct {
	BSize    uint32 `json:"bsize"`
	IsZeroed bool   `json:"is_zeroed"`
}

// ObjInfo is the obj pool descriptor (struct pmemobjpool after the pool
// header), decoded through obj/layout.
type ObjInfo struct {
	// Layout is the layout name; LayoutZero says the field is all zeros
	// (C prints "(null)").
	Layout           string `json:"layout"`
	LayoutZero       bool   `json:"layout_zero"`
	LanesOffset      uint64 `json:"lanes_offset"`
	NLanes           uint64 `json:"nlanes"`
	HeapOffset       uint64 `json:"heap_offset"`
	HeapSize         uint64 `json:"heap_size"`
	Checksum         uint64 `json:"checksum"`
	ChecksumComputed uint64 `json:"checksum_computed"`
	RootOffset       uint64 `json:"root_offset"`
	RootSize         uint64 `json:"root_size"`
	RunID            uint64 `json:"run_id"`
}

// BTTInfoBlock is one arena's BTT info block.
type BTTInfoBlock struct {
	Arena            int    `json:"arena"`
	Offset           uint64 `json:"offset"`
	Signature        string `json:"signature"`
	ParentUUID       string `json:"parent_uuid"`
	Flags            uint32 `json:"flags"`
	Major            uint16 `json:"major"`
	Minor            uint16 `json:"minor"`
	ExternalLBASize  uint32 `json:"external_lbasize"`
	ExternalNLBA     uint32 `json:"external_nlba"`
	InternalLBASize  uint32 `json:"internal_lbasize"`
	InternalNLBA     uint32 `json:"internal_nlba"`
	NFree            uint32 `json:"nfree"`
	InfoSize         uint32 `json:"infosize"`
	NextOff          uint64 `json:"nextoff"`
	DataOff          uint64 `json:"dataoff"`
	MapOff           uint64 `json:"mapoff"`
	FlogOff          uint64 `json:"flogoff"`
	InfoOff          uint64 `json:"infooff"`
	Checksum         uint64 `json:"checksum"`
	ChecksumComputed uint64 `json:"checksum_computed"`
}

var incompatNames = []struct {
	bit  uint32
	name string
}{{pool.FeatSingleHdr, "SINGLEHDR"}, {pool.FeatCksum2K, "CKSUM_2K"}, {pool.FeatSDS, "SHUTDOWN_STATE"}}

// Errors of Info's refusals, worded as C's pmempool info words them.
var (
	// ErrUnknownType: the signature is no pool type's ("unknown pool
	// type -- 'PMEXLOG'"), or a forced type's name is not one.
	ErrUnknownType = errors.New("unknown pool type")
	// ErrInvalidChecksum: the pool header's checksum does not match, so
	// what the header says cannot be trusted; InfoOptions.Type (-f)
	// reads the pool anyway.
	ErrInvalidChecksum = errors.New("invalid checksum")
)

// ParseType maps a pool type name (log, blk, obj) to its PoolType, or
// fails with ErrUnknownType in C's words.
func ParseType(name string) (PoolType, error) {
	for _, t := range []PoolType{TypeLog, TypeBlk, TypeObj} {
		if t.String() == name {
			return t, nil
		}
	}
	return TypeUnknown, fmt.Errorf("'%s' -- %w", name, ErrUnknownType)
}

// Info reads the pool file at path without changing it, whatever its
// header holds: the pool header and the log, blk (BTT arenas) or obj
// (descriptor) header. [CheckReadable] says whether pmempool info would show it.
func Info(path string) (*PoolInfo, error) { return info(path, TypeUnknown) }

// InfoAs is Info reading the file as a pool of type t whatever its
// signature (pmempool info -f t): the way to read a pool whose header is
// damaged.
func InfoAs(path string, t PoolType) (*PoolInfo, error) { return info(path, t) }

// CheckReadable returns the error pmempool info gives instead of showing
// a pool it does not trust: an unknown signature (ErrUnknownType) or a bad
// header checksum (ErrInvalidChecksum). A forced type trusts the file.
func (pi *PoolInfo) CheckReadable() error {
	switch {
	case pi.Forced:
		return nil
	case pi.Type == TypeUnknown.String():
		return fmt.Errorf("%w -- '%s'", ErrUnknownType, pi.Header.Signature)
	case pi.Header.Checksum != pi.Header.ChecksumComputed:
		return ErrInvalidChecksum
	}
	return nil
}

func info(path string, force PoolType) (*PoolInfo, error) {
	im, err := openImage(path, false)
	if err != nil {
		return nil, err
	}
	defer im.close()
	if im.size < pool.HeaderSize {
		return nil, fmt.Errorf("pmempool: %s: file too small for a pool header (%d bytes)", path, im.size)
	}
	h, err := pool.DecodeHeader(im.b)
	if err != nil {
		return nil, err
	}
	pi := &PoolInfo{Path: path, FileType: "regular file", Size: im.size}
	t := typeOfSignature(h.SignatureString())
	if force != TypeUnknown {
		t, pi.Forced = force, true
	}
	pi.Type = t.String()
	local := pool.LocalArch()
	hi := HeaderInfo{
		Signature: h.SignatureString(), Major: h.Major, Incompat: h.Incompat, Compat: h.Compat, ROCompat: h.ROCompat,
		PoolsetUUID: h.PoolsetUUID.String(), UUID: h.UUID.String(),
		PrevPartUUID: h.PrevPartUUID.String(), NextPartUUID: h.NextPartUUID.String(),
		PrevReplUUID: h.PrevReplUUID.String(), NextReplUUID: h.NextReplUUID.String(),
		CreationTime: time.Unix(int64(h.CrTime), 0), CrTimeRaw: h.CrTime,
		AlignmentDesc: h.Arch.AlignmentDesc, AlignmentDescOK: h.Arch.AlignmentDesc == local.AlignmentDesc,
		MachineClass: h.Arch.MachineClass, Data: h.Arch.Data, Machine: h.Arch.Machine,
		Dirty: h.SDS.Dirty != 0, Checksum: h.Checksum, ChecksumComputed: h.ComputeChecksum(),
		localAlignmentDsc: local.AlignmentDesc,
	}
	for _, f := range incompatNames {
		if h.Incompat&f.bit != 0 {
			hi.IncompatNames = append(hi.IncompatNames, f.name)
		}
	}
	pi.Header = hi
	// A forced type reads the file as a whole pool, as C's -f does.
	pi.PartFile = !pi.Forced && (h.UUID != h.NextPartUUID || h.UUID != h.PrevPartUUID || h.UUID != h.NextReplUUID || h.UUID != h.PrevReplUUID)
	if pi.PartFile {
		return pi, nil
	}
	switch t {
	case TypeObj:
		pi.Obj = objInfo(im)
	case TypeLog:
		if !im.has(loglayout.DescOffset, 24) {
			return pi, nil
		}
		l := &LogInfo{StartOffset: im.u64(loglayout.StartOffsetAt), WriteOffset: im.u64(loglayout.WriteOffsetAt), EndOffset: im.u64(loglayout.EndOffsetAt)}
		l.WriteOffsetOK = l.WriteOffset >= l.StartOffset && l.WriteOffset <= l.EndOffset
		pi.Log = l
	case TypeBlk:
		if !im.has(blklayout.BSizeAt, 8) {
			return pi, nil
		}
		pi.Blk = &BlkInfo{BSize: im.u32(blklayout.BSizeAt), IsZeroed: im.u32(blklayout.IsZeroedAt) != 0}
		// C finds the BTT at data - addr of its run-time fields.
		if im.has(blklayout.RuntimeDataAt, 8) {
			pi.BTTOffsetOK = im.u64(blklayout.RuntimeDataAt)-im.u64(blklayout.DescOffset+8) == blklayout.BTTOffset
		}
		if !pi.BTTOffsetOK {
			return pi, nil
		}
		off := uint64(blklayout.BTTOffset)
		for id := 0; im.has(off, blklayout.InfoSize) && id < 1<<16; id++ {
			b := im.b[off : off+blklayout.InfoSize]
			if pool.IsZero(b) {
				break
			}
			in := blklayout.DecodeInfo(b)
			pi.Arenas = append(pi.Arenas, blockInfo(id, off, b))
			if in.NextOff == 0 || off+in.NextOff < off {
				break
			}
			off += in.NextOff
			pi.nextUnreadable = !im.has(off, blklayout.InfoSize)
		}
	}
	return pi, nil
}

// objInfo reads the obj descriptor, or nil when the file is too small to
// hold it.
func objInfo(im *image) *ObjInfo {
	d, err := objlayout.DecodeDescriptor(im.b)
	if err != nil || !im.has(objlayout.RootOffsetAt, objlayout.ReservedAt-objlayout.RootOffsetAt) {
		return nil
	}
	return &ObjInfo{
		Layout: d.Layout, LayoutZero: pool.IsZero(im.b[objlayout.DescOffset : objlayout.DescOffset+objlayout.MaxLayout]),
		LanesOffset: d.LanesOffset, NLanes: d.NLanes, HeapOffset: d.HeapOffset,
		HeapSize: im.u64(objlayout.HeapSizeAt), Checksum: d.Checksum, ChecksumComputed: objlayout.DescChecksum(im.b),
		RootOffset: im.u64(objlayout.RootOffsetAt), RootSize: im.u64(objlayout.RootSizeAt), RunID: im.u64(objlayout.RunIDAt),
	}
}

func blockInfo(id int, off uint64, b []byte) BTTInfoBlock {
	in := blklayout.DecodeInfo(b)
	return BTTInfoBlock{
		Arena: id, Offset: off, Signature: strings.TrimRight(string(in.Sig[:]), "\x00"),
		ParentUUID: pool.UUID(in.ParentUUID).String(), Flags: in.Flags, Major: in.Major, Minor: in.Minor,
		ExternalLBASize: in.ExternalLBASize, ExternalNLBA: in.ExternalNLBA,
		InternalLBASize: in.InternalLBASize, InternalNLBA: in.InternalNLBA,
		NFree: in.NFree, InfoSize: in.InfoSize, NextOff: in.NextOff, DataOff: in.DataOff,
		MapOff: in.MapOff, FlogOff: in.FlogOff, InfoOff: in.InfoOff,
		Checksum: in.Checksum, ChecksumComputed: blklayout.InfoChecksum(b),
	}
}

func field(w io.Writer, name, format string, args ...any) {
	fmt.Fprintf(w, "%-25s: %s\n", name, fmt.Sprintf(format, args...))
}

func checksumStr(have, want uint64) string {
	if have == want {
		return fmt.Sprintf("0x%x [OK]", have)
	}
	return fmt.Sprintf("0x%x [wrong! should be: 0x%x]", have, want)
}

// WriteText prints pi as C's pmempool info prints it by default.
func (pi *PoolInfo) WriteText(w io.Writer) {
	pi.writeHeader(w, nil, false, false)
	for _, a := range pi.Arenas {
		a.write(w, fmt.Sprintf("\n[ARENA %d]\nPMEM BLK BTT Info Header:\n", a.Arena), nil, false)
	}
}

// writeHeader prints everything up to the BTT arenas; with img (the pool
// file) it hex-dumps each header after its title, as pmempool info -x.
func (pi *PoolInfo) writeHeader(w io.Writer, img []byte, human, verbose bool) {
	hex := func(off, n uint64) {
		if img != nil && off+n <= uint64(len(img)) {
			hexdumpSep(w, img[off:off+n], off)
		}
	}
	fmt.Fprintf(w, "Part file:\n")
	field(w, "path", "%s", pi.Path)
	field(w, "type", "%s", pi.FileType)
	field(w, "size", "%s", sizeStr(pi.Size, human))
	h := &pi.Header
	fmt.Fprintf(w, "\nPOOL Header:\n")
	hex(0, pool.HeaderSize)
	part := ""
	if pi.PartFile {
		part = " [part file]"
	}
	field(w, "Signature", "%s%s", h.Signature, part)
	field(w, "Major", "%d", int32(h.Major)) // C prints it with %d
	inc := "0x0"
	if h.Incompat != 0 {
		names := h.IncompatNames
		if h.Incompat&^(pool.FeatSingleHdr|pool.FeatCksum2K|pool.FeatSDS) != 0 {
			names = append(append([]string(nil), names...), "?UNKNOWN_FLAG?")
		}
		inc = fmt.Sprintf("0x%x [%s]", h.Incompat, strings.Join(names, ", "))
	}
	field(w, "Mandatory features", "%s", inc)
	field(w, "Not mandatory features", "0x%x", h.Compat)
	field(w, "Forced RO", "0x%x", h.ROCompat)
	field(w, "Pool set UUID", "%s", h.PoolsetUUID)
	field(w, "UUID", "%s", h.UUID)
	field(w, "Previous part UUID", "%s", h.PrevPartUUID)
	field(w, "Next part UUID", "%s", h.NextPartUUID)
	field(w, "Previous replica UUID", "%s", h.PrevReplUUID)
	field(w, "Next replica UUID", "%s", h.NextReplUUID)
	field(w, "Creation Time", "%s", timeStr(h.CrTimeRaw))
	if h.AlignmentDescOK {
		field(w, "Alignment Descriptor", "0x%016x[OK]", h.AlignmentDesc)
	} else {
		field(w, "Alignment Descriptor", "0x%016x [wrong! should be 0x%016x]", h.AlignmentDesc, h.localAlignmentDsc)
	}
	if verbose {
		// -v: each type's alignment, from 4-bit fields (value - 1).
		for i, name := range alignmentNames {
			a := 1 + h.AlignmentDesc>>(4*i)&0xf
			switch want := 1 + h.localAlignmentDsc>>(4*i)&0xf; {
			case h.AlignmentDescOK:
				field(w, name, "%2d", a)
			case a == want:
				field(w, name, "%2d [OK]", a)
			default:
				field(w, name, "%2d [wrong! should be %2d]", a, want)
			}
		}
	}
	field(w, "Class", "%s", machineClassStr(h.MachineClass))
	field(w, "Data", "%s", dataStr(h.Data))
	field(w, "Machine", "%s", machineStr(h.Machine))
	field(w, "Last shutdown", "%s", map[bool]string{false: "clean", true: "dirty"}[h.Dirty])
	field(w, "Checksum", "%s", checksumStr(h.Checksum, h.ChecksumComputed))
	if l := pi.Log; l != nil {
		fmt.Fprintf(w, "\nPMEM LOG Header:\n")
		hex(loglayout.DescOffset, loglayout.DumpSize)
		field(w, "Start offset", "0x%x", l.StartOffset)
		field(w, "Write offset", "0x%x [%s]", l.WriteOffset, map[bool]string{false: "ERROR", true: "OK"}[l.WriteOffsetOK])
		field(w, "End offset", "0x%x", l.EndOffset)
	}
	if o := pi.Obj; o != nil {
		fmt.Fprintf(w, "\nPMEM OBJ Header:\n")
		hex(objlayout.DescOffset, objlayout.RuntimeEnd-objlayout.DescOffset)
		name := o.Layout
		if o.LayoutZero {
			name = "(null)"
		}
		field(w, "Layout", "%s", name)
		field(w, "Lanes offset", "0x%x", o.LanesOffset)
		field(w, "Number of lanes", "%d", o.NLanes)
		field(w, "Heap offset", "0x%x", o.HeapOffset)
		field(w, "Heap size", "%d", o.HeapSize)
		field(w, "Checksum", "%s", checksumStr(o.Checksum, o.ChecksumComputed))
		field(w, "Root offset", "0x%x", o.RootOffset)
		if verbose {
			field(w, "Run id", "%d", o.RunID)
		}
	}
	if b := pi.Blk; b != nil {
		fmt.Fprintf(w, "\nPMEM BLK Header:\n")
		hex(blklayout.BSizeAt, blklayout.StructSize-pool.HeaderSize)
		field(w, "Block size", "%s", sizeStr(uint64(b.BSize), human))
		field(w, "Is zeroed", "%t", b.IsZeroed)
		if len(pi.Arenas) == 0 && pi.BTTOffsetOK {
			fmt.Fprintf(w, "\n<No BTT layout>\n")
		}
	}
}

// write prints an info block under title.
func (a *BTTInfoBlock) write(w io.Writer, title string, raw []byte, human bool) {
	fmt.Fprint(w, title)
	if raw != nil {
		hexdumpSep(w, raw, a.Offset)
	}
	field(w, "Signature", "%s", a.Signature)
	field(w, "UUID of container", "%s", a.ParentUUID)
	field(w, "Flags", "0x%x", a.Flags)
	field(w, "Major", "%d", a.Major)
	field(w, "Minor", "%d", a.Minor)
	field(w, "External LBA size", "%s", sizeStr(uint64(a.ExternalLBASize), human))
	field(w, "External LBA count", "%d", a.ExternalNLBA)
	field(w, "Internal LBA size", "%s", sizeStr(uint64(a.InternalLBASize), human))
	field(w, "Internal LBA count", "%d", a.InternalNLBA)
	field(w, "Free blocks", "%d", a.NFree)
	field(w, "Info block size", "%s", sizeStr(uint64(a.InfoSize), human))
	field(w, "Next arena offset", "0x%x", a.NextOff)
	field(w, "Arena data offset", "0x%x", a.DataOff)
	field(w, "Area map offset", "0x%x", a.MapOff)
	field(w, "Area flog offset", "0x%x", a.FlogOff)
	field(w, "Info block backup offset", "0x%x", a.InfoOff)
	field(w, "Checksum", "%s", checksumStr(a.Checksum, a.ChecksumComputed))
}

var alignmentNames = []string{"  char", "  short", "  int", "  long", "  long long", "  size_t",
	"  os_off_t", "  float", "  double", "  long double", "  void *"}

func machineClassStr(c uint8) string {
	switch c {
	case 1:
		return "32"
	case 2:
		return "64"
	}
	return "unknown"
}

func dataStr(d uint8) string {
	switch d {
	case 1:
		return "2's complement, little endian"
	case 2:
		return "2's complement, big endian"
	}
	return "unknown"
}

func machineStr(m uint16) string {
	switch m {
	case pool.MachineX86_64:
		return "AMD X86-64"
	case pool.MachineAArch64:
		return "Aarch64"
	case pool.MachinePPC64:
		return "PPC64"
	case pool.MachineRISCV64:
		return "RISCV"
	}
	return fmt.Sprintf("unknown %d", m)
}

// fileExists is used by create and rm.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// timeStr formats a creation time as C's pmempool does (local time), or
// "unknown" when localtime cannot represent it (a year beyond int).
func timeStr(crtime uint64) string {
	secs := int64(crtime)
	const secsPerYear = 31556952
	if y := secs / secsPerYear; y > 1<<31-1-1900-70 || y < -(1<<31)+1900+70 {
		return "unknown"
	}
	return time.Unix(secs, 0).Local().Format("Mon Jan 02 2006 15:04:05")
}

// sizeStr formats a size as C's out_get_size_str: bytes, or with human
// one decimal and a K/M/G/T unit.
func sizeStr(n uint64, human bool) string {
	if !human || n < 1024 {
		return fmt.Sprintf("%d", n)
	}
	d, i := float64(n), -1
	for c := n; c >= 1024 && i < 4; c /= 1024 {
		d /= 1024
		i++
	}
	if i == 4 {
		return fmt.Sprintf("%.1f", d) // C's unit table ends in a NUL
	}
	return fmt.Sprintf("%.1f%c", d, "KMGT"[i])
}

// FormatSize formats n bytes as pmempool does for people (info -n, create
// -v): "2.0M", "512".
func FormatSize(n uint64) string { return sizeStr(n, true) }
