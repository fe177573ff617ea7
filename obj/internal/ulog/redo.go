// Package ulog implements libpmemobj's unified logs as PMDK 1.12.1 lays
// them out (obj/layout): building a redo log of 8-byte updates in memory,
// storing it with its checksum, applying it and clearing it; and the
// recovery that open runs on every lane's logs.
package ulog

import (
	"encoding/binary"
	"errors"
	"sync/atomic"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/obj/internal/pmem"
	"github.com/gopmdk/pmdk/obj/layout"
)

// ErrFull is returned when a redo log does not fit its log.
var ErrFull = errors.New("obj: redo log full")

// entry is one 8-byte update: the word at off becomes op(word, val).
type entry struct {
	off uint64 // pool offset, 8-aligned
	op  uint64 // layout.OpSet, OpAnd or OpOr
	val uint64
}

// transientEntry is an update of memory outside the pool, applied after
// the persistent ones (C's LOG_TRANSIENT).
type transientEntry struct {
	ptr *uint64
	op  uint64
	val uint64
}

// mergeWindow is how many recent entries are searched for one to merge a
// new entry into (C's OP_MERGE_SEARCH).
const mergeWindow = 64

// Redo collects the updates of one atomic heap operation. Its zero value
// is ready; Reset clears it for reuse (the buffers are kept).
type Redo struct {
	entries   []entry
	transient []transientEntry
	buf       []byte // scratch for the stored log
}

// Reset empties r.
func (r *Redo) Reset() {
	r.entries = r.entries[:0]
	r.transient = r.transient[:0]
}

// Len returns the number of persistent entries.
func (r *Redo) Len() int { return len(r.entries) }

// Add adds an update of the pool word at off. An update of the same word
// with the same operation among the last entries is merged into it, as C
// does (so a run bitmap word touched twice takes one entry).
func (r *Redo) Add(off, op, val uint64) {
	for i := len(r.entries) - 1; i >= 0 && i >= len(r.entries)-mergeWindow; i-- {
		e := &r.entries[i]
		if e.off != off {
			continue
		}
		if e.op != op {
			break
		}
		switch op {
		case layout.OpSet:
			e.val = val
		case layout.OpAnd:
			e.val &= val
		case layout.OpOr:
			e.val |= val
		}
		return
	}
	r.entries = append(r.entries, entry{off, op, val})
}

// AddTransient adds an update of a word outside the pool.
func (r *Redo) AddTransient(p *uint64, op, val uint64) {
	r.transient = append(r.transient, transientEntry{p, op, val})
}

// apply performs one update on the word w.
func apply(w *uint64, op, val uint64) {
	switch op {
	case layout.OpSet:
		atomic.StoreUint64(w, val)
	case layout.OpAnd:
		atomic.AndUint64(w, val)
	case layout.OpOr:
		atomic.OrUint64(w, val)
	}
}

// Extender gives a redo log more room: logs of its own allocated from
// the heap and chained after it (lane_redo_extend), freed after use.
type Extender interface {
	// Extend allocates a log and links it after the log at prev (sets
	// prev's next, durably). It returns the new log's pool offset and data
	// capacity.
	Extend(prev uint64) (off, capacity uint64, err error)
	// FreeNext unlinks and frees every log chained after the log at off.
	FreeNext(off uint64) error
}

// Process makes the updates durable and visible, atomically with respect
// to a crash: a single update is applied and persisted in place (an 8-byte
// store is power-fail atomic); several are first stored in the ulog at
// logOff (whose data capacity is capacity bytes, continued in logs ext
// allocates if they do not fit; ext may be nil) with their checksum, then
// applied and persisted, then the log is cleared and its extensions freed.
// Updates of words outside the pool follow. Bitmap updates are atomic
// read-modify-writes, so concurrent operations on disjoint bits of one
// word need no lock. On error nothing has changed (but extensions may be
// left linked, which the next Process or open frees).
func (r *Redo) Process(m *pmem.Mem, logOff, capacity uint64, ext Extender) error {
	switch n := len(r.entries); {
	case n == 1:
		e := r.entries[0]
		apply(m.Word(e.off), e.op, e.val)
		m.Persist(e.off, 8)
	case n > 1:
		extended, err := r.store(m, logOff, capacity, ext)
		if err != nil {
			return err
		}
		if err := m.Err(); err != nil {
			// The log may not be durable: apply nothing (the media keeps
			// the state before the operation).
			return err
		}
		// Every store before any flush: entries often share a line (a
		// bitmap word and its neighbour, a header's fields), and a store to
		// a line whose write-back is in flight waits for it.
		for _, e := range r.entries {
			apply(m.Word(e.off), e.op, e.val)
		}
		for _, e := range r.entries {
			m.Flush(e.off, 8)
		}
		m.Drain()
		if err := m.Err(); err != nil {
			// Some updates may not be durable: keep the log, whose
			// recovery at the next open completes them.
			return err
		}
		Clobber(m, logOff)
		if extended {
			if err := ext.FreeNext(logOff); err != nil {
				return err
			}
		}
	}
	for _, e := range r.transient {
		apply(e.ptr, e.op, e.val)
	}
	return nil
}

// store writes the entries into the log at logOff as C's ulog_store does:
// entries past the first log's capacity go to its extensions first
// (copied and drained), then the first log with the header C writes:
// capacity = the bytes stored in it (entries and the zeroed entry after
// them, rounded up to a cache line), next = the first extension, checksum
// over the header and the entries in it. One persisted copy; the checksum
// makes a torn copy invalid. It reports whether extensions were used.
func (r *Redo) store(m *pmem.Mem, logOff, capacity uint64, ext Extender) (bool, error) {
	nbytes := uint64(len(r.entries)) * layout.ValEntrySize
	logs, err := r.reserve(m, logOff, capacity, nbytes, ext)
	if err != nil {
		return false, err
	}
	total := capacity
	for _, l := range logs {
		total += l[1]
	}
	stored := nbytes
	if nbytes != total {
		stored = (nbytes + 8 + layout.CacheLine - 1) &^ (layout.CacheLine - 1)
	} else {
		// Full: the zeroed entry goes to the log linked after the last one
		// used, if any.
		last := logOff
		if len(logs) > 0 {
			last = logs[len(logs)-1][0]
		}
		if err := terminateNext(m, last); err != nil {
			return false, err
		}
	}
	if uint64(cap(r.buf)) < layout.UlogHeaderSize+stored {
		r.buf = make([]byte, layout.UlogHeaderSize+stored, max(layout.UlogHeaderSize+stored, layout.UlogHeaderSize+layout.LaneExternalCapacity))
	}
	b := r.buf[:layout.UlogHeaderSize+stored]
	clear(b)
	d := b[layout.UlogHeaderSize:]
	for i, e := range r.entries {
		w := d[i*layout.ValEntrySize:]
		putLE(w, e.off|e.op)
		putLE(w[8:], e.val)
	}
	base := min(capacity, stored)
	if rest := d[base:]; len(rest) > 0 {
		for _, l := range logs {
			n := min(uint64(len(rest)), l[1])
			m.Copy(l[0]+layout.UlogHeaderSize, rest[:n], core.MemNoDrain)
			if rest = rest[n:]; len(rest) == 0 {
				break
			}
		}
		m.Drain()
	}
	layout.UlogHeader{Next: m.Load(logOff + layout.UlogNextAt), Capacity: base}.Encode(b)
	putLE(b[layout.UlogChecksumAt:], layout.UlogChecksum(b[:layout.UlogHeaderSize+min(capacity, nbytes)]))
	m.Copy(logOff, b[:layout.UlogHeaderSize+base], 0)
	return len(logs) > 0, nil
}

// reserve returns the logs chained after the log at logOff (offset and
// data capacity each), extended through ext until the chain holds nbytes.
func (r *Redo) reserve(m *pmem.Mem, logOff, capacity, nbytes uint64, ext Extender) ([][2]uint64, error) {
	var logs [][2]uint64
	have := capacity
	prev := logOff
	for next := m.Load(logOff + layout.UlogNextAt); next != 0 && have < nbytes; {
		off := layout.AlignedUlogOffset(next)
		c := m.Load(off + layout.UlogCapacityAt)
		logs = append(logs, [2]uint64{off, c})
		have += c
		prev, next = off, m.Load(off+layout.UlogNextAt)
	}
	for have < nbytes {
		if ext == nil {
			return nil, ErrFull
		}
		off, c, err := ext.Extend(prev)
		if err != nil {
			return nil, err
		}
		logs = append(logs, [2]uint64{off, c})
		have += c
		prev = off
	}
	return logs, nil
}

// terminateNext ends, before a store fills the logs up to the one at
// logOff to their capacity, the walk a recovery would continue into the
// log linked after it: C's recovery keeps a lane's extension linked, its data holding the
// entries of an older operation, and a full log has no zeroed entry of
// its own. C's ulog_store writes the zeroed entry at the start of the next
// log, drained before the header; so does this.
func terminateNext(m *pmem.Mem, logOff uint64) error {
	next := m.Load(logOff + layout.UlogNextAt)
	if next == 0 {
		return nil
	}
	first := layout.AlignedUlogOffset(next) + layout.UlogHeaderSize
	if first < next || first > m.Size()-layout.ValEntrySize {
		return core.Corrupt(int64(logOff+layout.UlogNextAt), "ulog: next", nil, next)
	}
	m.Store(first, 0)
	m.Persist(first, 8)
	return nil
}

// Clobber clears the header of the log at logOff but for its next link,
// which invalidates its entries (ulog_clobber), and persists it.
func Clobber(m *pmem.Mem, logOff uint64) {
	h := m.Slice(logOff, layout.UlogHeaderSize)
	clear(h[:layout.UlogNextAt])
	clear(h[layout.UlogNextAt+8:])
	m.Persist(logOff, layout.UlogHeaderSize)
}

func putLE(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

// Construct initializes an empty log of capacity data bytes at off, as C's
// ulog_construct: header with capacity and genNum, next 0, the first entry
// zeroed. It flushes without draining when flush is set.
func Construct(m *pmem.Mem, off, capacity, genNum, flags uint64, flush bool) {
	var h [layout.UlogHeaderSize]byte
	layout.UlogHeader{Capacity: capacity, GenNum: genNum, Flags: flags}.Encode(h[:])
	copy(m.Slice(off, layout.UlogHeaderSize), h[:])
	clear(m.Slice(off+layout.UlogHeaderSize, layout.CacheLine))
	if flush {
		m.Flush(off, layout.UlogHeaderSize+layout.CacheLine)
	}
}
