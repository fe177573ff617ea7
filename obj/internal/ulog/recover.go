package ulog

import (
	"encoding/binary"
	"fmt"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/internal/pmem"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Valid says whether a log may update n bytes at pool offset off: C lets
// logs touch the heap, the lanes and the root object fields
// (OBJ_OFF_IS_VALID). An entry outside is damage, not an update.
type Valid func(off, n uint64) bool

// Log is one ulog of a chain as found on the media: its pool offset, its
// header and how many data bytes of it entries may use.
type Log struct {
	Off      uint64
	Header   layout.UlogHeader
	Capacity uint64 // data bytes to walk: the header's, capped
}

// Chain reads the chain of logs that starts with the lane log at off,
// whose data capacity is base bytes. The first log's stored capacity may
// not exceed base; every next log must lie inside the pool (C aligns its
// offset up to a cache line) with its data, and the chain may not loop.
func Chain(m *pmem.Mem, off, base uint64) ([]Log, error) {
	h := layout.DecodeUlogHeader(m.Slice(off, layout.UlogHeaderSize))
	if h.Capacity > base || h.Capacity%8 != 0 {
		return nil, core.Corrupt(int64(off+layout.UlogCapacityAt), "ulog: capacity", fmt.Sprintf("a multiple of 8 <= %d", base), h.Capacity)
	}
	chain := []Log{{Off: off, Header: h, Capacity: h.Capacity}}
	if h.Next == 0 {
		return chain, nil
	}
	seen := map[uint64]bool{off: true}
	for next := h.Next; next != 0; {
		at := int64(chain[len(chain)-1].Off + layout.UlogNextAt)
		n := layout.AlignedUlogOffset(next)
		if n < next || n > m.Size()-layout.UlogHeaderSize || seen[n] {
			return nil, core.Corrupt(at, "ulog: next", nil, next)
		}
		seen[n] = true
		nh := layout.DecodeUlogHeader(m.Slice(n, layout.UlogHeaderSize))
		if nh.Capacity%layout.CacheLine != 0 || nh.Capacity > m.Size()-n-layout.UlogHeaderSize {
			return nil, core.Corrupt(int64(n+layout.UlogCapacityAt), "ulog: extension capacity", nil, nh.Capacity)
		}
		chain = append(chain, Log{Off: n, Header: nh, Capacity: nh.Capacity})
		next = nh.Next
	}
	return chain, nil
}

// Entry is one log entry as found on the media.
type Entry struct {
	At   uint64 // pool offset of the entry
	Op   uint64
	Off  uint64 // target
	Val  uint64 // SET/AND/OR value
	Size uint64 // BUF_SET/BUF_CPY data bytes
	Data uint64 // pool offset of the buffer's data
}

// Entries walks the valid entries of a chain in order, as
// ulog_foreach_entry: an entry ends the walk when its first word is zero
// or, for a buffer entry, when its checksum does not match genNum (the
// first log's generation). Each entry must fit its log and target a region
// valid allows; otherwise Entries returns a corruption error.
func Entries(m *pmem.Mem, chain []Log, genNum uint64, valid Valid) ([]Entry, error) {
	var out []Entry
	for _, l := range chain {
		data := l.Off + layout.UlogHeaderSize
		for pos := uint64(0); pos+8 <= l.Capacity; {
			at := data + pos
			w := m.Load(at)
			if w == 0 {
				return out, nil
			}
			e := Entry{At: at, Op: layout.EntryOp(w), Off: layout.EntryOffset(w)}
			var size uint64
			switch e.Op {
			case layout.OpSet, layout.OpAnd, layout.OpOr:
				size = layout.ValEntrySize
				if pos+size > l.Capacity {
					return nil, core.Corrupt(int64(at), "ulog: entry past the log", nil, w)
				}
				e.Val = m.Load(at + 8)
				if e.Off%8 != 0 || !valid(e.Off, 8) {
					return nil, core.Corrupt(int64(at), "ulog: entry target", nil, e.Off)
				}
			case layout.OpBufSet, layout.OpBufCpy:
				if pos+layout.BufEntryHeaderSize > l.Capacity {
					return nil, core.Corrupt(int64(at), "ulog: entry past the log", nil, w)
				}
				e.Size = m.Load(at + 16)
				if e.Size > l.Capacity-pos-layout.BufEntryHeaderSize {
					// C would read past the log; its checksum cannot match
					// what it never wrote, so treat it as the end.
					return out, nil
				}
				size = layout.BufEntrySize(e.Size)
				if pos+size > l.Capacity {
					return out, nil
				}
				b := m.Slice(at, size)
				if binary.LittleEndian.Uint64(b[8:]) != layout.BufEntryChecksum(b, genNum) {
					return out, nil
				}
				e.Data = at + layout.BufEntryHeaderSize
				if !valid(e.Off, e.Size) {
					return nil, core.Corrupt(int64(at), "ulog: buffer entry target", nil, e.Off)
				}
			default:
				return nil, core.Corrupt(int64(at), "ulog: entry operation", nil, w>>61)
			}
			out = append(out, e)
			pos += size
		}
	}
	return out, nil
}

// ApplyEntries performs the entries and persists them.
func ApplyEntries(m *pmem.Mem, es []Entry) {
	for _, e := range es {
		switch e.Op {
		case layout.OpSet, layout.OpAnd, layout.OpOr:
			apply(m.Word(e.Off), e.Op, e.Val)
			m.Flush(e.Off, 8)
		case layout.OpBufSet:
			m.Set(e.Off, e.Size, m.B[e.Data], core.MemNoDrain)
		case layout.OpBufCpy:
			m.Copy(e.Off, m.Slice(e.Data, e.Size), core.MemNoDrain)
		}
	}
	m.Drain()
}

// RecoverRedo recovers the redo log at off (data capacity base) as
// ulog_recover: if it holds entries whose checksum matches, the operation
// they describe had been committed; apply them and clear the log.
// Otherwise the operation never happened and the log is left alone.
func RecoverRedo(m *pmem.Mem, off, base uint64, valid Valid) error {
	chain, err := Chain(m, off, base)
	if err != nil {
		return err
	}
	first := chain[0]
	es, err := Entries(m, chain[:1], first.Header.GenNum, valid)
	if err != nil || len(es) == 0 {
		return err
	}
	nbytes := uint64(0)
	for _, e := range es {
		if e.Op == layout.OpBufSet || e.Op == layout.OpBufCpy {
			nbytes += layout.BufEntrySize(e.Size)
		} else {
			nbytes += layout.ValEntrySize
		}
	}
	nbytes = min(nbytes, first.Capacity)
	if layout.UlogChecksum(m.Slice(off, layout.UlogHeaderSize+nbytes)) != first.Header.Checksum {
		return nil
	}
	all, err := Entries(m, chain, first.Header.GenNum, valid)
	if err != nil {
		return err
	}
	ApplyEntries(m, all)
	Clobber(m, off)
	return nil
}

// RecoverUndo rolls back what the undo log at off (data capacity base)
// holds, as C's lane recovery does for an interrupted transaction: every
// valid snapshot is copied back, then the log's generation is bumped,
// which invalidates its entries. It returns the pool offsets of the
// extension logs linked after the first, for the caller to unlink and free
// once the heap runs (C frees them with ULOG_FREE_AFTER_FIRST).
func RecoverUndo(m *pmem.Mem, off, base uint64, valid Valid) ([]Log, error) {
	// An undo log's header keeps the capacity it was constructed with.
	chain, err := Chain(m, off, base)
	if err != nil {
		return nil, err
	}
	h := chain[0].Header
	es, err := Entries(m, chain, h.GenNum, valid)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 && len(chain) == 1 {
		return nil, nil
	}
	if len(es) > 0 {
		ApplyEntries(m, es)
		m.Store(off+layout.UlogGenNumAt, h.GenNum+1)
		m.Persist(off+layout.UlogGenNumAt, 8)
	}
	return chain[1:], nil
}
