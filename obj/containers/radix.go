// Persistent ordered and concurrent containers (this file, hashmap.go and
// mpscqueue.go): RadixTree[V] and BytesRadix, a crit-bit (binary radix)
// tree of byte-string keys in lexicographic order with point, range and
// prefix iteration; ConcurrentHashMap[K, V] and BytesHashMap, a linear
// hash table safe for many goroutines; MPSCQueue, a ring of byte records
// many goroutines produce and one consumes.
//
// Each lives in objects of an obj.Pool, starting from a header object
// whose OID the caller keeps (in the root object, say): New... creates one
// inside the caller's transaction, so it exists exactly when the OID that
// names it was stored; Open... reattaches it after a restart. Their
// volatile parts (locks, counters) are rebuilt by Open. Every change is
// crash-atomic: after a crash it is complete or absent, never half made.
// A change given the caller's transaction commits or rolls back with it;
// one made on its own is published as a set of actions (obj.Pool.Reserve,
// SetValue, DeferFree, Publish): one redo log, no undo log. The element
// types must be pointer-free, as obj.Ptr's. Containers reach their nodes
// through the pool's mapping: none may be used after the pool is closed.
// Damage found in the pool (a link outside it, nodes out of order) is an
// error wrapping ErrDamaged and core.ErrCorrupt; each container's Check
// verifies it whole, and Objects lists what it owns.

package containers

import (
	"bytes"
	"fmt"
	"iter"
	"math/bits"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// RadixTree is a persistent ordered map from byte-string keys to values of
// a pointer-free type V, kept in lexicographic key order (a key sorts
// before its extensions). It is a crit-bit tree: one inner node per key
// besides the first, each naming the first bit where its two subtrees
// differ, so a lookup reads O(key bits) nodes and an insertion allocates a
// leaf and one inner node and changes one link.
//
// Put and Delete take the caller's transaction (the change commits or
// rolls back with it) or, with a nil tx, publish their change atomically
// on their own (as one set of actions: no undo log). A RadixTree is not
// safe for concurrent use: readers may run together, a writer needs them
// all out (guard it with a sync.RWMutex). Iterators yield keys that are
// views of the pool, valid until the entry is deleted or replaced; copy
// one to keep it. An iteration stops early at a damaged link; Check
// reports the damage.
type RadixTree[V any] struct {
	r radixCore
}

// BytesRadix is RadixTree with values that are byte strings of any length
// (pmemkv's radix engine): stored in the leaf beside the key, one object
// per entry; a value replaced by one of the same length is overwritten in
// place under a snapshot, one of another length gets a new leaf.
type BytesRadix struct {
	r radixCore
}

const radixMagic = 0x5452_5844_4152_4f47 // "GORADXRT"

// bytesValues is radixHeader.valSize of a BytesRadix.
const bytesValues = ^uint64(0)

// radixHeader is the tree's header object.
type radixHeader struct {
	magic   uint64
	valSize uint64 // the size of V, or bytesValues
	root    uint64 // a link: 0 (empty), a leaf's offset|1, an inner node's offset
	count   uint64 // the number of keys
}

// radixInner is an inner node: its subtrees' keys agree on every bit
// before crit and differ at crit (0 in child[0], 1 in child[1]).
type radixInner struct {
	crit  uint64 // the bit number: byte crit/9, bit crit%9 of the 9-bit symbol
	child [2]uint64
}

// radixLeaf is a leaf's head, followed by the key and the value.
type radixLeaf struct {
	klen, vlen uint32
}

const leafTag = 1

// radixCore is the byte-level tree both forms share.
type radixCore struct {
	v       poolView
	h       *radixHeader
	oid     obj.OID
	valSize uint64
}

// NewRadixTree creates an empty tree in tx: it exists if tx commits. Store
// its OID in the same transaction to find it again with OpenRadixTree.
func NewRadixTree[V any](tx *obj.Tx, p *obj.Pool) (*RadixTree[V], error) {
	if err := pointerFree[V](p); err != nil {
		return nil, err
	}
	r, err := newRadix(tx, p, sizeOf[V]())
	if err != nil {
		return nil, err
	}
	return &RadixTree[V]{r}, nil
}

// OpenRadixTree reattaches the tree whose header is oid. It fails with
// ErrWrongKind if oid names no RadixTree of a V of this size.
func OpenRadixTree[V any](p *obj.Pool, oid obj.OID) (*RadixTree[V], error) {
	if err := pointerFree[V](p); err != nil {
		return nil, err
	}
	r, err := openRadix(p, oid, sizeOf[V]())
	if err != nil {
		return nil, err
	}
	return &RadixTree[V]{r}, nil
}

// NewBytesRadix creates an empty byte-valued tree in tx, as NewRadixTree.
func NewBytesRadix(tx *obj.Tx, p *obj.Pool) (*BytesRadix, error) {
	r, err := newRadix(tx, p, bytesValues)
	if err != nil {
		return nil, err
	}
	return &BytesRadix{r}, nil
}

// OpenBytesRadix reattaches the byte-valued tree whose header is oid.
func OpenBytesRadix(p *obj.Pool, oid obj.OID) (*BytesRadix, error) {
	r, err := openRadix(p, oid, bytesValues)
	if err != nil {
		return nil, err
	}
	return &BytesRadix{r}, nil
}

func newRadix(tx *obj.Tx, p *obj.Pool, valSize uint64) (radixCore, error) {
	ptr, h, err := obj.TxNew[radixHeader](tx, typeRadixHeader)
	if err != nil {
		return radixCore{}, err
	}
	oid := ptr.OID()
	v := viewAt(p, oid, unsafe.Pointer(h))
	h.magic, h.valSize = radixMagic, valSize
	return radixCore{v: v, h: h, oid: oid, valSize: valSize}, nil
}

func openRadix(p *obj.Pool, oid obj.OID, valSize uint64) (radixCore, error) {
	v, b, err := newPoolView(p, oid, typeRadixHeader)
	if err != nil {
		return radixCore{}, err
	}
	if uintptr(len(b)) < unsafe.Sizeof(radixHeader{}) {
		return radixCore{}, fmt.Errorf("%w: %d-byte header", ErrWrongKind, len(b))
	}
	h := (*radixHeader)(unsafe.Pointer(unsafe.SliceData(b)))
	if h.magic != radixMagic || h.valSize != valSize {
		return radixCore{}, fmt.Errorf("%w: radix header magic %#x, value size %#x", ErrWrongKind, h.magic, h.valSize)
	}
	return radixCore{v: v, h: h, oid: oid, valSize: valSize}, nil
}

// symbolBit is bit g of key seen as 9-bit symbols, one per byte (a
// presence bit, then the byte's bits from the top) followed by zeros: so
// a key sorts before its extensions.
func symbolBit(key []byte, g uint64) int {
	i := g / 9
	if i >= uint64(len(key)) {
		return 0
	}
	return int((uint64(key[i]) | 0x100) >> (8 - g%9) & 1)
}

// firstDiff is the first bit where a and b differ (ok false if equal).
func firstDiff(a, b []byte) (g uint64, ok bool) {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		x := *(*uint64)(unsafe.Pointer(&a[i])) ^ *(*uint64)(unsafe.Pointer(&b[i]))
		if x != 0 {
			i += bits.TrailingZeros64(x) / 8 // little-endian: the first byte that differs
			break
		}
	}
	for ; i < n; i++ {
		if x := a[i] ^ b[i]; x != 0 {
			return uint64(i)*9 + 1 + uint64(bits.LeadingZeros8(x)), true
		}
	}
	if len(a) == len(b) {
		return 0, false
	}
	return uint64(n) * 9, true
}

func (r *radixCore) inner(link uint64) (*radixInner, error) { return at[radixInner](&r.v, link) }

// leaf returns the head, key and value of the leaf link names.
func (r *radixCore) leaf(link uint64) (*radixLeaf, []byte, []byte, error) {
	off := link &^ leafTag
	l, err := at[radixLeaf](&r.v, off)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := r.v.bytes(off+8, uint64(l.klen)+uint64(l.vlen))
	if err != nil {
		return nil, nil, nil, err
	}
	return l, b[:l.klen:l.klen], b[l.klen:], nil
}

// descend returns the leaf a walk by key's bits reaches (the only leaf
// that can hold key), and the link word that points to it; link 0 if the
// tree is empty.
func (r *radixCore) descend(key []byte) (link uint64, w *uint64, err error) {
	w = &r.h.root
	crit := uint64(0)
	for first := true; ; first = false {
		link = *w
		if link == 0 || link&leafTag != 0 {
			return link, w, nil
		}
		in, err := r.inner(link)
		if err != nil {
			return 0, nil, err
		}
		if !first && in.crit <= crit {
			return 0, nil, fmt.Errorf("%w: inner node at %#x out of order", ErrDamaged, link)
		}
		crit = in.crit
		w = &in.child[symbolBit(key, in.crit)]
	}
}

// lookup returns key's value, or ErrNotFound.
func (r *radixCore) lookup(key []byte) ([]byte, error) {
	link, _, err := r.descend(key)
	if err != nil {
		return nil, err
	}
	if link == 0 {
		return nil, ErrNotFound
	}
	_, k, v, err := r.leaf(link)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(k, key) {
		return nil, ErrNotFound
	}
	return v, nil
}

// newLeaf allocates a leaf of key and val and returns its link.
func (r *radixCore) newLeaf(m *mutator, key, val []byte) (uint64, error) {
	off, b, err := m.alloc(8+uint64(len(key))+uint64(len(val)), typeRadixLeaf)
	if err != nil {
		return 0, err
	}
	l := (*radixLeaf)(unsafe.Pointer(&b[0]))
	l.klen, l.vlen = uint32(len(key)), uint32(len(val))
	copy(b[8:], key)
	copy(b[8+len(key):], val)
	return off | leafTag, nil
}

// put stores val under key.
func (r *radixCore) put(m *mutator, key, val []byte) error {
	if uint64(len(key)) > 1<<32-1 || uint64(len(val)) > 1<<32-1 {
		return ErrKeySize
	}
	link, w, err := r.descend(key)
	if err != nil {
		return err
	}
	if link == 0 {
		nl, err := r.newLeaf(m, key, val)
		if err != nil {
			return err
		}
		if err := m.set(&r.h.root, nl); err != nil {
			return err
		}
		return m.set(&r.h.count, 1)
	}
	_, k, v, err := r.leaf(link)
	if err != nil {
		return err
	}
	d, differ := firstDiff(k, key)
	if !differ {
		if len(v) == len(val) {
			if ok, err := m.overwrite(v); ok || err != nil {
				copy(v, val)
				return err
			}
		}
		nl, err := r.newLeaf(m, key, val)
		if err != nil {
			return err
		}
		if err := m.set(w, nl); err != nil {
			return err
		}
		return m.free(link &^ leafTag)
	}
	// The new inner node goes above the first node on key's path whose
	// bit comes after d (or the leaf).
	w = &r.h.root
	for {
		n := *w
		if n&leafTag != 0 {
			break
		}
		in, err := r.inner(n)
		if err != nil {
			return err
		}
		if in.crit > d {
			break
		}
		w = &in.child[symbolBit(key, in.crit)]
	}
	nl, err := r.newLeaf(m, key, val)
	if err != nil {
		return err
	}
	off, b, err := m.alloc(uint64(unsafe.Sizeof(radixInner{})), typeRadixInner)
	if err != nil {
		return err
	}
	in := (*radixInner)(unsafe.Pointer(&b[0]))
	dir := symbolBit(key, d)
	in.crit = d
	in.child[dir], in.child[1-dir] = nl, *w
	if err := m.set(w, off); err != nil {
		return err
	}
	return m.set(&r.h.count, r.h.count+1)
}

// remove deletes key and reports whether it was there.
func (r *radixCore) remove(m *mutator, key []byte) (bool, error) {
	w := &r.h.root
	var pw *uint64 // the link to the leaf's parent
	var parent *radixInner
	dir := 0
	for {
		n := *w
		if n == 0 {
			return false, nil
		}
		if n&leafTag != 0 {
			break
		}
		in, err := r.inner(n)
		if err != nil {
			return false, err
		}
		if parent != nil && in.crit <= parent.crit {
			return false, fmt.Errorf("%w: inner node at %#x out of order", ErrDamaged, n)
		}
		pw, parent = w, in
		dir = symbolBit(key, in.crit)
		w = &in.child[dir]
	}
	link := *w
	_, k, _, err := r.leaf(link)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(k, key) {
		return false, nil
	}
	if parent == nil {
		if err := m.set(&r.h.root, 0); err != nil {
			return false, err
		}
	} else {
		poff := *pw
		if err := m.set(pw, parent.child[1-dir]); err != nil {
			return false, err
		}
		if err := m.free(poff); err != nil {
			return false, err
		}
	}
	if err := m.set(&r.h.count, r.h.count-1); err != nil {
		return false, err
	}
	return true, m.free(link &^ leafTag)
}

// scanStep is a subtree still to visit and the least bit its inner nodes
// may name.
type scanStep struct {
	link, minCrit uint64
}

// seek returns the stack of subtrees holding, in order, every key >= lo.
func (r *radixCore) seek(lo []byte) ([]scanStep, error) {
	root := r.h.root
	if root == 0 {
		return nil, nil
	}
	if lo == nil {
		return []scanStep{{root, 0}}, nil
	}
	link, _, err := r.descend(lo)
	if err != nil {
		return nil, err
	}
	_, k, _, err := r.leaf(link)
	if err != nil {
		return nil, err
	}
	d, differ := firstDiff(k, lo)
	var stack []scanStep
	n, minCrit := root, uint64(0)
	for n&leafTag == 0 {
		in, err := r.inner(n)
		if err != nil {
			return nil, err
		}
		if in.crit < minCrit {
			return nil, fmt.Errorf("%w: inner node at %#x out of order", ErrDamaged, n)
		}
		if differ && in.crit > d {
			break
		}
		minCrit = in.crit + 1
		b := symbolBit(lo, in.crit)
		if b == 0 {
			stack = append(stack, scanStep{in.child[1], minCrit})
		}
		n = in.child[b]
	}
	if !differ || symbolBit(lo, d) == 0 {
		stack = append(stack, scanStep{n, minCrit})
	}
	return stack, nil
}

// scan yields the entries with lo <= key < hi in order (nil: unbounded).
func (r *radixCore) scan(lo, hi []byte, yield func(k, v []byte) bool) {
	stack, err := r.seek(lo)
	if err != nil {
		return
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, minCrit := s.link, s.minCrit
		for n&leafTag == 0 {
			in, err := r.inner(n)
			if err != nil || in.crit < minCrit {
				return
			}
			minCrit = in.crit + 1
			stack = append(stack, scanStep{in.child[1], minCrit})
			n = in.child[0]
		}
		_, k, v, err := r.leaf(n)
		if err != nil {
			return
		}
		if hi != nil && bytes.Compare(k, hi) >= 0 {
			return
		}
		if !yield(k, v) {
			return
		}
	}
}

// prefixEnd is the least key greater than every key starting with p
// (nil: none).
func prefixEnd(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			end := append([]byte(nil), p[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}

// check verifies the whole tree: links in the pool, bits increasing on
// every path, each leaf on the side of each ancestor its key's bit names,
// keys in strictly increasing order, and the count.
func (r *radixCore) check() error {
	c := radixCheck{r: r}
	if r.h.root != 0 {
		if err := c.node(r.h.root, nil); err != nil {
			return err
		}
	}
	if c.n != r.h.count {
		return fmt.Errorf("%w: %d keys, count %d", ErrDamaged, c.n, r.h.count)
	}
	return nil
}

type radixCheck struct {
	r    *radixCore
	n    uint64
	prev []byte
}

// radixAnc is an ancestor of a node: its bit and the side taken.
type radixAnc struct {
	crit uint64
	dir  int
}

func (c *radixCheck) node(link uint64, path []radixAnc) error {
	if link&leafTag == 0 {
		in, err := c.r.inner(link)
		if err != nil {
			return err
		}
		if len(path) > 0 && in.crit <= path[len(path)-1].crit {
			return fmt.Errorf("%w: inner node at %#x out of order", ErrDamaged, link)
		}
		if in.child[0] == 0 || in.child[1] == 0 {
			return fmt.Errorf("%w: inner node at %#x with a null child", ErrDamaged, link)
		}
		for dir := range 2 {
			if err := c.node(in.child[dir], append(path, radixAnc{in.crit, dir})); err != nil {
				return err
			}
		}
		return nil
	}
	_, k, v, err := c.r.leaf(link)
	if err != nil {
		return err
	}
	if c.r.valSize != bytesValues && uint64(len(v)) != c.r.valSize {
		return fmt.Errorf("%w: leaf at %#x holds %d value bytes, not %d", ErrDamaged, link, len(v), c.r.valSize)
	}
	for _, a := range path {
		if symbolBit(k, a.crit) != a.dir {
			return fmt.Errorf("%w: key %q on the wrong side of bit %d", ErrDamaged, k, a.crit)
		}
	}
	if c.n > 0 && bytes.Compare(c.prev, k) >= 0 {
		return fmt.Errorf("%w: key %q after %q", ErrDamaged, k, c.prev)
	}
	c.prev = append(c.prev[:0], k...)
	c.n++
	return nil
}

// objects yields the OID of every object of the tree, header first,
// stopping at a damaged link.
func (r *radixCore) objects(yield func(obj.OID) bool) {
	if !yield(r.oid) {
		return
	}
	var walk func(link uint64) bool
	walk = func(link uint64) bool {
		if link&leafTag == 0 {
			in, err := r.inner(link)
			if err != nil {
				return false
			}
			if !yield(r.v.oid(link)) || !walk(in.child[0]) {
				return false
			}
			return walk(in.child[1])
		}
		return yield(r.v.oid(link &^ leafTag))
	}
	if r.h.root != 0 {
		walk(r.h.root)
	}
}

// destroy frees every object of the tree in tx.
func (r *radixCore) destroy(tx *obj.Tx) error {
	var oids []obj.OID
	for oid := range r.objects {
		oids = append(oids, oid)
	}
	if err := r.check(); err != nil {
		return err
	}
	for _, oid := range oids {
		if err := tx.Free(oid); err != nil {
			return err
		}
	}
	return nil
}

// OID is the tree's header: store it to find the tree again.
func (t *RadixTree[V]) OID() obj.OID { return t.r.oid }

// Len is the number of keys.
func (t *RadixTree[V]) Len() int { return int(t.r.h.count) }

// Get returns key's value, or ErrNotFound.
func (t *RadixTree[V]) Get(key []byte) (V, error) {
	b, err := t.r.lookup(key)
	if err != nil {
		var zero V
		return zero, err
	}
	return fromBytes[V](b), nil
}

// Put stores v under key, inserting or replacing, in tx (nil: atomically
// on its own).
func (t *RadixTree[V]) Put(tx *obj.Tx, key []byte, v V) error {
	return mutate(&t.r.v, tx, func(m *mutator) error { return t.r.put(m, key, valueBytes(&v)) })
}

// Delete removes key in tx (nil: atomically on its own) and reports
// whether it was there.
func (t *RadixTree[V]) Delete(tx *obj.Tx, key []byte) (found bool, err error) {
	err = mutate(&t.r.v, tx, func(m *mutator) error {
		found, err = t.r.remove(m, key)
		return err
	})
	return found, err
}

// All yields every entry in key order.
func (t *RadixTree[V]) All() iter.Seq2[[]byte, V] { return t.Range(nil, nil) }

// Range yields the entries with lo <= key < hi in key order; a nil bound
// is no bound.
func (t *RadixTree[V]) Range(lo, hi []byte) iter.Seq2[[]byte, V] {
	return func(yield func([]byte, V) bool) {
		t.r.scan(lo, hi, func(k, v []byte) bool { return yield(k, fromBytes[V](v)) })
	}
}

// Prefix yields the entries whose key starts with prefix, in key order.
func (t *RadixTree[V]) Prefix(prefix []byte) iter.Seq2[[]byte, V] {
	return t.Range(prefix, prefixEnd(prefix))
}

// Check verifies the tree's structure (links, order, count) and returns
// the first damage found, which wraps ErrDamaged.
func (t *RadixTree[V]) Check() error { return t.r.check() }

// Objects yields the OID of every object the tree owns (for leak checks
// and tools).
func (t *RadixTree[V]) Objects() iter.Seq[obj.OID] { return t.r.objects }

// Destroy frees every object of the tree, header included, in tx (nil:
// its own); the tree must not be used after.
func (t *RadixTree[V]) Destroy(tx *obj.Tx) error { return inTx(t.r.v.p, tx, t.r.destroy) }

// OID is the tree's header: store it to find the tree again.
func (t *BytesRadix) OID() obj.OID { return t.r.oid }

// Len is the number of keys.
func (t *BytesRadix) Len() int { return int(t.r.h.count) }

// Get appends key's value to dst, or fails with ErrNotFound.
func (t *BytesRadix) Get(dst, key []byte) ([]byte, error) {
	b, err := t.r.lookup(key)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// View calls fn with key's value in the pool, without copying it (fn must
// not keep or change it), or fails with ErrNotFound.
func (t *BytesRadix) View(key []byte, fn func(value []byte)) error {
	b, err := t.r.lookup(key)
	if err != nil {
		return err
	}
	fn(b)
	return nil
}

// Put stores value under key, inserting or replacing, in tx (nil: atomically
// on its own).
func (t *BytesRadix) Put(tx *obj.Tx, key, value []byte) error {
	return mutate(&t.r.v, tx, func(m *mutator) error { return t.r.put(m, key, value) })
}

// Delete removes key in tx (nil: atomically on its own) and reports
// whether it was there.
func (t *BytesRadix) Delete(tx *obj.Tx, key []byte) (found bool, err error) {
	err = mutate(&t.r.v, tx, func(m *mutator) error {
		found, err = t.r.remove(m, key)
		return err
	})
	return found, err
}

// All yields every entry in key order; keys and values are views of the
// pool (see BytesRadix.View).
func (t *BytesRadix) All() iter.Seq2[[]byte, []byte] { return t.Range(nil, nil) }

// Range yields the entries with lo <= key < hi in key order; a nil bound
// is no bound.
func (t *BytesRadix) Range(lo, hi []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) { t.r.scan(lo, hi, yield) }
}

// Prefix yields the entries whose key starts with prefix, in key order.
func (t *BytesRadix) Prefix(prefix []byte) iter.Seq2[[]byte, []byte] {
	return t.Range(prefix, prefixEnd(prefix))
}

// Check verifies the tree as RadixTree.Check.
func (t *BytesRadix) Check() error { return t.r.check() }

// Objects yields the OID of every object the tree owns.
func (t *BytesRadix) Objects() iter.Seq[obj.OID] { return t.r.objects }

// Destroy frees every object of the tree in tx (nil: its own).
func (t *BytesRadix) Destroy(tx *obj.Tx) error { return inTx(t.r.v.p, tx, t.r.destroy) }
