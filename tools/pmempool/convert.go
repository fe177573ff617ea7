package pmempool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Obj pool layouts and the PMDK releases that write them, as pmdk-convert
// lists them: the layout version is the pool header's major number.
// [ConvertObjStep] takes a pool from one layout to the next.
const (
	ObjLayoutFirst = 1 // PMDK 1.0
	// ObjLayoutCurrent is the layout of PMDK 1.7 to 1.12, the one obj
	// opens.
	ObjLayoutCurrent = 6
)

// objReleases maps PMDK releases (major*100+minor) to their layouts, in
// pmdk-convert's order.
var objReleases = []struct{ release, layout int }{
	{100, 1}, {101, 2}, {102, 3}, {103, 4}, {104, 4}, {105, 5}, {106, 5},
	{107, 6}, {108, 6}, {109, 6}, {110, 6}, {111, 6}, {112, 6},
}

// ObjLayoutOfRelease returns the layout of the pools PMDK release rel
// (major*100+minor: 104 is 1.4) writes.
func ObjLayoutOfRelease(rel int) (int, bool) {
	for _, r := range objReleases {
		if r.release == rel {
			return r.layout, true
		}
	}
	return 0, false
}

// ObjLayoutReleases returns the releases that write layout l, as
// "major.minor" strings.
func ObjLayoutReleases(l int) []string {
	var s []string
	for _, r := range objReleases {
		if r.layout == l {
			s = append(s, fmt.Sprintf("%d.%d", r.release/100, r.release%100))
		}
	}
	return s
}

// ErrConvertPending is returned by [ConvertObjStep] for a pool whose lanes
// hold work its release has not finished (a transaction or an allocation
// cut off). pmdk-convert opens the pool with that release's libpmemobj,
// which recovers it; we do not carry the old releases' recovery code, so
// the pool must be opened once by that release (which recovers it) first.
var ErrConvertPending = errors.New("the pool's lanes hold unrecovered work")

// ErrConvertLayout is returned for a file that is not an obj pool of the
// layout a conversion step starts from.
var ErrConvertLayout = errors.New("not an obj pool of the expected layout")

// Offsets in old pools' descriptors (struct pmemobjpool of PMDK 1.0-1.6):
// the checksummed part is the same as today's; after it root_offset and
// run_id, then (from layout 4) root_size, conversion_flags and 512
// reserved bytes.
const (
	oldRootSizeAt        = layout.RootOffsetAt + 16
	oldConversionFlagsAt = layout.RootOffsetAt + 24
	oldReservedAt        = layout.RootOffsetAt + 32
	oldReservedSize      = 512
	oldSectionSize       = 1024 // lane sections of layouts 1-4
	oldOOBSizeAt         = 32   // size in the 48-byte object header of layout 3
	oldOOBSize           = 48
	oldInternalMask      = 1 << 63
)

// DetectObjLayout returns the layout of the obj pool at path: its header's
// major number, if the header is an obj pool header of a known layout
// with a valid checksum.
func DetectObjLayout(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b := make([]byte, pool.HeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrConvertLayout, err)
	}
	h, err := pool.DecodeHeader(b)
	if err != nil {
		return 0, err
	}
	if h.SignatureString() != "PMEMOBJ" {
		return 0, fmt.Errorf("%w: signature %q", ErrConvertLayout, h.SignatureString())
	}
	if h.Major < ObjLayoutFirst || h.Major > ObjLayoutCurrent {
		return 0, fmt.Errorf("%w: major %d", ErrConvertLayout, h.Major)
	}
	if h.ComputeChecksum() != h.Checksum {
		return 0, fmt.Errorf("%w: pool header checksum", ErrConvertLayout)
	}
	return int(h.Major), nil
}

// ConvertObjStep converts the obj pool at path from layout from to
// from+1, as pmdk-convert's step for that layout does: the pool is
// refused (file unchanged) if its lanes hold unrecovered work
// ([ErrConvertPending]); lanes are cleared where the next release's lanes
// differ (every step but 2 to 3); from layout 3 the descriptor's new
// fields are set (root_size from the root object's header,
// conversion_flags and the reserved bytes zero); the major number of the
// header is bumped and its checksum set. The file is locked (as an open
// pool is) and synced. Like pmdk-convert, a step is not fail-safe.
//
// The step to the current layout then opens the pool with obj and frees
// the internal objects the cleared lanes leaked (the range caches and log
// extensions of 1.2-1.6; C's pmdk-convert leaves them allocated, which
// obj's check reports).
func ConvertObjStep(path string, from int) error {
	if err := convertObjStep(path, from); err != nil {
		return err
	}
	if from+1 != ObjLayoutCurrent {
		return nil
	}
	p, err := obj.Open(path, nil)
	if err != nil {
		return fmt.Errorf("opening the converted pool: %w", err)
	}
	_, err = p.FreeLeaked()
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return err
}

func convertObjStep(path string, from int) (err error) {
	if from < ObjLayoutFirst || from >= ObjLayoutCurrent {
		return fmt.Errorf("%w: no conversion from layout %d", ErrConvertLayout, from)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("pool in use: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: not a regular file", ErrConvertLayout)
	}
	size := uint64(fi.Size())
	if size < layout.LanesOffset {
		return fmt.Errorf("%w: file of %d bytes", ErrConvertLayout, size)
	}
	// The header and descriptor, 8 KiB.
	desc := make([]byte, layout.RuntimeEnd)
	if _, err := f.ReadAt(desc, 0); err != nil {
		return err
	}
	h, err := pool.DecodeHeader(desc)
	if err != nil {
		return err
	}
	if h.SignatureString() != "PMEMOBJ" || h.Major != uint32(from) || h.ComputeChecksum() != h.Checksum {
		return fmt.Errorf("%w: major %d, layout %d expected", ErrConvertLayout, h.Major, from)
	}
	d, err := layout.DecodeDescriptor(desc)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConvertLayout, err)
	}
	if !d.ChecksumOK {
		return fmt.Errorf("%w: descriptor checksum", ErrConvertLayout)
	}
	lanesLen := d.NLanes * layout.LaneSize
	if d.NLanes == 0 || d.NLanes > size/layout.LaneSize || d.LanesOffset > size-lanesLen {
		return fmt.Errorf("%w: lanes at %d (%d lanes) outside the pool", ErrConvertLayout, d.LanesOffset, d.NLanes)
	}
	r := &poolReader{f: f, size: size}
	lanes, err := r.read(d.LanesOffset, lanesLen)
	if err != nil {
		return err
	}
	for i := range d.NLanes {
		lane := lanes[i*layout.LaneSize : (i+1)*layout.LaneSize]
		why, err := oldLanePending(r, from, lane)
		if err != nil {
			return fmt.Errorf("lane %d: %w", i, err)
		}
		if why != "" {
			return fmt.Errorf("%w: lane %d: %s; open the pool once with PMDK %s (which recovers it), then convert it",
				ErrConvertPending, i, why, strings.Join(ObjLayoutReleases(from), " or "))
		}
	}

	le := binary.LittleEndian
	if from != 2 { // 1.1 and 1.2 share the lane layout
		if _, err := f.WriteAt(make([]byte, lanesLen), int64(d.LanesOffset)); err != nil {
			return err
		}
	}
	if from == 3 {
		var rootSize uint64
		if ro := le.Uint64(desc[layout.RootOffsetAt:]); ro != 0 {
			if ro < oldOOBSize || ro > size {
				return fmt.Errorf("%w: root object at %d outside the pool", ErrConvertLayout, ro)
			}
			b, err := r.read(ro-oldOOBSize+oldOOBSizeAt, 8)
			if err != nil {
				return err
			}
			rootSize = le.Uint64(b) &^ oldInternalMask
		}
		tail := desc[oldRootSizeAt : oldReservedAt+oldReservedSize]
		clear(tail)
		le.PutUint64(desc[oldRootSizeAt:], rootSize)
		if _, err := f.WriteAt(tail, oldRootSizeAt); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	h.Major++
	hb := make([]byte, pool.HeaderSize)
	h.Encode(hb)
	if _, err := f.WriteAt(hb, 0); err != nil {
		return err
	}
	return f.Sync()
}

// poolReader reads bounds-checked ranges of a pool file.
type poolReader struct {
	f    *os.File
	size uint64
}

func (r *poolReader) read(off, n uint64) ([]byte, error) {
	if off > r.size || n > r.size-off {
		return nil, fmt.Errorf("%w: %d bytes at %d outside the pool", ErrConvertLayout, n, off)
	}
	b := make([]byte, n)
	if _, err := r.f.ReadAt(b, int64(off)); err != nil {
		return nil, err
	}
	return b, nil
}

// oldLanePending says why a lane of a layout-l pool holds work its
// release would recover on open ("" if none). Layouts 1-4: three 1 KiB
// sections, the allocator's and the list's redo logs (a pending log has
// an entry with the finish flag, bit 0 of its offset) and the
// transaction's state and undo logs (1.0: lists of objects; 1.1-1.4:
// persistent vectors of offsets, the first eight embedded) and its range
// caches, kept between transactions, in use if their first range is set.
// Layout 5: three ulogs as today's, whose entries carry no generation.
func oldLanePending(r *poolReader, l int, lane []byte) (string, error) {
	le := binary.LittleEndian
	if l == 5 {
		for _, u := range []struct {
			name      string
			at, cap   int
			checkonly bool
		}{
			{"internal redo log", layout.LaneInternalAt, layout.LaneInternalCapacity, true},
			{"external redo log", layout.LaneExternalAt, layout.LaneExternalCapacity, true},
			{"undo log", layout.LaneUndoAt, layout.LaneUndoCapacity, false},
		} {
			log := lane[u.at : u.at+layout.UlogHeaderSize+u.cap]
			n := oldUlogBytes(log)
			if n == 0 {
				continue
			}
			if !u.checkonly || layout.UlogChecksum(log[:layout.UlogHeaderSize+n]) == le.Uint64(log) {
				return u.name + " has entries", nil
			}
		}
		return "", nil
	}
	redo := func(sec []byte) bool {
		for i := 0; i+16 <= len(sec); i += 16 {
			if le.Uint64(sec[i:])&1 != 0 {
				return true
			}
		}
		return false
	}
	if redo(lane[:oldSectionSize]) {
		return "allocator redo log pending", nil
	}
	if redo(lane[oldSectionSize+8 : 2*oldSectionSize]) {
		return "list redo log pending", nil
	}
	tx := lane[2*oldSectionSize : 3*oldSectionSize]
	if st := le.Uint64(tx); st != 0 {
		return fmt.Sprintf("transaction in state %d", st), nil
	}
	names := [...]string{"allocation", "free", "set", "set cache"}
	// firsts returns the first values of undo log i.
	var firsts func(i int) []uint64
	if l == 1 {
		// struct list_head: PMEMoid pe_first, PMEMmutex (80 bytes).
		firsts = func(i int) []uint64 { return []uint64{le.Uint64(tx[8+80*i+8:])} }
	} else {
		// struct pvector: 20 array offsets, then 8 embedded values.
		firsts = func(i int) []uint64 {
			v := make([]uint64, 8)
			for j := range v {
				v[j] = le.Uint64(tx[8+224*i+160+8*j:])
			}
			return v
		}
	}
	for i := range 3 {
		if firsts(i)[0] != 0 {
			return fmt.Sprintf("transaction's %s undo log has entries", names[i]), nil
		}
	}
	for _, off := range firsts(3) {
		if off == 0 {
			break
		}
		if off == ^uint64(0) {
			return "transaction's set cache has a skipped entry", nil
		}
		b, err := r.read(off, 16)
		if err != nil {
			return "", err
		}
		if le.Uint64(b) != 0 && le.Uint64(b[8:]) != 0 {
			return "transaction's set cache holds ranges", nil
		}
	}
	return "", nil
}

// oldUlogBytes returns the bytes of valid entries at the start of a
// layout-5 ulog (header and data): entries until one with offset zero or
// a buffer entry whose checksum (without generation) fails.
func oldUlogBytes(log []byte) int {
	le := binary.LittleEndian
	data := log[layout.UlogHeaderSize:]
	n := 0
	for n+layout.ValEntrySize <= len(data) {
		w := le.Uint64(data[n:])
		if layout.EntryOffset(w) == 0 {
			break
		}
		switch layout.EntryOp(w) {
		case layout.OpSet, layout.OpAnd, layout.OpOr:
			n += layout.ValEntrySize
			continue
		case layout.OpBufSet, layout.OpBufCpy:
		default:
			return n
		}
		if n+layout.BufEntryHeaderSize > len(data) {
			return n
		}
		sz := layout.BufEntrySize(le.Uint64(data[n+16:]))
		if sz > uint64(len(data)-n) {
			return n
		}
		e := data[n : n+int(sz)]
		if pool.Checksum(e, 8, 0) != le.Uint64(e[8:]) {
			return n
		}
		n += int(sz)
	}
	return n
}
