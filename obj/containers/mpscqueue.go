package containers

import (
	"fmt"
	"iter"
	"sync"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// MPSCQueue is a persistent queue of byte records that many goroutines
// produce and one consumes (libpmemobj-cpp's mpsc_queue): a ring of a
// fixed capacity. Produce copies a record into the ring and
// returns once it is durable; Consume hands the records in production
// order to one consumer and then frees their space durably.
//
// No transaction is involved: a record becomes durable when the ring's
// tail, one 8-byte word, is persisted past it (records that producers
// finish out of order wait for those before them), and consumed when the
// head is. A crash loses no record Produce returned, shows none half
// written, and redelivers records whose Consume did not return.
type MPSCQueue struct {
	v    poolView
	h    *queueHeader
	ring []byte
	oid  obj.OID

	mu       sync.Mutex
	cond     sync.Cond
	head     uint64 // the consumed position, as persisted
	tail     uint64 // the durable tail, as persisted
	reserved uint64 // the end of the space producers took
	pending  []*queueSlot

	consumer sync.Mutex // one Consume at a time
}

// queueSlot is a producer's reservation, in reservation order.
type queueSlot struct {
	end  uint64
	done bool
}

const queueMagic = 0x4555_4555_5153_4f47 // "GOSQUEUE"

// queueHeader is the queue's header object. Positions
// grow without bound; a position's place in the ring is pos % capacity.
type queueHeader struct {
	magic    uint64
	capacity uint64 // the ring's size, a multiple of 8
	ring     uint64 // the ring object's offset
	_        [5]uint64
	head     uint64 // records before head are consumed
	_        [7]uint64
	tail     uint64 // records before tail are produced
	_        [7]uint64
}

const queueHeaderSize = uint64(unsafe.Sizeof(queueHeader{}))

// A record is an 8-byte word holding its length, then its bytes, padded
// to 8. A word of queueWrap marks the ring's end: the next record starts
// at the ring's beginning.
const queueWrap = ^uint64(0)

// NewMPSCQueue creates an empty queue of capacity bytes (rounded up to 8;
// each record takes 8 bytes more than its length, rounded up to 8) in
// tx: it exists if tx commits. Store its OID in the same transaction.
func NewMPSCQueue(tx *obj.Tx, p *obj.Pool, capacity int) (*MPSCQueue, error) {
	if capacity < 16 {
		return nil, fmt.Errorf("%w: capacity %d", ErrRecordSize, capacity)
	}
	c := (uint64(capacity) + 7) &^ 7
	ptr, h, err := obj.TxNew[queueHeader](tx, typeQueue)
	if err != nil {
		return nil, err
	}
	ring, err := tx.Zalloc(int(c), typeQueueRing)
	if err != nil {
		return nil, err
	}
	h.magic, h.capacity, h.ring = queueMagic, c, ring.Off
	q := &MPSCQueue{v: viewAt(p, ptr.OID(), unsafe.Pointer(h)), h: h, oid: ptr.OID()}
	q.cond.L = &q.mu
	if q.ring, err = q.v.bytes(ring.Off, c); err != nil {
		return nil, err
	}
	return q, nil
}

// OpenMPSCQueue reattaches the queue whose object is oid, checking every
// record between its head and tail.
func OpenMPSCQueue(p *obj.Pool, oid obj.OID) (*MPSCQueue, error) {
	v, b, err := newPoolView(p, oid, typeQueue)
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) < queueHeaderSize {
		return nil, fmt.Errorf("%w: %d-byte queue header", ErrWrongKind, len(b))
	}
	h := (*queueHeader)(unsafe.Pointer(unsafe.SliceData(b)))
	if h.magic != queueMagic {
		return nil, fmt.Errorf("%w: queue magic %#x", ErrWrongKind, h.magic)
	}
	q := &MPSCQueue{v: v, h: h, oid: oid}
	q.cond.L = &q.mu
	if h.capacity%8 != 0 || h.capacity < 16 || h.ring%8 != 0 {
		return nil, fmt.Errorf("%w: queue capacity %d, ring at %#x", ErrDamaged, h.capacity, h.ring)
	}
	if q.ring, err = v.bytes(h.ring, h.capacity); err != nil {
		return nil, err
	}
	if h.head%8 != 0 || h.tail%8 != 0 || h.head > h.tail || h.tail-h.head > h.capacity {
		return nil, fmt.Errorf("%w: queue head %d, tail %d", ErrDamaged, h.head, h.tail)
	}
	q.head, q.tail, q.reserved = h.head, h.tail, h.tail
	for pos := q.head; pos < q.tail; {
		_, end, err := q.next(pos, q.tail)
		if err != nil {
			return nil, err
		}
		pos = end
	}
	return q, nil
}

// OID is the queue's object: store it to find the queue again.
func (q *MPSCQueue) OID() obj.OID { return q.oid }

// Cap is the ring's size in bytes.
func (q *MPSCQueue) Cap() int { return len(q.ring) }

// Produce appends rec durably; it is safe for many goroutines. It fails
// with ErrQueueFull when the ring has no room for it until the consumer
// catches up, and with ErrRecordSize for an empty record or one the ring
// cannot hold.
func (q *MPSCQueue) Produce(rec []byte) error {
	c := uint64(len(q.ring))
	need := 8 + (uint64(len(rec))+7)&^7
	if len(rec) == 0 || need > c {
		return fmt.Errorf("%w: %d bytes in a %d-byte ring", ErrRecordSize, len(rec), c)
	}
	q.mu.Lock()
	start := q.reserved
	pad := uint64(0)
	if at := start % c; at+need > c {
		pad = c - at
	}
	if start+pad+need-q.head > c {
		q.mu.Unlock()
		return ErrQueueFull
	}
	slot := &queueSlot{end: start + pad + need}
	q.reserved = slot.end
	q.pending = append(q.pending, slot)
	q.mu.Unlock()

	if pad != 0 {
		w := q.ring[start%c:]
		*(*uint64)(unsafe.Pointer(&w[0])) = queueWrap
		q.v.p.Flush(w[:8])
	}
	at := (start + pad) % c
	r := q.ring[at : at+need]
	*(*uint64)(unsafe.Pointer(&r[0])) = uint64(len(rec))
	copy(r[8:], rec)
	q.v.p.Persist(r[:8+len(rec)])

	q.mu.Lock()
	defer q.mu.Unlock()
	slot.done = true
	n := 0
	for n < len(q.pending) && q.pending[n].done {
		n++
	}
	if n > 0 {
		q.tail = q.pending[n-1].end
		q.pending = q.pending[:copy(q.pending, q.pending[n:])]
		q.h.tail = q.tail
		q.v.p.Persist(words(&q.h.tail))
		q.cond.Broadcast()
	}
	for q.tail < slot.end {
		q.cond.Wait()
	}
	return nil
}

// next returns the record at pos or, past a wrap mark, at the ring's
// start, and the position after it; pos < to.
func (q *MPSCQueue) next(pos, to uint64) ([]byte, uint64, error) {
	c := uint64(len(q.ring))
	at := pos % c
	n := *(*uint64)(unsafe.Pointer(&q.ring[at]))
	if n == queueWrap {
		pos += c - at
		at = 0
		if n = *(*uint64)(unsafe.Pointer(&q.ring[0])); pos >= to {
			return nil, pos, fmt.Errorf("%w: wrap mark at the tail %d", ErrDamaged, to)
		}
	}
	need := 8 + (n+7)&^7
	if n == 0 || n == queueWrap || need > c-at || pos+need > to {
		return nil, pos, fmt.Errorf("%w: record of %d bytes at %d", ErrDamaged, n, pos)
	}
	return q.ring[at+8 : at+8+n], pos + need, nil
}

// Consume calls fn with each produced record in order (a view of the
// ring: fn must not keep it) and then durably frees the space of those fn
// accepted. It stops at the first error fn returns, which it returns,
// leaving that record to the next Consume. It returns the number of
// records consumed. One goroutine consumes at a time: concurrent calls
// wait for each other. Records consumed when a crash struck before
// Consume returned are delivered again after the restart.
func (q *MPSCQueue) Consume(fn func(rec []byte) error) (int, error) {
	q.consumer.Lock()
	defer q.consumer.Unlock()
	q.mu.Lock()
	from, to := q.head, q.tail
	q.mu.Unlock()
	pos, n := from, 0
	var ferr error
	for pos < to {
		rec, end, err := q.next(pos, to)
		if err != nil {
			ferr = err
			break
		}
		if ferr = fn(rec); ferr != nil {
			break
		}
		pos = end
		n++
	}
	if pos != from {
		q.h.head = pos
		q.v.p.Persist(words(&q.h.head))
		q.mu.Lock()
		q.head = pos
		q.mu.Unlock()
	}
	return n, ferr
}

// Len is the number of records produced and not consumed.
func (q *MPSCQueue) Len() int {
	q.consumer.Lock()
	defer q.consumer.Unlock()
	q.mu.Lock()
	from, to := q.head, q.tail
	q.mu.Unlock()
	n := 0
	for pos := from; pos < to; n++ {
		_, end, err := q.next(pos, to)
		if err != nil {
			break
		}
		pos = end
	}
	return n
}

// Objects yields the queue's two objects: its header and its ring.
func (q *MPSCQueue) Objects() iter.Seq[obj.OID] {
	return func(yield func(obj.OID) bool) {
		_ = yield(q.oid) && yield(q.v.oid(q.h.ring))
	}
}

// Destroy frees the queue in tx (nil: its own); it must not be used
// after.
func (q *MPSCQueue) Destroy(tx *obj.Tx) error {
	return inTx(q.v.p, tx, func(tx *obj.Tx) error {
		for oid := range q.Objects() {
			if err := tx.Free(oid); err != nil {
				return err
			}
		}
		return nil
	})
}
