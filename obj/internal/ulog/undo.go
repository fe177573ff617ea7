package ulog

import (
	"encoding/binary"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj/internal/pmem"
	"github.com/gopmdk/pmdk/obj/layout"
)

// Undo appends snapshots to a lane's undo log (operation_add_buffer) for
// one transaction. Each snapshot is a BUF_CPY entry whose checksum
// includes the generation of the chain's first log: the transaction
// commits or aborts by bumping that generation, which invalidates every
// entry at once. Entries that do not fit go on in extension logs (ext).
type Undo struct {
	m      *pmem.Mem
	first  uint64 // pool offset of the lane's undo log
	base   uint64 // its data capacity
	gen    uint64 // the first log's generation for this transaction
	logs   [][2]uint64
	cur    int    // index in logs of the log being filled
	pos    uint64 // data offset in it
	logged uint64 // bytes of entries written
	line   [layout.CacheLine]byte
	tail   [layout.CacheLine]byte // an entry's last partial line (a local would escape to the heap)
	// clean is the data offset in the first log from which its bytes are
	// known to be zero on the media (found by the first Start, kept up by
	// write): an entry that ends there needs no clobber of the next
	// header, which saves a fence in the common small transaction.
	clean      uint64
	cleanKnown bool
}

// Start begins a transaction's use of the undo log at off (base data
// bytes), reading its chain of extensions from the media.
func (u *Undo) Start(m *pmem.Mem, off, base uint64) {
	if u.m != m || u.first != off || !u.cleanKnown {
		u.clean = cleanFrom(m.Slice(off+layout.UlogHeaderSize, base))
		u.cleanKnown = true
	}
	u.m, u.first, u.base = m, off, base
	u.gen = m.Load(off + layout.UlogGenNumAt)
	u.logs = append(u.logs[:0], [2]uint64{off, base})
	for next := m.Load(off + layout.UlogNextAt); next != 0 && len(u.logs) < 1<<16; {
		lo := layout.AlignedUlogOffset(next)
		if lo > m.Size()-layout.UlogHeaderSize {
			break
		}
		u.logs = append(u.logs, [2]uint64{lo, m.Load(lo + layout.UlogCapacityAt)})
		next = m.Load(lo + layout.UlogNextAt)
	}
	u.cur, u.pos, u.logged = 0, 0, 0
}

// cleanFrom returns the offset of the cache line in data after its last
// nonzero byte.
func cleanFrom(data []byte) uint64 {
	for end := uint64(len(data)); end > 0; end -= layout.CacheLine {
		if !pool.IsZero(data[end-layout.CacheLine : end]) {
			return end
		}
	}
	return 0
}

// Gen returns the generation the entries are written with.
func (u *Undo) Gen() uint64 { return u.gen }

// Empty reports whether nothing was logged.
func (u *Undo) Empty() bool { return u.logged == 0 }

// Logs returns the number of logs in the chain.
func (u *Undo) Logs() int { return len(u.logs) }

// Add snapshots size bytes at pool offset off: their current content is
// written to the log, split over logs where one has no room left, each
// piece a whole entry. Before an entry the header of the one after it is
// zeroed and persisted (unless it is known to be zero on the media), so a
// walk never runs into stale entries; the entry itself is written with
// non-temporal stores and drained.
func (u *Undo) Add(off, size uint64, ext Extender) error {
	for size > 0 {
		if u.pos == u.logs[u.cur][1] {
			if err := u.next(ext); err != nil {
				return err
			}
		}
		room := u.logs[u.cur][1] - u.pos
		real := min(layout.BufEntryHeaderSize+size, room)
		n := real - layout.BufEntryHeaderSize
		esize := layout.BufEntrySize(n)
		at := u.logs[u.cur][0] + layout.UlogHeaderSize + u.pos
		// Terminate the chain after this entry, unless the next header
		// is known to be zero already.
		if u.pos+esize < u.logs[u.cur][1] {
			if u.cur != 0 || u.pos+esize < u.clean {
				u.clobberEntry(at + esize)
			}
		} else if u.cur+1 < len(u.logs) {
			u.clobberEntry(u.logs[u.cur+1][0] + layout.UlogHeaderSize)
		}
		u.write(at, off, n)
		if u.cur == 0 {
			u.clean = max(u.clean, u.pos+esize)
		}
		u.pos += esize
		u.logged += esize
		off += n
		size -= n
	}
	return nil
}

// next moves to the next log of the chain, extending it through ext.
func (u *Undo) next(ext Extender) error {
	if u.cur+1 == len(u.logs) {
		if ext == nil {
			return ErrFull
		}
		off, c, err := ext.Extend(u.logs[u.cur][0])
		if err != nil {
			return err
		}
		u.logs = append(u.logs, [2]uint64{off, c})
	}
	u.cur++
	u.pos = 0
	return nil
}

// clobberEntry zeroes the cache line at off (an entry header) durably.
func (u *Undo) clobberEntry(off uint64) {
	u.m.Set(off, layout.CacheLine, 0, core.MemNonTemporal)
}

// write stores one BUF_CPY entry at pool offset at holding the n bytes at
// pool offset src: the data past the first cache line, the last partial
// line zero-padded, then the first line (header and 40 data bytes), as
// ulog_entry_buf_create; the checksum covers all of it and the
// generation.
func (u *Undo) write(at, src, n uint64) {
	const head = layout.CacheLine - layout.BufEntryHeaderSize // data bytes in the first line
	l := u.line[:]
	clear(l)
	binary.LittleEndian.PutUint64(l, src|layout.OpBufCpy)
	binary.LittleEndian.PutUint64(l[16:], n)
	first := min(n, head)
	copy(l[layout.BufEntryHeaderSize:], u.m.Slice(src, first))
	csum := pool.ChecksumSeq(l, 0)
	rest := n - first
	aligned := rest &^ (layout.CacheLine - 1)
	if aligned > 0 {
		body := u.m.Slice(src+first, aligned)
		csum = pool.ChecksumSeq(body, csum)
		u.m.Copy(at+layout.CacheLine, body, core.MemNonTemporal|core.MemNoDrain)
	}
	if tail := rest - aligned; tail > 0 {
		last := &u.tail
		clear(last[:])
		copy(last[:], u.m.Slice(src+first+aligned, tail))
		csum = pool.ChecksumSeq(last[:], csum)
		u.m.Copy(at+layout.CacheLine+aligned, last[:], core.MemNonTemporal|core.MemNoDrain)
	}
	var g [8]byte
	binary.LittleEndian.PutUint64(g[:], u.gen)
	binary.LittleEndian.PutUint64(l[8:], pool.ChecksumSeq(g[:], csum))
	u.m.Copy(at, l, core.MemNonTemporal|core.MemNoDrain)
	u.m.Drain()
}

// AppendUser links a log the caller built room for at pool offset off
// (data capacity bytes, a user's buffer) at the end of the chain
// (operation_add_user_buffer): built empty with the transaction's
// generation and the user-owned flag, then linked durably.
func (u *Undo) AppendUser(off, capacity uint64) error {
	if capacity == 0 {
		return ErrFull
	}
	Construct(u.m, off, capacity, u.gen, layout.UlogUserOwned, true)
	u.m.Drain()
	last := u.logs[len(u.logs)-1][0]
	u.m.Store(last+layout.UlogNextAt, off)
	u.m.Persist(last+layout.UlogNextAt, 8)
	u.logs = append(u.logs, [2]uint64{off, capacity})
	return nil
}

// Rollback restores every snapshot of the chain (a transaction's abort,
// tx_abort_set), except the ranges keep says to leave alone (locks the
// transaction holds), and drains. It reads the entries back from the
// media, as recovery would.
func (u *Undo) Rollback(valid Valid, keep func(off, n uint64) [][2]uint64) error {
	chain := make([]Log, len(u.logs))
	for i, l := range u.logs {
		chain[i] = Log{Off: l[0], Capacity: l[1]}
	}
	es, err := Entries(u.m, chain, u.gen, valid)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.Op != layout.OpBufCpy {
			continue
		}
		for _, r := range keep(e.Off, e.Size) {
			u.m.Copy(r[0], u.m.Slice(e.Data+r[0]-e.Off, r[1]), core.MemNoDrain)
		}
	}
	u.m.Drain()
	return nil
}

// Finish ends the transaction's use of the log: after an abort the
// generation is bumped and persisted (after a commit the commit's redo log
// did it), and the extensions past the second are freed through ext (C
// keeps one for the next transaction), all of them when the transaction
// had user buffers (which are unlinked, never freed).
func (u *Undo) Finish(aborted, user bool, ext Extender) error {
	if aborted {
		u.m.Store(u.first+layout.UlogGenNumAt, u.gen+1)
		u.m.Persist(u.first+layout.UlogGenNumAt, 8)
	}
	switch {
	case user:
		return ext.FreeNext(u.first)
	case len(u.logs) > 2:
		return ext.FreeNext(u.logs[1][0])
	}
	return nil
}
