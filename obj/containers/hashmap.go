package containers

import (
	"bytes"
	"fmt"
	"iter"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// ConcurrentHashMap is a persistent hash map from K to V, both
// pointer-free, safe for many goroutines (libpmemobj-cpp's
// concurrent_hash_map). Keys are hashed and compared by their bytes: use
// key types without padding. Each change is published atomically on its
// own, durable when the call returns: a new node reserved and filled, and
// the links and counter it changes stored through one redo log with it
// (no transaction, no undo log). A reader sees only published entries.
//
// It is a linear hash table: buckets of chained nodes (one object per
// entry), in segments that double, split one bucket at a time as it
// grows, so no change relinks more than one bucket's entries. Its locks and
// counters are volatile, rebuilt by OpenConcurrentHashMap; the persistent
// entry count is kept in per-lock slots, so concurrent changes never
// change the same word.
type ConcurrentHashMap[K, V any] struct {
	m hashCore
}

// BytesHashMap is ConcurrentHashMap with byte-string keys and values of
// any length (pmemkv's cmap engine), stored together in one node.
type BytesHashMap struct {
	m hashCore
}

const hashMagic = 0x5041_4d48_5343_4f47 // "GOCSHMAP"

const (
	hashStripes  = 64 // lock stripes (and count slots)
	hashSegments = 48 // segment k>0 holds base<<(k-1) buckets
	hashLoad     = 2  // the table grows past this many entries a bucket
	hashBase     = 16 // buckets of a new map
	hashBatch    = 4  // the load may pass its bound by this many buckets before a growth
)

// hashHeader is the map's header object.
type hashHeader struct {
	magic   uint64
	keySize uint64 // the size of K, or bytesValues
	valSize uint64 // the size of V, or bytesValues
	base    uint64 // buckets of segment 0, a power of two
	level   uint64 // buckets before this round of splits: base<<level
	split   uint64 // the next bucket to split
	segs    [hashSegments]uint64
	_       [2]uint64
	counts  [hashStripes]hashCount
}

// hashCount is one stripe's share of the entry count, on its own line.
type hashCount struct {
	n int64
	_ [7]uint64
}

// hashNode is an entry's head, followed by the key and the value.
type hashNode struct {
	next       uint64
	hash       uint64
	klen, vlen uint32
}

const hashNodeSize = uint64(unsafe.Sizeof(hashNode{}))

// hashCore is the byte-level map both forms share.
type hashCore struct {
	v                poolView
	h                *hashHeader
	oid              obj.OID
	keySize, valSize uint64

	shape   sync.RWMutex // held for writing while a bucket splits
	stripes [hashStripes]struct {
		sync.RWMutex
		_ [40]byte
	}
	total   atomic.Int64
	buckets atomic.Uint64
}

// NewConcurrentHashMap creates an empty map in tx: it exists if tx
// commits. Store its OID in the same transaction.
func NewConcurrentHashMap[K, V any](tx *obj.Tx, p *obj.Pool) (*ConcurrentHashMap[K, V], error) {
	if err := pointerFree2[K, V](p); err != nil {
		return nil, err
	}
	m := &ConcurrentHashMap[K, V]{}
	return m, m.m.create(tx, p, sizeOf[K](), sizeOf[V]())
}

// OpenConcurrentHashMap reattaches the map whose header is oid and
// rebuilds its volatile state.
func OpenConcurrentHashMap[K, V any](p *obj.Pool, oid obj.OID) (*ConcurrentHashMap[K, V], error) {
	if err := pointerFree2[K, V](p); err != nil {
		return nil, err
	}
	m := &ConcurrentHashMap[K, V]{}
	return m, m.m.open(p, oid, sizeOf[K](), sizeOf[V]())
}

// pointerFree2 refuses a K or a V the pool cannot hold.
func pointerFree2[K, V any](p *obj.Pool) error {
	if err := pointerFree[K](p); err != nil {
		return err
	}
	return pointerFree[V](p)
}

// NewBytesHashMap creates an empty byte-string map in tx.
func NewBytesHashMap(tx *obj.Tx, p *obj.Pool) (*BytesHashMap, error) {
	m := &BytesHashMap{}
	return m, m.m.create(tx, p, bytesValues, bytesValues)
}

// OpenBytesHashMap reattaches the byte-string map whose header is oid.
func OpenBytesHashMap(p *obj.Pool, oid obj.OID) (*BytesHashMap, error) {
	m := &BytesHashMap{}
	return m, m.m.open(p, oid, bytesValues, bytesValues)
}

func (m *hashCore) create(tx *obj.Tx, p *obj.Pool, keySize, valSize uint64) error {
	ptr, h, err := obj.TxNew[hashHeader](tx, typeHashHeader)
	if err != nil {
		return err
	}
	seg, err := tx.Zalloc(hashBase*8, typeHashSegment)
	if err != nil {
		return err
	}
	oid := ptr.OID()
	v := viewAt(p, oid, unsafe.Pointer(h))
	h.magic, h.keySize, h.valSize, h.base = hashMagic, keySize, valSize, hashBase
	h.segs[0] = seg.Off
	m.v, m.h, m.oid, m.keySize, m.valSize = v, h, oid, keySize, valSize
	m.buckets.Store(hashBase)
	return nil
}

func (m *hashCore) open(p *obj.Pool, oid obj.OID, keySize, valSize uint64) error {
	v, b, err := newPoolView(p, oid, typeHashHeader)
	if err != nil {
		return err
	}
	if uintptr(len(b)) < unsafe.Sizeof(hashHeader{}) {
		return fmt.Errorf("%w: %d-byte header", ErrWrongKind, len(b))
	}
	h := (*hashHeader)(unsafe.Pointer(unsafe.SliceData(b)))
	if h.magic != hashMagic || h.keySize != keySize || h.valSize != valSize {
		return fmt.Errorf("%w: hash map header magic %#x, sizes %#x, %#x", ErrWrongKind, h.magic, h.keySize, h.valSize)
	}
	if h.base == 0 || h.base&(h.base-1) != 0 || h.level >= hashSegments-1 || h.split >= h.base<<h.level {
		return fmt.Errorf("%w: hash map shape base %d level %d split %d", ErrDamaged, h.base, h.level, h.split)
	}
	m.v, m.h, m.oid, m.keySize, m.valSize = v, h, oid, keySize, valSize
	var total int64
	for i := range h.counts {
		total += h.counts[i].n
	}
	m.total.Store(total)
	m.buckets.Store(h.base<<h.level + h.split)
	return nil
}

// bucketOf is the bucket of hash under the current shape (shape held).
func (m *hashCore) bucketOf(hash uint64) uint64 {
	n := m.h.base << m.h.level
	b := hash & (n - 1)
	if b < m.h.split {
		b = hash & (2*n - 1)
	}
	return b
}

// bucket returns the head word of bucket b.
func (m *hashCore) bucket(b uint64) (*uint64, error) {
	k, i := uint64(0), b
	if b >= m.h.base {
		k = uint64(bits.Len64(b / m.h.base))
		i = b - m.h.base<<(k-1)
	}
	if k >= hashSegments || m.h.segs[k] == 0 {
		return nil, fmt.Errorf("%w: bucket %d has no segment", ErrDamaged, b)
	}
	return at[uint64](&m.v, m.h.segs[k]+8*i)
}

// node returns the node at off and its key and value.
func (m *hashCore) node(off uint64) (*hashNode, []byte, []byte, error) {
	n, err := at[hashNode](&m.v, off)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := m.v.bytes(off+hashNodeSize, uint64(n.klen)+uint64(n.vlen))
	if err != nil {
		return nil, nil, nil, err
	}
	return n, b[:n.klen:n.klen], b[n.klen:], nil
}

// find returns the word linking key's node (or the chain's last link,
// holding 0) in bucket head, with the node.
func (m *hashCore) find(head *uint64, hash uint64, key []byte) (*uint64, []byte, error) {
	w := head
	for steps := 0; *w != 0; steps++ {
		n, k, v, err := m.node(*w)
		if err != nil {
			return nil, nil, err
		}
		if n.hash == hash && bytes.Equal(k, key) {
			return w, v, nil
		}
		if steps > 1<<32 {
			return nil, nil, fmt.Errorf("%w: hash chain loops", ErrDamaged)
		}
		w = &n.next
	}
	return w, nil, nil
}

// lock takes the shape for reading and key's bucket stripe, returning the
// bucket's head word and the stripe to unlock.
func (m *hashCore) lock(hash uint64, write bool) (*uint64, int, error) {
	m.shape.RLock()
	b := m.bucketOf(hash)
	s := int(b % hashStripes)
	if write {
		m.stripes[s].Lock()
	} else {
		m.stripes[s].RLock()
	}
	head, err := m.bucket(b)
	if err != nil {
		m.unlock(s, write)
		return nil, 0, err
	}
	return head, s, nil
}

func (m *hashCore) unlock(s int, write bool) {
	if write {
		m.stripes[s].Unlock()
	} else {
		m.stripes[s].RUnlock()
	}
	m.shape.RUnlock()
}

// view calls fn with key's value under the bucket's read lock.
func (m *hashCore) view(key []byte, fn func([]byte)) error {
	hash := hashKey(key)
	head, s, err := m.lock(hash, false)
	if err != nil {
		return err
	}
	defer m.unlock(s, false)
	_, v, err := m.find(head, hash, key)
	if err != nil {
		return err
	}
	if v == nil {
		return ErrNotFound
	}
	fn(v)
	return nil
}

// countWord is stripe s's count slot as the word a mutator sets.
func (m *hashCore) countWord(s int) *uint64 {
	return (*uint64)(unsafe.Pointer(&m.h.counts[s].n))
}

// put stores val under key, published atomically; with onlyNew it leaves
// an existing entry alone. It reports whether it inserted.
func (m *hashCore) put(key, val []byte, onlyNew bool) (inserted bool, err error) {
	if uint64(len(key)) > 1<<32-1 || uint64(len(val)) > 1<<32-1 {
		return false, ErrKeySize
	}
	hash := hashKey(key)
	head, s, err := m.lock(hash, true)
	if err != nil {
		return false, err
	}
	err = mutate(&m.v, nil, func(mu *mutator) error {
		w, v, err := m.find(head, hash, key)
		if err != nil || (v != nil && onlyNew) {
			return err
		}
		off, b, err := mu.alloc(hashNodeSize+uint64(len(key))+uint64(len(val)), typeHashNode)
		if err != nil {
			return err
		}
		n := (*hashNode)(unsafe.Pointer(&b[0]))
		n.hash, n.klen, n.vlen = hash, uint32(len(key)), uint32(len(val))
		copy(b[hashNodeSize:], key)
		copy(b[hashNodeSize+uint64(len(key)):], val)
		if v != nil { // a new node in the old one's place
			old := *w
			on, err := at[hashNode](&m.v, old)
			if err != nil {
				return err
			}
			n.next = on.next
			if err := mu.set(w, off); err != nil {
				return err
			}
			return mu.free(old)
		}
		n.next = *head
		if err := mu.set(head, off); err != nil {
			return err
		}
		inserted = true
		return mu.set(m.countWord(s), uint64(m.h.counts[s].n+1))
	})
	m.unlock(s, true)
	if err != nil || !inserted {
		return false, err
	}
	if m.total.Add(1) > int64(hashLoad*(m.buckets.Load()+hashBatch)) {
		err = m.grow()
	}
	return true, err
}

// remove deletes key, published atomically.
func (m *hashCore) remove(key []byte) (found bool, err error) {
	hash := hashKey(key)
	head, s, err := m.lock(hash, true)
	if err != nil {
		return false, err
	}
	err = mutate(&m.v, nil, func(mu *mutator) error {
		w, v, err := m.find(head, hash, key)
		if err != nil || v == nil {
			return err
		}
		off := *w
		n, err := at[hashNode](&m.v, off)
		if err != nil {
			return err
		}
		if err := mu.set(w, n.next); err != nil {
			return err
		}
		if err := mu.set(m.countWord(s), uint64(m.h.counts[s].n-1)); err != nil {
			return err
		}
		found = true
		return mu.free(off)
	})
	m.unlock(s, true)
	if found && err == nil {
		m.total.Add(-1)
	} else {
		found = false
	}
	return found, err
}

// grow splits buckets until the table is within its load, several
// splits (up to a redo log's worth of links) published atomically
// together, with every other call held off.
func (m *hashCore) grow() error {
	m.shape.Lock()
	defer m.shape.Unlock()
	for {
		over := m.total.Load() - int64(hashLoad*m.buckets.Load())
		if over <= 0 {
			return nil
		}
		err := mutate(&m.v, nil, func(mu *mutator) error {
			return m.splitSome(mu, int((over+hashLoad-1)/hashLoad))
		})
		m.buckets.Store(m.h.base<<m.h.level + m.h.split)
		if err != nil {
			return err
		}
	}
}

// splitActs bounds the actions of one publication of splits: their
// links fit the lane's redo log (40 entries) without an extension.
const splitActs = 24

// splitSome splits up to want buckets from bucket split on, stopping at
// the end of the round (level) or when the publication holds splitActs
// actions, and sets split (and level) once. The segment of the round's
// new buckets is allocated first if needed.
func (m *hashCore) splitSome(mu *mutator, want int) error {
	h := m.h
	n := h.base << h.level
	if h.level+1 >= hashSegments {
		return fmt.Errorf("%w: hash map at its largest", obj.ErrOutOfMemory)
	}
	seg := h.segs[h.level+1]
	if seg == 0 {
		off, b, err := mu.alloc(n*8, typeHashSegment)
		if err != nil {
			return err
		}
		clear(b)
		if err := mu.set(&h.segs[h.level+1], off); err != nil {
			return err
		}
		seg = off
	}
	split := h.split
	for done := 0; ; {
		if err := m.splitOne(mu, split, n, seg); err != nil {
			return err
		}
		split++
		if split == n {
			if err := mu.set(&h.level, h.level+1); err != nil {
				return err
			}
			return mu.set(&h.split, 0)
		}
		if done++; done >= want || len(mu.acts) >= splitActs {
			return mu.set(&h.split, split)
		}
	}
}

// splitOne moves the entries of bucket b (below n, the buckets before
// this round) whose hash has the bit n set to bucket b+n, the word b of
// segment seg. The mutator's stores are made at its publication, so the
// chains read here are those before it: each bucket's chains are its own.
func (m *hashCore) splitOne(mu *mutator, b, n, seg uint64) error {
	from, err := m.bucket(b)
	if err != nil {
		return err
	}
	to, err := at[uint64](&m.v, seg+8*b) // bucket b+n
	if err != nil {
		return err
	}
	// The two chains, each in its old order: set every link that changes.
	links := [2]*uint64{from, to}
	var changes []func() error
	link := func(side int, off uint64) {
		w, v := links[side], off
		if *w != v {
			changes = append(changes, func() error { return mu.set(w, v) })
		}
	}
	for off, steps := *from, 0; off != 0; steps++ {
		nd, err := at[hashNode](&m.v, off)
		if err != nil {
			return err
		}
		if steps > 1<<32 {
			return fmt.Errorf("%w: hash chain loops", ErrDamaged)
		}
		side := 0
		if nd.hash&n != 0 {
			side = 1
		}
		link(side, off)
		links[side] = &nd.next
		off = nd.next
	}
	link(0, 0)
	link(1, 0)
	for _, c := range changes {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// each yields copies of the entries, one bucket at a time under its lock.
func (m *hashCore) each(yield func(k, v []byte) bool) {
	var buf [][2][]byte
	for b := uint64(0); ; b++ {
		m.shape.RLock()
		if b >= m.h.base<<m.h.level+m.h.split {
			m.shape.RUnlock()
			return
		}
		s := b % hashStripes
		m.stripes[s].RLock()
		buf = buf[:0]
		head, err := m.bucket(b)
		if err == nil {
			for off := *head; off != 0 && len(buf) <= 1<<24; {
				var n *hashNode
				var k, v []byte
				if n, k, v, err = m.node(off); err != nil {
					break
				}
				buf = append(buf, [2][]byte{append([]byte(nil), k...), append([]byte(nil), v...)})
				off = n.next
			}
		}
		m.stripes[s].RUnlock()
		m.shape.RUnlock()
		if err != nil {
			return
		}
		for _, e := range buf {
			if !yield(e[0], e[1]) {
				return
			}
		}
	}
}

// check verifies every chain: links in the pool, nodes in the bucket
// their hash names, hashes of their keys, sizes, no key twice, and the
// count.
func (m *hashCore) check() error {
	m.shape.Lock()
	defer m.shape.Unlock()
	for i := range m.stripes {
		m.stripes[i].Lock()
		defer m.stripes[i].Unlock()
	}
	seen := make(map[string]bool)
	nb := m.h.base<<m.h.level + m.h.split
	var total int64
	for b := range nb {
		head, err := m.bucket(b)
		if err != nil {
			return err
		}
		for off := *head; off != 0; {
			n, k, v, err := m.node(off)
			if err != nil {
				return err
			}
			if n.hash != hashKey(k) || m.bucketOf(n.hash) != b {
				return fmt.Errorf("%w: node at %#x in bucket %d, hash %#x", ErrDamaged, off, b, n.hash)
			}
			if (m.keySize != bytesValues && uint64(len(k)) != m.keySize) ||
				(m.valSize != bytesValues && uint64(len(v)) != m.valSize) {
				return fmt.Errorf("%w: node at %#x of %d+%d bytes", ErrDamaged, off, len(k), len(v))
			}
			if seen[string(k)] {
				return fmt.Errorf("%w: key %q twice", ErrDamaged, k)
			}
			seen[string(k)] = true
			total++
			off = n.next
		}
	}
	var count int64
	for i := range m.h.counts {
		count += m.h.counts[i].n
	}
	if total != count || total != m.total.Load() {
		return fmt.Errorf("%w: %d entries, count %d, volatile count %d", ErrDamaged, total, count, m.total.Load())
	}
	return nil
}

// objects yields the OID of every object of the map, header first, then
// segments and nodes, stopping at a damaged link. No change may run
// meanwhile.
func (m *hashCore) objects(yield func(obj.OID) bool) {
	if !yield(m.oid) {
		return
	}
	for _, s := range m.h.segs {
		if s != 0 && !yield(m.v.oid(s)) {
			return
		}
	}
	for b := range m.h.base<<m.h.level + m.h.split {
		head, err := m.bucket(b)
		if err != nil {
			return
		}
		for off := *head; off != 0; {
			n, err := at[hashNode](&m.v, off)
			if err != nil || !yield(m.v.oid(off)) {
				return
			}
			off = n.next
		}
	}
}

// destroy frees every object of the map in tx.
func (m *hashCore) destroy(tx *obj.Tx) error {
	if err := m.check(); err != nil {
		return err
	}
	for oid := range m.objects {
		if err := tx.Free(oid); err != nil {
			return err
		}
	}
	return nil
}

// OID is the map's header: store it to find the map again.
func (m *ConcurrentHashMap[K, V]) OID() obj.OID { return m.m.oid }

// Len is the number of entries.
func (m *ConcurrentHashMap[K, V]) Len() int { return int(m.m.total.Load()) }

// Get returns k's value, or ErrNotFound.
func (m *ConcurrentHashMap[K, V]) Get(k K) (V, error) {
	var v V
	err := m.m.view(valueBytes(&k), func(b []byte) { copy(valueBytes(&v), b) })
	return v, err
}

// Put stores v under k, inserting or replacing, durably.
func (m *ConcurrentHashMap[K, V]) Put(k K, v V) error {
	_, err := m.m.put(valueBytes(&k), valueBytes(&v), false)
	return err
}

// Insert stores v under k if k is absent and reports whether it did.
func (m *ConcurrentHashMap[K, V]) Insert(k K, v V) (bool, error) {
	return m.m.put(valueBytes(&k), valueBytes(&v), true)
}

// Delete removes k and reports whether it was there.
func (m *ConcurrentHashMap[K, V]) Delete(k K) (bool, error) { return m.m.remove(valueBytes(&k)) }

// All yields every entry, in no order, one bucket at a time: an entry
// present and unchanged through the whole iteration is yielded, changes
// made meanwhile may or may not be seen, and an entry moved by a
// concurrent growth may be yielded twice.
func (m *ConcurrentHashMap[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		m.m.each(func(k, v []byte) bool { return yield(fromBytes[K](k), fromBytes[V](v)) })
	}
}

// Check verifies the map (every chain, hash, size and the counts) with
// every other call held off; damage wraps ErrDamaged.
func (m *ConcurrentHashMap[K, V]) Check() error { return m.m.check() }

// Objects yields the OID of every object the map owns (for leak checks
// and tools); no change may run meanwhile.
func (m *ConcurrentHashMap[K, V]) Objects() iter.Seq[obj.OID] { return m.m.objects }

// Destroy frees every object of the map in tx (nil: its own). No other
// call may run during or after it.
func (m *ConcurrentHashMap[K, V]) Destroy(tx *obj.Tx) error { return inTx(m.m.v.p, tx, m.m.destroy) }

// OID is the map's header: store it to find the map again.
func (m *BytesHashMap) OID() obj.OID { return m.m.oid }

// Len is the number of entries.
func (m *BytesHashMap) Len() int { return int(m.m.total.Load()) }

// Get appends key's value to dst, or fails with ErrNotFound.
func (m *BytesHashMap) Get(dst, key []byte) ([]byte, error) {
	err := m.m.view(key, func(b []byte) { dst = append(dst, b...) })
	return dst, err
}

// View calls fn with key's value in the pool, under the bucket's read
// lock (fn must not keep or change the value, nor call the map), or
// fails with ErrNotFound.
func (m *BytesHashMap) View(key []byte, fn func(value []byte)) error { return m.m.view(key, fn) }

// Put stores value under key, inserting or replacing, durably.
func (m *BytesHashMap) Put(key, value []byte) error {
	_, err := m.m.put(key, value, false)
	return err
}

// Insert stores value under key if key is absent and reports whether it
// did.
func (m *BytesHashMap) Insert(key, value []byte) (bool, error) { return m.m.put(key, value, true) }

// Delete removes key and reports whether it was there.
func (m *BytesHashMap) Delete(key []byte) (bool, error) { return m.m.remove(key) }

// All yields copies of every entry, as ConcurrentHashMap.All.
func (m *BytesHashMap) All() iter.Seq2[[]byte, []byte] { return m.m.each }

// Check verifies the map as ConcurrentHashMap.Check.
func (m *BytesHashMap) Check() error { return m.m.check() }

// Objects yields the OID of every object the map owns.
func (m *BytesHashMap) Objects() iter.Seq[obj.OID] { return m.m.objects }

// Destroy frees every object of the map in tx (nil: its own).
func (m *BytesHashMap) Destroy(tx *obj.Tx) error { return inTx(m.m.v.p, tx, m.m.destroy) }
