package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/log/layout"
)

// MinPoolSize is the smallest log pool in bytes (PMEMLOG_MIN_POOL, 2 MiB).
const MinPoolSize = layout.MinPoolSize

// Log is an open log pool: an append-only byte log whose appends are
// atomic, as a PMEMlogpool of libpmemlog.
//
// Its methods may be called from several goroutines. Appends and Rewind are
// serialized; Walk and the iterator of Chunks share a read lock, so they
// wait for a running append and an append waits for them, as with C's
// rwlock. Tell and NBytes take no lock (C's take the read lock): they never
// wait, and may be called from a Walk callback.
type Log struct {
	mu       sync.RWMutex
	m        *core.Map
	data     []byte        // the mapping; valid until close
	start    uint64        // start_offset
	end      uint64        // end_offset
	write    atomic.Uint64 // write_offset, mirrored from the mapping; stored under mu
	readOnly bool
	msync    bool         // page-cache mapping: persist data with one msync, as C does
	closed   atomic.Bool  // set under mu; read without it by the accessors
	close    func() error // releases the pool or the mapping
}

// format writes the descriptor of an empty log into m (whose first page is
// a pool header) and persists it, as log_descr_create does. C's run-time
// fields after the descriptor are zeroed so the pool does not depend on
// what was in the file.
func format(m *core.Map) error {
	b := m.Bytes()
	size := layout.UsableSize(len(b))
	if size < layout.MinPoolSize {
		return fmt.Errorf("%w: size %d smaller than %d", ErrPoolTooSmall, size, layout.MinPoolSize)
	}
	layout.New(size).Encode(b)
	clear(b[layout.RuntimeAt:layout.RuntimeEnd])
	m.Persist(b[layout.DescOffset:layout.RuntimeEnd])
	return m.Err()
}

// attach validates the log descriptor in m and returns a Log on it. close
// runs once when the Log is closed.
func attach(m *core.Map, readOnly bool, close func() error) (*Log, error) {
	b := m.Bytes()
	d, err := layout.Decode(b)
	if err != nil {
		return nil, err
	}
	if probs := d.Problems(layout.UsableSize(len(b))); len(probs) > 0 {
		return nil, errors.Join(probs...)
	}
	l := &Log{
		m:        m,
		data:     b,
		start:    d.StartOffset,
		end:      d.EndOffset,
		readOnly: readOnly,
		msync:    m.Granularity() == core.GranularityPage,
		close:    close,
	}
	l.write.Store(d.WriteOffset)
	return l, nil
}

// Close releases the pool. Slices handed to Walk callbacks must not be used
// afterwards. Close is idempotent. It returns the pool's persist failure
// (core.ErrPersist) if a write-back failed while the log was open.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil
	}
	l.closed.Store(true)
	l.data = nil
	if l.close != nil {
		return l.close()
	}
	return nil
}

// NBytes returns the usable size of the log in bytes: the pool size less
// the header and descriptor (pmemlog_nbyte). After Close it returns 0, as
// every accessor of a closed pool returns its zero value (the methods that
// can fail return ErrClosed).
func (l *Log) NBytes() int64 {
	if l.closed.Load() {
		return 0
	}
	return int64(l.end - l.start)
}

// Tell returns the current write point: the number of bytes in the log
// (pmemlog_tell). During an append it returns the size before or after it.
// After Close it returns 0.
func (l *Log) Tell() int64 {
	if l.closed.Load() {
		return 0
	}
	return int64(l.write.Load() - l.start)
}

// ReadOnly reports whether the pool was opened read-only; false after
// Close.
func (l *Log) ReadOnly() bool { return l.readOnly && !l.closed.Load() }

// Append adds buf to the end of the log atomically: after a crash the log
// holds either all of buf or none of it (pmemlog_append). When Append
// returns nil the data is persistent. It fails with [ErrNoSpace] when buf
// does not fit, and [ErrReadOnly] on a read-only pool. When a write-back
// fails (msync, on a page-cache pool) it returns an error wrapping
// core.ErrPersist, and so does every later append or rewind: the log is
// not extended past data that may not have reached the file.
func (l *Log) Append(buf []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.readOnly {
		return ErrReadOnly
	}
	if err := l.persistErr("append"); err != nil {
		return err
	}
	w := l.write.Load()
	n := uint64(len(buf))
	if w >= l.end || n > l.end-w {
		return ErrNoSpace
	}
	l.store(w, buf)
	return l.commit(w, w+n)
}

// Appendv adds the concatenation of bufs to the end of the log atomically,
// as a single Append of all of them would (pmemlog_appendv).
func (l *Log) Appendv(bufs ...[]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.readOnly {
		return ErrReadOnly
	}
	if err := l.persistErr("append"); err != nil {
		return err
	}
	w := l.write.Load()
	if w >= l.end {
		return ErrNoSpace
	}
	var n uint64
	for _, b := range bufs {
		n += uint64(len(b))
		if n > l.end-w {
			return ErrNoSpace
		}
	}
	at := w
	for _, b := range bufs {
		l.store(at, b)
		at += uint64(len(b))
	}
	return l.commit(w, at)
}

// store copies buf into the log space at off, flushing it on a pmem
// mapping but not draining: commit drains once for the whole append.
func (l *Log) store(off uint64, buf []byte) {
	if len(buf) == 0 {
		return
	}
	dst := l.data[off : off+uint64(len(buf))]
	if l.msync {
		copy(dst, buf)
		return
	}
	l.m.Memcpy(dst, buf, core.MemNoDrain)
}

// commit makes the data in [from, to) persistent, then moves write_offset
// to to and persists it: C's log_persist. Until the 8-byte write_offset is
// durable, a crash leaves the log as it was. If the data failed to persist,
// write_offset is left alone.
func (l *Log) commit(from, to uint64) error {
	if l.msync {
		if to > from {
			l.m.Persist(l.data[from:to])
		}
	} else {
		l.m.Drain()
	}
	if err := l.persistErr("append"); err != nil {
		return err
	}
	return l.setWrite(to)
}

// setWrite stores and persists write_offset.
func (l *Log) setWrite(off uint64) error {
	field := l.data[layout.WriteOffsetAt : layout.WriteOffsetAt+8]
	binary.LittleEndian.PutUint64(field, off)
	l.m.Persist(field)
	l.write.Store(off)
	return l.persistErr("write offset")
}

// persistErr returns the failure of the pool's persist path, if any, for
// operation op.
func (l *Log) persistErr(op string) error {
	if err := l.m.Err(); err != nil {
		return fmt.Errorf("log: %s: %w", op, err)
	}
	return nil
}

// Rewind empties the log: the next append goes to its beginning
// (pmemlog_rewind). Only write_offset changes; the old data stays in the
// pool until overwritten. Persist failures are reported as by Append.
func (l *Log) Rewind() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.readOnly {
		return ErrReadOnly
	}
	if err := l.persistErr("rewind"); err != nil {
		return err
	}
	return l.setWrite(l.start)
}

// Walk calls fn for each chunksize bytes of the log, from its beginning to
// the write point, until fn returns false (pmemlog_walk). The last chunk may
// be shorter. chunksize 0 calls fn once with the whole log (even when it is
// empty), ignoring its result. buf points into the pool: it is valid only
// during the call, and fn must not modify it nor call Append, Appendv,
// Rewind or Close on l (they would deadlock, as in C). It fails with
// [ErrInvalidArgument] for a negative chunksize and [ErrClosed] after
// Close, without calling fn.
func (l *Log) Walk(chunksize int, fn func(buf []byte) bool) error {
	if chunksize < 0 {
		return ErrInvalidArgument
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed.Load() {
		return ErrClosed
	}
	w := l.write.Load()
	data := l.data[l.start:w:w]
	if chunksize == 0 {
		fn(data)
		return nil
	}
	for len(data) > 0 {
		n := min(chunksize, len(data))
		if !fn(data[:n:n]) {
			break
		}
		data = data[n:]
	}
	return nil
}

// Chunks returns an iterator over the chunks Walk visits, with the same
// rules: chunksize 0 yields the whole log as one chunk, even an empty one.
// When Walk would fail ([ErrInvalidArgument], [ErrClosed]) the iterator
// yields that error once, with a nil chunk. The read lock is held while
// the loop runs, so its body must not append to, rewind or close l; each
// chunk is valid only until the next iteration.
func (l *Log) Chunks(chunksize int) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if err := l.Walk(chunksize, func(b []byte) bool { return yield(b, nil) }); err != nil {
			yield(nil, err)
		}
	}
}

// Bytes returns a copy of the whole log content.
func (l *Log) Bytes() ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	return append([]byte(nil), l.data[l.start:l.write.Load()]...), nil
}
