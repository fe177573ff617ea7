package pmempool

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
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

// openImage maps the pool file at path, locked as the libraries lock it
// (pool.Lock): every command that reads or changes a pool refuses one in
// use, with an error wrapping pool.ErrLocked and EWOULDBLOCK, as C's
// pmempool does (C takes the exclusive lock even to read).
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
	switch {
	case st.IsDir():
		err = &os.PathError{Op: "open", Path: path, Err: unix.EISDIR}
	case !st.Mode().IsRegular():
		err = fmt.Errorf("pmempool: %s: not a regular file", path)
	default:
		if err = pool.Lock(f); err != nil {
			err = &os.PathError{Op: "open", Path: path, Err: err}
		}
	}
	if err != nil {
		f.Close()
		return nil, err
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

// nextArenaOffset is where the arena after the one at off would start: the
// backup info block of the arena at off ends there.
func (im *image) nextArenaOffset(off uint64) uint64 {
	return min(off+blklayout.MaxArena, im.size&^(blklayout.Alignment-1))
}

// firstValidBTT finds the first valid info block (or backup) from off on,
// as pool_get_first_valid_btt: its offset (0 if none), its content and
// whether every info block read was all zeros.
func (im *image) firstValidBTT(off uint64) (uint64, blklayout.Info, bool) {
	zeroed := true
	for ; off < im.size; off += blklayout.MaxArena {
		next := im.nextArenaOffset(off)
		if next < blklayout.InfoSize {
			break
		}
		for _, o := range []uint64{off, next - blklayout.InfoSize} {
			if !im.has(o, blklayout.InfoSize) {
				continue
			}
			b := im.b[o : o+blklayout.InfoSize]
			zeroed = zeroed && pool.IsZero(b)
			if blklayout.InfoValid(b) {
				return o, blklayout.DecodeInfo(b), zeroed
			}
		}
	}
	return 0, blklayout.Info{}, zeroed
}
