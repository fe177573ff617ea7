package pmempool

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	objlayout "github.com/gopmdk/pmdk/obj/layout"
)

// ObjOptions are pmempool info's options for obj pools. The ranges use
// ParseRanges' syntax; "" is everything.
type ObjOptions struct {
	Lanes       bool   // -l: the lanes and the entries of their logs
	LaneRange   string // -r after -l: which lanes
	Recovery    bool   // -R: only the lanes that need recovery
	Objects     bool   // -O: the object store
	Types       string // -t: the type numbers of the objects shown and counted
	AllocHeader bool   // -A: each object's allocation header
	OOBHeader   bool   // -a: accepted; C 1.12.1 prints no out-of-band header (only indents)
	Root        bool   // -o: the root object
	Heap        bool   // -H: the heap header (and, with -Z/-C, zones and chunks)
	Zones       bool   // -Z: zone headers
	ZoneRange   string // -r after -Z: which zones
	Chunks      bool   // -C: chunk headers
	ChunkRange  string // -r after -C: which chunks (in each zone)
	ChunkTypes  string // -T: chunk types shown: footer, free, used, run (comma-separated)
	Bitmap      bool   // -b: the bitmaps of runs
}

// ParseChunkTypes parses -T's list of chunk type names (footer, free, used,
// run) into a bit mask of chunk types, failing as C does on any other.
func ParseChunkTypes(s string) (uint64, error) {
	var m uint64
	for name := range strings.SplitSeq(s, ",") {
		t := -1
		for i := 1; i < objMaxChunkType; i++ {
			if chunkTypeStr(uint16(i)) == name {
				t = i
				break
			}
		}
		if t < 0 {
			return 0, fmt.Errorf("'%s' -- cannot parse chunk type(s)", s)
		}
		m |= 1 << t
	}
	return m, nil
}

// objMaxChunkType is MAX_CHUNK_TYPE: the chunk types C counts.
const objMaxChunkType = objlayout.ChunkRunData + 1

// defaultChunkTypes are the chunk types info prints without -T.
const defaultChunkTypes = 1<<objlayout.ChunkFree | 1<<objlayout.ChunkUsed | 1<<objlayout.ChunkRun

func chunkTypeStr(t uint16) string {
	switch t {
	case objlayout.ChunkFooter:
		return "footer"
	case objlayout.ChunkFree:
		return "free"
	case objlayout.ChunkUsed:
		return "used"
	case objlayout.ChunkRun:
		return "run"
	}
	return "unknown"
}

func chunkFlagsStr(f uint16) string {
	switch {
	case f&objlayout.FlagCompactHeader != 0:
		return "compact header"
	case f&objlayout.FlagHeaderNone != 0:
		return "header none"
	}
	return ""
}

func zoneMagicStr(m uint32) string {
	s := fmt.Sprintf("wrong! should be 0x%X", objlayout.ZoneMagic)
	switch m {
	case 0:
		s = "uninitialized"
	case objlayout.ZoneMagic:
		s = "OK"
	}
	return fmt.Sprintf("0x%08x [%s]", m, s)
}

// errOffset is the error of a read outside the pool file: where C's info
// faults, and says "Invalid offset" from its signal handler.
type errOffset uint64

func (e errOffset) Error() string { return fmt.Sprintf("Invalid offset 0x%x", uint64(e)) }

// Unwrap makes a read outside the file a kind of corruption.
func (e errOffset) Unwrap() error { return core.ErrCorrupt }

// objPrinter prints what info_obj.c prints, in its order and with its
// verbosity rules: each part is printed when its option is set, and the
// statistics are gathered while walking the heap even when nothing of
// it is printed. The first failure (a read outside the file, a failed
// write) sticks in err: every read then returns zeros, every loop ends
// and nothing more is printed, as C's listing ends where it faults.
type objPrinter struct {
	err     error
	w       io.Writer
	im      *image
	o       *InfoOptions
	indent  int
	heapOff uint64
	heapSz  uint64
	// rootReal is the offset of the root's block (its header), as C's
	// memblock_from_offset finds it; ^0 when there is no root.
	rootReal                                uint64
	objR, typeR, zoneR, chunkR, laneR       []Range
	chunkTypes                              uint64
	objID                                   uint64
	nZones, nZonesUsed, nObjects, nObjBytes uint64
	zones                                   []objZoneStats
	typeStats                               map[uint64]*[2]uint64 // type number: objects, bytes
}

type objZoneStats struct {
	nChunks, sizeChunks uint64
	nType, sizeType     [objMaxChunkType]uint64
	classes             []objClassStats
}

type objClassStats struct {
	unit, align   uint64
	nallocs       uint32
	flags         uint16
	nUnits, nUsed uint64
}

// objBlock is a memory block: a huge block (unit ChunkSize) or a run unit.
type objBlock struct {
	real    uint64 // pool offset of the block (its object header)
	unit    uint64
	sizeIdx uint64 // 0: the size is read from the object header
	ht      objlayout.HeaderType
}

// need reports whether [off, off+n) is inside the file and no failure
// came before; a range outside sets err to errOffset.
func (p *objPrinter) need(off, n uint64) bool {
	if p.err != nil {
		return false
	}
	if !p.im.has(off, n) {
		if off < p.im.size {
			off = p.im.size
		}
		p.err = errOffset(off)
		return false
	}
	return true
}

func (p *objPrinter) u64(off uint64) uint64 {
	if !p.need(off, 8) {
		return 0
	}
	return p.im.u64(off)
}

func (p *objPrinter) field(v bool, name, format string, args ...any) {
	if v && p.err == nil {
		fmt.Fprintf(p.w, "%s%-24s : %s\n", strings.Repeat(" ", p.indent), name, fmt.Sprintf(format, args...))
	}
}

func (p *objPrinter) title(v bool, format string, args ...any) {
	if v && p.err == nil {
		fmt.Fprintf(p.w, "\n%s%s:\n", strings.Repeat(" ", p.indent), fmt.Sprintf(format, args...))
	}
}

func (p *objPrinter) line(v bool, format string, args ...any) {
	if v && p.err == nil {
		fmt.Fprintf(p.w, "%s%s", strings.Repeat(" ", p.indent), fmt.Sprintf(format, args...))
	}
}

func (p *objPrinter) nl(v bool) {
	if v && p.err == nil {
		fmt.Fprintln(p.w)
	}
}

func (p *objPrinter) ind(v bool, d int) {
	if v {
		p.indent = min(max(p.indent+d, 0), 32)
	}
}

// stopped reports a failure so far, taking the writer's as one: a
// reader gone, or a listing cut short, ends the walk.
func (p *objPrinter) stopped() bool {
	if ew, ok := p.w.(*errWriter); ok && ew.err != nil && p.err == nil {
		p.err = ew.err
	}
	return p.err != nil
}

func (p *objPrinter) hex(v bool, off, n uint64) {
	if !p.stopped() && v && n > 0 && p.need(off, n) {
		hexdumpSep(p.w, p.im.b[off:off+n], off)
	}
}

func (p *objPrinter) size(n uint64) string { return sizeStr(n, p.o.Human) }

// writeObj prints the obj part of info after the descriptor: lanes, root
// object, heap header, zones and chunks with their objects, statistics.
// A read outside the file ends it with an errOffset error.
func writeObj(w io.Writer, im *image, o *InfoOptions, oi *ObjInfo) error {
	p := &objPrinter{w: w, im: im, o: o, heapOff: oi.HeapOffset, heapSz: oi.HeapSize,
		rootReal: math.MaxUint64, typeStats: map[uint64]*[2]uint64{}, chunkTypes: defaultChunkTypes}
	var err error
	for _, r := range []struct {
		spec string
		dst  *[]Range
	}{{o.Range, &p.objR}, {o.Obj.Types, &p.typeR}, {o.Obj.ZoneRange, &p.zoneR}, {o.Obj.ChunkRange, &p.chunkR}, {o.Obj.LaneRange, &p.laneR}} {
		if *r.dst, err = ParseRanges(r.spec, math.MaxUint64); err != nil {
			return err
		}
	}
	if o.Obj.ChunkTypes != "" {
		if p.chunkTypes, err = ParseChunkTypes(o.Obj.ChunkTypes); err != nil {
			return err
		}
	}
	p.lanes(oi)
	if err := p.root(oi); err != nil || p.stopped() {
		return cmp.Or(err, p.err)
	}
	p.heapHeader()
	if err := p.zonesChunks(); err != nil || p.stopped() {
		return cmp.Or(err, p.err)
	}
	p.stats()
	return p.err
}

func inRanges(rs []Range, n uint64) bool {
	for _, r := range rs {
		if n >= r.First && n <= r.Last {
			return true
		}
	}
	return false
}

// realSize is the block's size with its header (block_get_real_size).
func (p *objPrinter) realSize(b objBlock) uint64 {
	if b.sizeIdx != 0 {
		return b.unit * b.sizeIdx
	}
	switch b.ht {
	case objlayout.HeaderCompact:
		return p.u64(b.real) & objlayout.HeaderSizeMask
	case objlayout.HeaderLegacy:
		return p.u64(b.real + objlayout.LegacySizeAt)
	}
	return b.unit
}

func (p *objPrinter) header(b objBlock) objlayout.ObjectHeader {
	n := b.ht.Size()
	if !p.need(b.real, n) {
		return objlayout.ObjectHeader{}
	}
	return objlayout.DecodeObjectHeader(b.ht, p.im.b[b.real:b.real+n])
}

// chunkHeader reads chunk c's header of zone z.
func (p *objPrinter) chunkHeader(z uint32, c uint64) (objlayout.ChunkHeader, uint64) {
	off := p.heapOff + objlayout.ZoneOffset(z) + objlayout.ZoneHeaderSize + c*objlayout.ChunkHeaderSize
	return objlayout.DecodeChunkHeader(p.u64(off)), off
}

func chunkData(heapOff uint64, z uint32, c uint64) uint64 {
	return heapOff + objlayout.ZoneOffset(z) + objlayout.ZoneMetaSize + c*objlayout.ChunkSize
}

// run is what a run chunk says of its units.
type objRun struct {
	unit, align uint64
	bm          objlayout.RunBitmap
	data        uint64 // pool offset of unit 0
	ht          objlayout.HeaderType
}

func (p *objPrinter) run(h objlayout.ChunkHeader, at uint64) (objRun, error) {
	r := objRun{unit: p.u64(at), align: p.u64(at + 8), ht: h.HeaderType()}
	if p.err != nil {
		return r, p.err
	}
	if r.unit == 0 || h.SizeIdx == 0 {
		return r, fmt.Errorf("run at 0x%x: block size %d, %d chunks", at, r.unit, h.SizeIdx)
	}
	r.bm, _ = objlayout.RunBitmapOf(h.SizeIdx, h.Flags, r.unit, r.align)
	r.data = at + objlayout.RunDataOffset(r.bm, h.Flags, r.ht.Size(), r.align, at)
	return r, nil
}

// fromOffset finds the block whose user data is at off, with C's
// arithmetic (memblock_from_offset), and its size index from its header.
func (p *objPrinter) fromOffset(off uint64) (objBlock, error) {
	o := off - (p.heapOff + objlayout.HeapHeaderSize)
	z := uint32(o / objlayout.ZoneMaxSize)
	o -= objlayout.ZoneMaxSize*uint64(z) + objlayout.ZoneMetaSize
	c := uint64(uint32(o / objlayout.ChunkSize))
	h, _ := p.chunkHeader(z, c)
	if h.Type == objlayout.ChunkRunData {
		c = uint64(uint32(c) - h.SizeIdx)
	}
	o -= objlayout.ChunkSize * c
	h, _ = p.chunkHeader(z, c)
	b := objBlock{ht: h.HeaderType(), unit: objlayout.ChunkSize, real: chunkData(p.heapOff, z, c)}
	o -= b.ht.Size()
	if o != 0 {
		r, err := p.run(h, b.real)
		if err != nil {
			return b, err
		}
		o -= r.data - b.real
		b.unit, b.real = r.unit, r.data+uint64(uint16(o/r.unit))*r.unit
	}
	b.sizeIdx = objlayout.CalcSizeIdx(b.unit, p.realSize(b))
	return b, nil
}

func (p *objPrinter) isRoot(b objBlock) bool { return b.real == p.rootReal }

func (p *objPrinter) root(oi *ObjInfo) error {
	v := p.o.Obj.Root
	if oi.RootOffset == 0 {
		p.line(v, "\nNo root object...\n")
		return nil
	}
	// As C, the root's block is looked up even when not printed.
	b, err := p.fromOffset(oi.RootOffset)
	if err != nil {
		return err
	}
	p.rootReal = b.real
	p.title(v, "Root object")
	p.field(v, "Offset", "0x%016x", oi.RootOffset)
	p.field(v, "Size", "%s", p.size(oi.RootSize))
	p.objectHeader(v, false, b, 0)
	return nil
}

func (p *objPrinter) objectHeader(v, vid bool, b objBlock, id uint64) {
	user := b.real + b.ht.Size()
	p.nl(vid)
	p.field(vid, "Object", "%d", id)
	p.field(vid, "Offset", "0x%016x", user)
	vahdr, voob := v && p.o.Obj.AllocHeader, v && p.o.Obj.OOBHeader
	p.ind(vahdr || voob, 1)
	if vahdr {
		h := p.header(b)
		p.title(true, "Allocation Header")
		p.field(true, "Size", "%s", p.size(p.realSize(b)-b.ht.Size()))
		p.field(true, "Extra", "%d", h.TypeNum)
		p.field(true, "Flags", "0x%x", h.Flags)
	}
	if v && p.o.Data {
		p.hex(true, user, p.realSize(b))
	}
	p.ind(vahdr || voob, -1)
}

func (p *objPrinter) heapHeader() {
	v := p.o.Obj.Heap
	if !p.need(p.heapOff, objlayout.HeapHeaderSize) {
		return
	}
	b := p.im.b[p.heapOff : p.heapOff+objlayout.HeapHeaderSize]
	hh := objlayout.DecodeHeapHeader(b)
	p.line(v, "\nPMEMOBJ Heap Header:\n")
	p.hex(v && p.o.HeadersHex, p.heapOff, objlayout.HeapHeaderSize)
	sig := hh.Signature[:]
	if i := bytes.IndexByte(sig, 0); i >= 0 {
		sig = sig[:i]
	}
	p.field(v, "Signature", "%s", sig)
	p.field(v, "Major", "%d", int64(hh.Major))
	p.field(v, "Minor", "%d", int64(hh.Minor))
	p.field(v, "Chunk size", "%s", p.size(hh.ChunkSize))
	p.field(v, "Chunks per zone", "%d", int64(hh.ChunksPerZone))
	p.field(v, "Checksum", "%s", checksumStr(hh.Checksum, pool.Checksum(b, objlayout.HeapChecksumAt, 0)))
}

// zoneStats returns zone z's statistics, growing the table to it.
func (p *objPrinter) zoneStats(z uint64) *objZoneStats {
	for uint64(len(p.zones)) <= z {
		p.zones = append(p.zones, objZoneStats{})
	}
	return &p.zones[z]
}

func (p *objPrinter) zonesChunks() error {
	if !p.o.Obj.Heap && !p.o.Stats && !p.o.Obj.Objects {
		return nil
	}
	maxZone := uint64(objlayout.MaxZone(p.heapSz))
	p.nZones = maxZone
	var last uint64 // zones after the last one asked for are skipped at once
	for _, r := range p.zoneR {
		last = max(last, r.Last)
	}
	for z := uint64(0); z < maxZone && z <= last && !p.stopped(); z++ {
		if !inRanges(p.zoneR, z) {
			continue
		}
		zoneOff := p.heapOff + objlayout.ZoneOffset(uint32(z))
		vvv := p.o.Obj.Heap && (p.o.Obj.Zones || p.o.Obj.Chunks)
		p.title(vvv, "Zone %d", z)
		zh := objlayout.DecodeZoneHeader(p.u64(zoneOff))
		if zh.Magic == objlayout.ZoneMagic {
			p.nZonesUsed++
		}
		v := p.o.Obj.Heap && p.o.Obj.Zones
		p.hex(v && p.o.HeadersHex, zoneOff, objlayout.ZoneHeaderSize)
		p.field(v, "Magic", "%s", zoneMagicStr(zh.Magic))
		p.field(v, "Size idx", "%d", zh.SizeIdx)
		p.ind(vvv, 1)
		if err := p.zoneChunks(uint32(z), zh, p.zoneStats(z)); err != nil {
			return err
		}
		p.ind(vvv, -1)
	}
	return nil
}

func (p *objPrinter) zoneChunks(z uint32, zh objlayout.ZoneHeader, st *objZoneStats) error {
	st.classes = append(st.classes[:0], objClassStats{unit: objlayout.ChunkSize})
	for c := uint64(0); c < uint64(zh.SizeIdx) && !p.stopped(); {
		h, _ := p.chunkHeader(z, c)
		if inRanges(p.chunkR, c) {
			if h.Type < objMaxChunkType && p.chunkTypes&(1<<h.Type) != 0 {
				st.nChunks++
				st.nType[h.Type]++
				st.sizeChunks += uint64(h.SizeIdx)
				st.sizeType[h.Type] += uint64(h.SizeIdx)
				if err := p.chunk(z, c, h, st); err != nil {
					return err
				}
			}
			if h.SizeIdx > 1 && h.Type != objlayout.ChunkRun && p.chunkTypes&(1<<objlayout.ChunkFooter) != 0 {
				f := c + uint64(h.SizeIdx) - 1
				fh, _ := p.chunkHeader(z, f)
				if err := p.chunk(z, f, fh, st); err != nil {
					return err
				}
			}
		}
		if h.SizeIdx == 0 && p.err == nil {
			// C loops here for ever.
			return fmt.Errorf("zone %d: chunk %d: size 0", z, c)
		}
		c += uint64(h.SizeIdx)
	}
	return nil
}

func (p *objPrinter) chunk(z uint32, c uint64, h objlayout.ChunkHeader, st *objZoneStats) error {
	v := p.o.Obj.Chunks
	p.line(v, "\n")
	p.field(v, "Chunk", "%d", c)
	_, hdrOff := p.chunkHeader(z, c)
	p.hex(v && p.o.HeadersHex, hdrOff, objlayout.ChunkHeaderSize)
	p.field(v, "Type", "%s", chunkTypeStr(h.Type))
	p.field(v, "Flags", "0x%x %s", h.Flags, chunkFlagsStr(h.Flags))
	p.field(v, "Size idx", "%d", h.SizeIdx)
	at := chunkData(p.heapOff, z, c)
	switch h.Type {
	case objlayout.ChunkUsed, objlayout.ChunkFree:
		st.classes[0].nUnits += uint64(h.SizeIdx)
		if h.Type == objlayout.ChunkUsed {
			st.classes[0].nUsed += uint64(h.SizeIdx)
			b := objBlock{real: at, unit: objlayout.ChunkSize, sizeIdx: uint64(h.SizeIdx), ht: h.HeaderType()}
			if !p.isRoot(b) {
				p.object(b)
			}
		}
	case objlayout.ChunkRun:
		p.hex(v && p.o.HeadersHex, at, objlayout.RunHeaderSize)
		r, err := p.run(h, at)
		if err != nil {
			return err
		}
		cs := p.classStats(st, r, h.Flags)
		p.field(v, "Block size", "%s", p.size(r.unit))
		words := at + objlayout.RunHeaderSize
		if !p.need(words, uint64(r.bm.NValues)*8) {
			return nil
		}
		var free uint64
		for i := range uint64(r.bm.NValues) {
			free += uint64(bits.OnesCount64(^p.im.u64(words + 8*i)))
		}
		units := uint64(r.bm.NBits)
		used := units - free
		cs.nUnits += units
		cs.nUsed += used
		p.field(v, "Bitmap", "%d / %d", uint32(used), r.bm.NBits)
		if v && p.o.Obj.Bitmap {
			i := uint64(0)
			for ; i < units/64; i++ {
				p.line(true, "%s\n", bitmapStr(p.u64(words+8*i), 64))
			}
			if mod := units % 64; mod != 0 {
				p.line(true, "%s\n", bitmapStr(p.u64(words+8*i), mod))
			}
		}
		// The used units, each object once (run_iterate_used).
		for i := range uint64(r.bm.NValues) {
			w := p.im.u64(words + 8*i)
			for j := uint64(0); j < 64 && 64*i+j < units && !p.stopped(); {
				if w&(1<<j) == 0 {
					j++
					continue
				}
				b := objBlock{real: r.data + (64*i+j)*r.unit, unit: r.unit, ht: r.ht}
				if !p.isRoot(b) {
					p.object(b)
				}
				// A unit count of 0 (a damaged header) would stall C.
				j += max(objlayout.CalcSizeIdx(r.unit, p.realSize(b)), 1)
			}
		}
	}
	return nil
}

// bitmapStr draws n bits of a bitmap word: x used, . free, a space every 8.
func bitmapStr(w uint64, n uint64) string {
	var sb strings.Builder
	for i := range n {
		if w&(1<<i) != 0 {
			sb.WriteByte('x')
		} else {
			sb.WriteByte('.')
		}
		if (i+1)%8 == 0 {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

func (p *objPrinter) classStats(st *objZoneStats, r objRun, flags uint16) *objClassStats {
	return getClass(&st.classes, objClassStats{unit: r.unit, align: r.align, nallocs: r.bm.NBits, flags: flags})
}

func getClass(cs *[]objClassStats, k objClassStats) *objClassStats {
	for i := range *cs {
		c := &(*cs)[i]
		if c.unit == k.unit && c.align == k.align && c.nallocs == k.nallocs && c.flags == k.flags {
			return c
		}
	}
	*cs = append(*cs, k)
	return &(*cs)[len(*cs)-1]
}

func (p *objPrinter) object(b objBlock) {
	if p.stopped() {
		return
	}
	id := p.objID
	p.objID++
	if !inRanges(p.objR, id) {
		return
	}
	typeNum := p.header(b).TypeNum
	if !inRanges(p.typeR, typeNum) {
		return
	}
	rs := p.realSize(b)
	p.nObjects++
	p.nObjBytes += rs
	ts := p.typeStats[typeNum]
	if ts == nil {
		ts = &[2]uint64{}
		p.typeStats[typeNum] = ts
	}
	ts[0]++
	ts[1] += rs
	v := p.o.Obj.Objects
	p.ind(v, 1)
	p.objectHeader(v, v, b, id)
	p.ind(v, -1)
}

// pct is C's out_get_percentage of 100.0 * n / total, with C's words for
// a zero total (x86's 0/0 is a negative NaN).
func pct(n, total uint64) string {
	switch {
	case total != 0:
		return percentage(100.0 * float64(n) / float64(total))
	case n == 0:
		return "-nan %"
	}
	return "inf %"
}

func (p *objPrinter) stats() {
	v := p.o.Stats
	if !v {
		return
	}
	p.title(v, "Statistics")
	p.title(v, "Objects")
	p.field(v, "Number of objects", "%d", p.nObjects)
	p.field(v, "Number of bytes", "%s", p.size(p.nObjBytes))
	p.title(v, "Objects by type")
	p.ind(v, 1)
	types := make([]uint64, 0, len(p.typeStats))
	for t := range p.typeStats {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, t := range types {
		ts := p.typeStats[t]
		p.nl(v)
		p.field(v, "Type number", "%d", t)
		p.field(v, "Number of objects", "%d [%s]", ts[0], pct(ts[0], p.nObjects))
		p.field(v, "Number of bytes", "%s [%s]", p.size(ts[1]), pct(ts[1], p.nObjBytes))
	}
	p.ind(v, -1)
	p.title(v, "Heap")
	p.field(v, "Number of zones", "%d", p.nZones)
	p.field(v, "Number of used zones", "%d [%s]", p.nZonesUsed, pct(p.nZonesUsed, p.nZones))
	var total objZoneStats
	p.ind(v, 1)
	for i := range p.nZonesUsed {
		p.title(v, "Zone %d", i)
		zs := p.zoneStats(i)
		p.chunkStats(zs)
		p.title(v, "Zone's allocation classes")
		p.classesStats(zs)
		total.nChunks += zs.nChunks
		total.sizeChunks += zs.sizeChunks
		for t := range objMaxChunkType {
			total.nType[t] += zs.nType[t]
			total.sizeType[t] += zs.sizeType[t]
		}
		for _, c := range zs.classes {
			tc := getClass(&total.classes, objClassStats{unit: c.unit, align: c.align, nallocs: c.nallocs, flags: c.flags})
			tc.nUnits += c.nUnits
			tc.nUsed += c.nUsed
		}
	}
	p.ind(v, -1)
	if p.nZonesUsed > 1 {
		p.title(v, "Total zone's statistics")
		p.title(v, "Chunks statistics")
		p.chunkStats(&total)
		p.title(v, "Allocation classes")
		p.classesStats(&total)
	}
}

func (p *objPrinter) chunkStats(zs *objZoneStats) {
	p.field(true, "Number of chunks", "%d", zs.nChunks)
	p.ind(true, 1)
	for t := range uint16(objMaxChunkType) {
		if n := zs.nType[t]; n != 0 {
			p.field(true, chunkTypeStr(t), "%d [%s]", n, pct(n, zs.nChunks))
		}
	}
	p.ind(true, -1)
	p.nl(true)
	p.field(true, "Total chunks size", "%s", p.size(zs.sizeChunks))
	p.ind(true, 1)
	for t := range uint16(objMaxChunkType) {
		if n := zs.sizeType[t]; n != 0 {
			p.field(true, chunkTypeStr(t), "%d [%s]", n, pct(n, zs.sizeChunks))
		}
	}
	p.ind(true, -1)
}

func (p *objPrinter) classesStats(zs *objZoneStats) {
	var totalBytes, totalUsed uint64
	p.ind(true, 1)
	for _, c := range zs.classes {
		if c.nUnits == 0 {
			continue
		}
		p.nl(true)
		p.field(true, "Unit size", "%s", p.size(c.unit))
		p.field(true, "Units", "%d", c.nUnits)
		p.field(true, "Used units", "%d [%s]", c.nUsed, pct(c.nUsed, c.nUnits))
		b, u := c.unit*c.nUnits, c.unit*c.nUsed
		totalBytes += b
		totalUsed += u
		p.field(true, "Bytes", "%s", p.size(b))
		p.field(true, "Used bytes", "%s [%s]", p.size(u), pct(u, b))
	}
	p.ind(true, -1)
	usedPct := percentage(0)
	if totalBytes != 0 {
		usedPct = pct(totalUsed, totalBytes)
	}
	p.nl(true)
	p.field(true, "Total bytes", "%s", p.size(totalBytes))
	p.field(true, "Total used bytes", "%s [%s]", p.size(totalUsed), usedPct)
}

// lanes prints the lanes and the entries of their logs (-l), or with -R
// only the lanes whose logs need recovery.
func (p *objPrinter) lanes(oi *ObjInfo) {
	v := p.o.Obj.Lanes
	if !v {
		return
	}
	for _, r := range p.laneR {
		for i := r.First; i <= r.Last && i < oi.NLanes && !p.stopped(); i++ {
			lane := oi.LanesOffset + i*objlayout.LaneSize
			undo, internal, external := lane+objlayout.LaneUndoAt, lane+objlayout.LaneInternalAt, lane+objlayout.LaneExternalAt
			if p.o.Obj.Recovery && !p.recoveryNeeded(external, true) && !p.recoveryNeeded(internal, true) && !p.recoveryNeeded(undo, false) {
				continue
			}
			p.title(v, "Lane %d", i)
			p.ind(v, 1)
			p.title(v, "Undo Log")
			p.ind(v, 1)
			p.ulog(undo)
			p.ind(v, -1)
			p.nl(v)
			p.title(v, "Internal Undo Log")
			p.ind(v, 1)
			p.ulog(internal)
			p.ind(v, -1)
			p.title(v, "External Undo Log")
			p.ind(v, 1)
			p.ulog(external)
			p.ind(v, -1)
			p.ind(v, -1)
		}
	}
}

func (p *objPrinter) ulogHeader(off uint64) objlayout.UlogHeader {
	if !p.need(off, objlayout.UlogHeaderSize) {
		return objlayout.UlogHeader{}
	}
	return objlayout.DecodeUlogHeader(p.im.b[off:])
}

// entry returns the size of the ulog entry at off and whether it is
// valid for a log of generation gen (ulog_entry_valid); size 0: an
// operation C does not know, where its walk would stall.
func (p *objPrinter) entry(off, gen uint64) (size uint64, valid bool) {
	w := p.u64(off)
	if w == 0 {
		return 0, false
	}
	switch objlayout.EntryOp(w) {
	case objlayout.OpSet, objlayout.OpAnd, objlayout.OpOr:
		return objlayout.ValEntrySize, true
	case objlayout.OpBufSet, objlayout.OpBufCpy:
		size = objlayout.BufEntrySize(p.u64(off + 16))
		if !p.need(off, size) {
			return 0, false
		}
		return size, objlayout.BufEntryChecksum(p.im.b[off:off+size], gen) == p.u64(off+8)
	}
	return 0, true
}

// entries calls fn with the offset of each valid entry of the log at off
// and of the logs linked after it, as ulog_foreach_entry walks them; fn
// returning false stops.
func (p *objPrinter) entries(off uint64, fn func(e uint64) bool) {
	gen := p.ulogHeader(off).GenNum
	seen := map[uint64]bool{}
	for r := off; r != 0 && !seen[r]; {
		seen[r] = true
		h := p.ulogHeader(r)
		data := r + objlayout.UlogHeaderSize
		for o := uint64(0); o < h.Capacity; {
			size, ok := p.entry(data+o, gen)
			if !ok || size == 0 || !fn(data+o) {
				return
			}
			o += size
		}
		if h.Next == 0 {
			return
		}
		r = objlayout.AlignedUlogOffset(h.Next)
	}
}

// recoveryNeeded is ulog_recovery_needed: the log holds valid entries
// (and, for redo logs, its checksum over them is right).
func (p *objPrinter) recoveryNeeded(off uint64, verify bool) bool {
	h := p.ulogHeader(off)
	data := off + objlayout.UlogHeaderSize
	var n uint64
	for n < h.Capacity {
		size, ok := p.entry(data+n, h.GenNum)
		if !ok || size == 0 {
			break
		}
		n += size
	}
	n = min(n, h.Capacity)
	if n == 0 {
		return false
	}
	if verify {
		if !p.need(off, objlayout.UlogHeaderSize+n) {
			return false
		}
		return objlayout.UlogChecksum(p.im.b[off:off+objlayout.UlogHeaderSize+n]) == h.Checksum
	}
	return true
}

func (p *objPrinter) ulog(off uint64) {
	p.title(true, "Log entries")
	var i uint64
	p.entries(off, func(e uint64) bool {
		w := p.u64(e)
		switch objlayout.EntryOp(w) {
		case objlayout.OpSet, objlayout.OpAnd, objlayout.OpOr:
			p.line(true, "%010d: Offset: 0x%016x Value: 0x%016x ", i, objlayout.EntryOffset(w), p.u64(e+8))
		default:
			p.line(true, "%010d: Offset: 0x%016x Size: %s ", i, objlayout.EntryOffset(w), p.size(p.u64(e+16)))
		}
		i++
		return true
	})
}
