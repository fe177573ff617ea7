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

// Process makes the updates durable and visible, atomically with respect
// to a crash: a single update is applied and persisted in place (an 8-byte
// store is power-fail atomic); several are first stored in the ulog at
// logOff (whose data capacity is capacity bytes) with their checksum,
// then applied and persisted, then the log is cleared. Updates of words
// outside the pool follow. Bitmap updates are atomic read-modify-writes,
// so concurrent operations on disjoint bits of one word need no lock.
// Process returns ErrFull, having changed nothing, when the entries do not
// fit the log.
func (r *Redo) Process(m *pmem.Mem, logOff, capacity uint64) error {
	switch n := len(r.entries); {
	case n == 1:
		e := r.entries[0]
		apply(m.Word(e.off), e.op, e.val)
		m.Persist(e.off, 8)
	case n > 1:
		if err := r.store(m, logOff, capacity); err != nil {
			return err
		}
		for _, e := range r.entries {
			apply(m.Word(e.off), e.op, e.val)
			m.Flush(e.off, 8)
		}
		m.Drain()
		Clobber(m, logOff)
	}
	for _, e := range r.transient {
		apply(e.ptr, e.op, e.val)
	}
	return nil
}

// store writes the entries into the log at logOff with the header C's
// ulog_store writes: capacity = the stored bytes (entries and the zeroed
// entry after them, rounded up to a cache line), next kept, checksum over
// the header and the entries. One persisted copy; the checksum makes a
// torn copy invalid.
func (r *Redo) store(m *pmem.Mem, logOff, capacity uint64) error {
	nbytes := uint64(len(r.entries)) * layout.ValEntrySize
	if nbytes > capacity {
		return ErrFull
	}
	stored := capacity
	if nbytes != capacity {
		stored = (nbytes + 8 + layout.CacheLine - 1) &^ (layout.CacheLine - 1)
	} else if err := terminateNext(m, logOff); err != nil {
		return err
	}
	total := layout.UlogHeaderSize + stored
	if uint64(cap(r.buf)) < total {
		r.buf = make([]byte, total, max(total, layout.UlogHeaderSize+layout.LaneExternalCapacity))
	}
	b := r.buf[:total]
	clear(b)
	layout.UlogHeader{Next: m.Load(logOff + layout.UlogNextAt), Capacity: stored}.Encode(b)
	d := b[layout.UlogHeaderSize:]
	for i, e := range r.entries {
		w := d[i*layout.ValEntrySize:]
		putLE(w, e.off|e.op)
		putLE(w[8:], e.val)
	}
	putLE(b[layout.UlogChecksumAt:], layout.UlogChecksum(b[:layout.UlogHeaderSize+nbytes]))
	m.Copy(logOff, b, 0)
	return nil
}

// terminateNext ends, before a store fills the log at logOff to its
// capacity, the walk a recovery would continue into the log linked after
// it: C's recovery keeps a lane's extension linked, its data holding the
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
	var h [layout.UlogHeaderSize]byte
	putLE(h[layout.UlogNextAt:], m.Load(logOff+layout.UlogNextAt))
	m.Copy(logOff, h[:], 0)
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
