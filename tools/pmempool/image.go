package pmempool

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
)

// On-media facts of log and blk pools (PMDK 1.12.1 log.h, blk.h,
// btt_layout.h) that the tools read directly.
const (
	logDescOff      = pool.HeaderSize // struct pmemlog after its pool_hdr
	logStartAt      = logDescOff      // start_offset
	logEndAt        = logDescOff + 8  // end_offset
	logWriteAt      = logDescOff + 16 // write_offset
	logDataStart    = 2 * 4096        // start_offset C writes: sizeof(struct pmemlog) page-rounded
	blkBSizeAt      = pool.HeaderSize // bsize, u32
	blkZeroedAt     = blkBSizeAt + 4  // is_zeroed, u32
	blkStructSize   = 4200            // sizeof(struct pmemblk), release build on x86-64
	logDescDumpSize = 80              // struct pmemlog after its pool_hdr, as pmempool info -x dumps it
	blkBTTOff       = 2 * 4096        // the BTT starts on the next page after struct pmemblk
	bttAlign        = 4096
	bttInfoSize     = 4096
	bttMaxArena     = 1 << 39
	bttMinSize      = 16 << 20
	bttMinLBA       = 512
	bttLBAAlign     = 256
	bttNFree        = 256
	bttFlogSize     = 16
	bttFlogPair     = 64
	bttMapEntry     = 4
	bttMapLBAMask   = 0x3fffffff
	bttMapError     = 0x40000000
	bttMapZero      = 0x80000000
	bttMapFlagMask  = 0xC0000000
	bttSig          = "BTT_ARENA_INFO\x00\x00"
)

// PoolType is the kind of pool a file holds, from its signature.
type PoolType int

// Pool types pmempool knows.
const (
	TypeUnknown PoolType = iota
	TypeLog
	TypeBlk
	TypeObj
)

func (t PoolType) String() string {
	switch t {
	case TypeLog:
		return "log"
	case TypeBlk:
		return "blk"
	case TypeObj:
		return "obj"
	}
	return "unknown"
}

// typeOfSignature maps a pool header signature to its type.
func typeOfSignature(sig string) PoolType {
	switch sig {
	case pool.Log.Signature:
		return TypeLog
	case pool.Blk.Signature:
		return TypeBlk
	case pool.Obj.Signature:
		return TypeObj
	}
	return TypeUnknown
}

func kindOf(t PoolType) pool.Kind {
	switch t {
	case TypeLog:
		return pool.Log
	case TypeBlk:
		return pool.Blk
	}
	return pool.Obj
}

// image is a pool file mapped privately: reads see the file, writes stay in
// memory until flush copies the dirty ranges to the file. A repair thus
// changes nothing unless it completes.
type image struct {
	f     *os.File
	b     []byte // the exact slice unix.Mmap returned
	size  uint64
	mtime int64
	dirty [][2]uint64 // [off, end) ranges written in memory
}

func openImage(path string, write bool) (*image, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("pmempool: %s: not a regular file", path)
	}
	im := &image{f: f, size: uint64(st.Size()), mtime: st.ModTime().Unix()}
	if st.Size() > 0 {
		im.b, err = unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
		if err != nil {
			f.Close()
			return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
		}
	}
	return im, nil
}

func (im *image) close() error {
	var err error
	if im.b != nil {
		err = unix.Munmap(im.b)
		im.b = nil
	}
	if e := im.f.Close(); err == nil {
		err = e
	}
	return err
}

// has reports whether [off, off+n) lies inside the image.
func (im *image) has(off, n uint64) bool {
	end := off + n
	return end >= off && end <= im.size
}

// bytes returns [off, off+n) or a CorruptError naming field when the range
// is outside the file.
func (im *image) bytes(off, n uint64, field string) ([]byte, error) {
	if !im.has(off, n) {
		return nil, core.Corrupt(int64(min(off, 1<<63-1)), field, fmt.Sprintf("range inside the %d-byte file", im.size), fmt.Sprintf("%d bytes at %d", n, off))
	}
	return im.b[off : off+n], nil
}

func (im *image) u32(off uint64) uint32 { return binary.LittleEndian.Uint32(im.b[off:]) }
func (im *image) u64(off uint64) uint64 { return binary.LittleEndian.Uint64(im.b[off:]) }

func (im *image) write(off uint64, p []byte) {
	copy(im.b[off:], p)
	im.dirty = append(im.dirty, [2]uint64{off, off + uint64(len(p))})
}

func (im *image) putU32(off uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	im.write(off, b[:])
}

func (im *image) putU64(off uint64, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	im.write(off, b[:])
}

// flush writes the dirty ranges to the file and syncs it.
func (im *image) flush() error {
	if len(im.dirty) == 0 {
		return nil
	}
	sort.Slice(im.dirty, func(i, j int) bool { return im.dirty[i][0] < im.dirty[j][0] })
	for _, r := range im.dirty {
		if _, err := im.f.WriteAt(im.b[r[0]:r[1]], int64(r[0])); err != nil {
			return err
		}
	}
	im.dirty = nil
	return im.f.Sync()
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// bttInfo is a decoded BTT info block (struct btt_info).
type bttInfo struct {
	Sig             [16]byte
	UUID            [16]byte
	ParentUUID      [16]byte
	Flags           uint32
	Major, Minor    uint16
	ExternalLBASize uint32
	ExternalNLBA    uint32
	InternalLBASize uint32
	InternalNLBA    uint32
	NFree           uint32
	InfoSize        uint32
	NextOff         uint64
	DataOff         uint64
	MapOff          uint64
	FlogOff         uint64
	InfoOff         uint64
	Checksum        uint64
}

func decodeBTTInfo(b []byte) bttInfo {
	le := binary.LittleEndian
	var in bttInfo
	copy(in.Sig[:], b[0:16])
	copy(in.UUID[:], b[16:32])
	copy(in.ParentUUID[:], b[32:48])
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
	in.Checksum = le.Uint64(b[bttInfoSize-8:])
	return in
}

// encode writes the fields of in over b (bttInfoSize bytes), keeping the
// unused area as it is in b; the checksum field is written as in.Checksum.
func (in *bttInfo) encode(b []byte) {
	le := binary.LittleEndian
	copy(b[0:16], in.Sig[:])
	copy(b[16:32], in.UUID[:])
	copy(b[32:48], in.ParentUUID[:])
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
	le.PutUint64(b[bttInfoSize-8:], in.Checksum)
}

// bttInfoValid reports whether b holds an info block with the BTT
// signature and a correct checksum (pool_btt_info_valid).
func bttInfoValid(b []byte) bool {
	if string(b[:16]) != bttSig {
		return false
	}
	return pool.Checksum(b[:bttInfoSize], bttInfoSize-8, 0) == binary.LittleEndian.Uint64(b[bttInfoSize-8:])
}

// nextArenaOffset is where the arena after the one at off would start: the
// backup info block of the arena at off ends there.
func (im *image) nextArenaOffset(off uint64) uint64 {
	return min(off+bttMaxArena, im.size&^(bttAlign-1))
}

// firstValidBTT finds the first valid info block (or backup) from off on,
// as pool_get_first_valid_btt: its offset (0 if none), its content and
// whether every info block read was all zeros.
func (im *image) firstValidBTT(off uint64) (uint64, bttInfo, bool) {
	zeroed := true
	for ; off < im.size; off += bttMaxArena {
		next := im.nextArenaOffset(off)
		if next < bttInfoSize {
			break
		}
		for _, o := range []uint64{off, next - bttInfoSize} {
			if !im.has(o, bttInfoSize) {
				continue
			}
			b := im.b[o : o+bttInfoSize]
			zeroed = zeroed && isZero(b)
			if bttInfoValid(b) {
				return o, decodeBTTInfo(b), zeroed
			}
		}
	}
	return 0, bttInfo{}, zeroed
}

func roundUp(v, a uint64) uint64 { return (v + a - 1) / a * a }

func flogAreaSize(nfree uint32) uint64 {
	return roundUp(uint64(nfree)*roundUp(2*bttFlogSize, bttFlogPair), bttAlign)
}

func mapAreaSize(nlba uint32) uint64 { return roundUp(uint64(nlba)*bttMapEntry, bttAlign) }

func internalLBASize(ext uint32) uint32 {
	r := roundUp(uint64(max(ext, bttMinLBA)), bttLBAAlign)
	if r > 1<<32-1 {
		return 0
	}
	return uint32(r)
}

// setArenaGeometry fills the size and offset fields of in for an arena of
// arenaSize bytes with spaceLeft bytes after it (btt_info_set). ok is false
// when the arena cannot hold the layout.
func (in *bttInfo) setArenaGeometry(ext, nfree uint32, arenaSize, spaceLeft uint64) bool {
	ilba := internalLBASize(ext)
	overhead := 2*bttInfoSize + flogAreaSize(nfree) + bttAlign
	if ilba == 0 || arenaSize < overhead {
		return false
	}
	data := arenaSize - 2*bttInfoSize - flogAreaSize(nfree)
	inlba := (data - bttAlign) / (uint64(ilba) + bttMapEntry)
	if inlba < 2*uint64(nfree) || inlba > bttMapLBAMask {
		return false
	}
	in.ExternalLBASize, in.InternalLBASize, in.NFree, in.InfoSize = ext, ilba, nfree, bttInfoSize
	in.InternalNLBA = uint32(inlba)
	in.ExternalNLBA = uint32(inlba) - nfree
	in.DataOff = bttInfoSize
	in.NextOff = 0
	if spaceLeft >= bttMinSize {
		in.NextOff = arenaSize
	}
	in.InfoOff = arenaSize - bttInfoSize
	in.FlogOff = in.InfoOff - flogAreaSize(nfree)
	in.MapOff = in.FlogOff - mapAreaSize(in.ExternalNLBA)
	return true
}

// blkMaxBSize is the largest block size a blk pool of fsize bytes can
// have, as check_blk computes it (blk_get_max_bsize).
func blkMaxBSize(fsize uint64) uint32 {
	if fsize <= blkStructSize {
		return 0
	}
	arena := min(fsize-blkStructSize, bttMaxArena)
	over := 2*bttInfoSize + flogAreaSize(bttNFree)
	if arena < over+bttAlign {
		return 0
	}
	data := arena - over
	ilba := (data-bttAlign)/(2*bttNFree) - bttMapEntry
	ilba = max(ilba, bttMinLBA)
	ilba = roundUp(ilba, bttLBAAlign) - bttLBAAlign
	return uint32(min(ilba, 1<<32-1))
}
