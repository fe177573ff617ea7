package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// stree is pmemkv's stree: a persistent B+ tree in an obj pool, sorted by
// key bytes. Leaves hold the offsets of entry objects in key order;
// inner nodes hold separator keys (objects of their own) and children.
// Every write is one obj transaction, so a crash leaves each put, remove
// or batch whole or absent. Removal does not merge nodes: a leaf may
// become empty and stays (the walks skip it), as in a B-link tree
// without compaction. Readers share a lock, writers hold it alone.
type stree struct {
	mu sync.RWMutex
	s  *store
	r  *stRoot
	n  int // pairs, counted at open
}

var _ sorted = (*stree)(nil)

// stMax is the most keys a node holds.
const stMax = 32

// stNode is a node of the tree (784 bytes). Beside each key's offset
// it keeps the key's first 8 bytes (big-endian, zero-padded), so a search
// reads the key objects only on a tie.
type stNode struct {
	Leaf uint32            // 0: 1 for a leaf
	N    uint32            // 4: keys in use
	Keys [stMax]uint64     // 8: leaf: entry offsets; inner: separator key offsets
	Pfx  [stMax]uint64     // 264: the keys' prefixes
	Kids [stMax + 1]uint64 // 520: inner: children (N+1 in use)
}

// stLeafSize is the part of a node a leaf uses (and a write snapshots).
const stLeafSize = 8 + 16*stMax

// stRoot is the engine root object.
type stRoot struct {
	Node uint64 // offset of the root node
	_    uint64
}

// prefix is k's first 8 bytes as a big-endian number, zero-padded:
// prefixes compare as the keys do, except that equal prefixes leave the
// order to the rest of the keys.
func prefix(k []byte) uint64 {
	var b [8]byte
	copy(b[:], k)
	return binary.BigEndian.Uint64(b[:])
}

// cmpAt compares the key at slot i of n with key (whose prefix is kp).
func (t *stree) cmpAt(n *stNode, i int, key []byte, kp uint64) (int, error) {
	if p := n.Pfx[i]; p != kp {
		if p < kp {
			return -1, nil
		}
		return 1, nil
	}
	k, err := t.key(n.Keys[i])
	if err != nil {
		return 0, err
	}
	return bytes.Compare(k, key), nil
}

func openSTree(cfg *Config) (engine, error) {
	s, err := openStore(cfg, STree, int(unsafe.Sizeof(stRoot{})), func(tx *obj.Tx, s *store, root uint64) error {
		leaf, err := tx.Zalloc(int(unsafe.Sizeof(stNode{})), typeNode)
		if err != nil {
			return err
		}
		n, err := view[stNode](s.m, leaf.Off)
		if err != nil {
			return err
		}
		n.Leaf = 1
		r, err := view[stRoot](s.m, root)
		if err != nil {
			return err
		}
		r.Node = leaf.Off
		return nil
	})
	if err != nil {
		return nil, err
	}
	r, _ := view[stRoot](s.m, s.root)
	t := &stree{s: s, r: r}
	if _, err := t.walk(r.Node, keyRange{}, func(_, _ []byte) bool { t.n++; return true }, 0); err != nil {
		s.close()
		return nil, err
	}
	return t, nil
}

func (t *stree) close() error { return t.s.close() }

func (t *stree) node(off uint64) (*stNode, error) {
	n, err := view[stNode](t.s.m, off)
	if err != nil {
		return nil, err
	}
	if n.N > stMax || n.Leaf > 1 || (n.Leaf == 0 && n.N == 0) {
		return nil, fmt.Errorf("%w: stree node at %#x: %d keys, leaf %d", ErrCorrupt, off, n.N, n.Leaf)
	}
	return n, nil
}

func (t *stree) key(off uint64) ([]byte, error) {
	k, _, err := t.s.entry(off)
	return k, err
}

// search returns the number of keys of n less than key (or, if upper,
// less than or equal to it), and whether key is among them.
func (t *stree) search(n *stNode, key []byte, upper bool) (int, bool, error) {
	kp := prefix(key)
	lo, hi := 0, int(n.N)
	found := false
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		c, err := t.cmpAt(n, mid, key, kp)
		if err != nil {
			return 0, false, err
		}
		found = found || c == 0
		if c < 0 || upper && c == 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, found, nil
}

// childIndex is the child of inner node n whose subtree holds key: the
// number of separators <= key.
func (t *stree) childIndex(n *stNode, key []byte) (int, error) {
	i, _, err := t.search(n, key, true)
	return i, err
}

// leafSearch returns the first slot of leaf n whose key is >= key, and
// whether it is key.
func (t *stree) leafSearch(n *stNode, key []byte) (int, bool, error) {
	return t.search(n, key, false)
}

// maxDepth bounds descents, so a damaged tree with a cycle is an error.
const maxDepth = 64

// findLeaf descends to the leaf whose range holds key.
func (t *stree) findLeaf(key []byte) (*stNode, error) {
	off := t.r.Node
	for range maxDepth {
		n, err := t.node(off)
		if err != nil {
			return nil, err
		}
		if n.Leaf == 1 {
			return n, nil
		}
		i, err := t.childIndex(n, key)
		if err != nil {
			return nil, err
		}
		off = n.Kids[i]
	}
	return nil, fmt.Errorf("%w: stree deeper than %d", ErrCorrupt, maxDepth)
}

func (t *stree) get(key []byte, fn func([]byte)) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, err := t.findLeaf(key)
	if err != nil {
		return err
	}
	i, ok, err := t.leafSearch(n, key)
	if err != nil || !ok {
		if err == nil {
			err = ErrNotFound
		}
		return err
	}
	_, v, err := t.s.entry(n.Keys[i])
	if err != nil {
		return err
	}
	fn(v)
	return nil
}

func (t *stree) countAll() (int, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n, nil
}

func (t *stree) put(key, value []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	added, ok, err := t.putActions(key, value)
	if err == nil && !ok {
		err = t.s.p.Tx(func(tx *obj.Tx) (err error) {
			added, err = t.putTx(tx, key, value)
			return err
		})
	}
	if err == nil && added {
		t.n++
	}
	return mapErr(err)
}

// putActions is a put that splits no node, made without a transaction:
// the new entry and, for an insertion, a copy of the leaf with the key in
// it are reserved and filled, then published with the link to them and
// the free of what they replace (one redo log, no undo log: fewer fences
// than a transaction's snapshot of the leaf). It returns ok false, having
// changed nothing, when the key is new and its leaf full: the
// transaction splits it.
func (t *stree) putActions(key, value []byte) (added, ok bool, err error) {
	w := &t.r.Node
	n, err := t.node(*w)
	for depth := 0; err == nil && n.Leaf == 0; depth++ {
		if depth == maxDepth {
			return false, false, fmt.Errorf("%w: stree deeper than %d", ErrCorrupt, maxDepth)
		}
		var i int
		if i, err = t.childIndex(n, key); err == nil {
			w = &n.Kids[i]
			n, err = t.node(*w)
		}
	}
	if err != nil {
		return false, false, err
	}
	i, found, err := t.leafSearch(n, key)
	if err != nil || !found && n.N == stMax {
		return false, false, err
	}
	p := t.s.p
	e, ea, err := t.s.reserveEntry(key, value, typeEntry)
	if err != nil {
		return false, true, err
	}
	acts := [4]obj.Action{ea}
	if found {
		fa, err := p.DeferFree(t.s.oid(n.Keys[i]))
		if err != nil {
			p.Cancel(ea)
			return false, true, err
		}
		acts[1], acts[2] = p.SetValue(&n.Keys[i], e), fa
		return false, true, publish(p, acts[:3])
	}
	c, na, err := t.reserveNode()
	if err != nil {
		p.Cancel(ea)
		return false, true, err
	}
	c.Leaf, c.N = 1, n.N+1
	copy(c.Keys[:i], n.Keys[:i])
	copy(c.Pfx[:i], n.Pfx[:i])
	c.Keys[i], c.Pfx[i] = e, prefix(key)
	copy(c.Keys[i+1:], n.Keys[i:n.N])
	copy(c.Pfx[i+1:], n.Pfx[i:n.N])
	p.Flush(bytesOf(c)[:stLeafSize]) // a leaf's Kids are never read
	fa, err := p.DeferFree(t.s.oid(*w))
	if err != nil {
		p.Cancel(ea, na)
		return false, true, err
	}
	acts[1], acts[2], acts[3] = na, p.SetValue(w, na.OID().Off), fa
	return true, true, publish(p, acts[:])
}

// reserveNode reserves a node, zeroed (not flushed), for the caller to
// publish with its action.
func (t *stree) reserveNode() (*stNode, obj.Action, error) {
	oid, a, err := t.s.p.Reserve(int(unsafe.Sizeof(stNode{})), typeNode)
	if err != nil {
		return nil, obj.Action{}, err
	}
	c, err := view[stNode](t.s.m, oid.Off)
	if err != nil {
		t.s.p.Cancel(a)
		return nil, obj.Action{}, err
	}
	*c = stNode{}
	return c, a, nil
}

// publish publishes acts, or cancels them if that fails.
func publish(p *obj.Pool, acts []obj.Action) error {
	err := p.Publish(acts...)
	if err != nil {
		p.Cancel(acts...)
	}
	return err
}

func (t *stree) remove(key []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.s.p.Tx(func(tx *obj.Tx) error {
		found, err := t.removeTx(tx, key)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	if err == nil {
		t.n--
	}
	return mapErr(err)
}

func (t *stree) apply(ops []batchOp) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	delta := 0
	err := t.s.p.Tx(func(tx *obj.Tx) error {
		for _, op := range ops {
			var changed bool
			var err error
			if op.del {
				changed, err = t.removeTx(tx, op.key)
			} else {
				changed, err = t.putTx(tx, op.key, op.value)
			}
			if err != nil {
				return err
			}
			if changed && op.del {
				delta--
			} else if changed {
				delta++
			}
		}
		return nil
	})
	if err == nil {
		t.n += delta
	}
	return mapErr(err)
}

// snap logs the part of n a write may change: a leaf's keys and
// prefixes, all of an inner node.
func snap(tx *obj.Tx, n *stNode) error {
	b := bytesOf(n)
	if n.Leaf == 1 {
		b = b[:stLeafSize]
	}
	return tx.AddRangeDirect(b)
}

func (t *stree) newNode(tx *obj.Tx, leaf bool) (uint64, *stNode, error) {
	oid, err := tx.Zalloc(int(unsafe.Sizeof(stNode{})), typeNode)
	if err != nil {
		return 0, nil, err
	}
	n, err := view[stNode](t.s.m, oid.Off)
	if err != nil {
		return 0, nil, err
	}
	if leaf {
		n.Leaf = 1
	}
	return oid.Off, n, nil
}

// split splits the full child i of inner node parent (or the root, if
// parent is nil) into two, inserting the separator into parent.
func (t *stree) split(tx *obj.Tx, parent *stNode, i int, off uint64, n *stNode) error {
	roff, right, err := t.newNode(tx, n.Leaf == 1)
	if err != nil {
		return err
	}
	if err := snap(tx, n); err != nil {
		return err
	}
	var sep, sepPfx uint64
	if n.Leaf == 1 {
		// The right leaf takes the upper half; the separator is a copy of
		// its first key, so removing that entry leaves it valid.
		mid := stMax / 2
		copy(right.Keys[:], n.Keys[mid:n.N])
		copy(right.Pfx[:], n.Pfx[mid:n.N])
		right.N = n.N - uint32(mid)
		k, err := t.key(right.Keys[0])
		if err != nil {
			return err
		}
		if sep, err = t.s.newEntry(tx, k, nil, typeKey); err != nil {
			return err
		}
		sepPfx = right.Pfx[0]
		clear(n.Keys[mid:])
		clear(n.Pfx[mid:])
		n.N = uint32(mid)
	} else {
		// The middle separator moves up.
		mid := stMax / 2
		sep, sepPfx = n.Keys[mid], n.Pfx[mid]
		copy(right.Keys[:], n.Keys[mid+1:n.N])
		copy(right.Pfx[:], n.Pfx[mid+1:n.N])
		copy(right.Kids[:], n.Kids[mid+1:n.N+1])
		right.N = n.N - uint32(mid) - 1
		clear(n.Keys[mid:])
		clear(n.Pfx[mid:])
		clear(n.Kids[mid+1:])
		n.N = uint32(mid)
	}
	if parent == nil {
		noff, root, err := t.newNode(tx, false)
		if err != nil {
			return err
		}
		root.N = 1
		root.Keys[0], root.Pfx[0] = sep, sepPfx
		root.Kids[0], root.Kids[1] = off, roff
		if err := tx.AddRangeDirect(bytesOf(&t.r.Node)); err != nil {
			return err
		}
		t.r.Node = noff
		return nil
	}
	if err := snap(tx, parent); err != nil {
		return err
	}
	copy(parent.Keys[i+1:], parent.Keys[i:parent.N])
	copy(parent.Pfx[i+1:], parent.Pfx[i:parent.N])
	copy(parent.Kids[i+2:], parent.Kids[i+1:parent.N+1])
	parent.Keys[i], parent.Pfx[i] = sep, sepPfx
	parent.Kids[i+1] = roff
	parent.N++
	return nil
}

// putTx inserts or replaces key, splitting full nodes on the way down so
// that a split never climbs back up.
func (t *stree) putTx(tx *obj.Tx, key, value []byte) (added bool, err error) {
	off := t.r.Node
	n, err := t.node(off)
	if err != nil {
		return false, err
	}
	if n.N == stMax {
		if err := t.split(tx, nil, 0, off, n); err != nil {
			return false, err
		}
		off = t.r.Node
		if n, err = t.node(off); err != nil {
			return false, err
		}
	}
	for depth := 0; n.Leaf == 0; depth++ {
		if depth == maxDepth {
			return false, fmt.Errorf("%w: stree deeper than %d", ErrCorrupt, maxDepth)
		}
		i, err := t.childIndex(n, key)
		if err != nil {
			return false, err
		}
		c, err := t.node(n.Kids[i])
		if err != nil {
			return false, err
		}
		if c.N == stMax {
			if err := t.split(tx, n, i, n.Kids[i], c); err != nil {
				return false, err
			}
			if i, err = t.childIndex(n, key); err != nil {
				return false, err
			}
			if c, err = t.node(n.Kids[i]); err != nil {
				return false, err
			}
		}
		n = c
	}
	i, found, err := t.leafSearch(n, key)
	if err != nil {
		return false, err
	}
	e, err := t.s.newEntry(tx, key, value, typeEntry)
	if err != nil {
		return false, err
	}
	if found {
		old := n.Keys[i]
		if err := tx.AddRangeDirect(bytesOf(&n.Keys[i])); err != nil {
			return false, err
		}
		n.Keys[i] = e
		return false, tx.Free(t.s.oid(old))
	}
	if err := snap(tx, n); err != nil {
		return false, err
	}
	copy(n.Keys[i+1:], n.Keys[i:n.N])
	copy(n.Pfx[i+1:], n.Pfx[i:n.N])
	n.Keys[i], n.Pfx[i] = e, prefix(key)
	n.N++
	return true, nil
}

func (t *stree) removeTx(tx *obj.Tx, key []byte) (bool, error) {
	n, err := t.findLeaf(key)
	if err != nil {
		return false, err
	}
	i, found, err := t.leafSearch(n, key)
	if err != nil || !found {
		return false, err
	}
	old := n.Keys[i]
	if err := snap(tx, n); err != nil {
		return false, err
	}
	copy(n.Keys[i:], n.Keys[i+1:n.N])
	copy(n.Pfx[i:], n.Pfx[i+1:n.N])
	n.Keys[n.N-1], n.Pfx[n.N-1] = 0, 0
	n.N--
	return true, tx.Free(t.s.oid(old))
}

func (t *stree) getAll(fn func(k, v []byte) bool) error {
	return t.ascend(keyRange{}, fn)
}

func (t *stree) ascend(r keyRange, fn func(k, v []byte) bool) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, err := t.walk(t.r.Node, r, fn, 0)
	return err
}

// walk visits the subtree at off in order, skipping subtrees outside r;
// false: stopped by fn.
func (t *stree) walk(off uint64, r keyRange, fn func(k, v []byte) bool, depth int) (bool, error) {
	if depth == maxDepth {
		return false, fmt.Errorf("%w: stree deeper than %d", ErrCorrupt, maxDepth)
	}
	n, err := t.node(off)
	if err != nil {
		return false, err
	}
	if n.Leaf == 1 {
		i := 0
		if r.hasLo {
			j, found, err := t.leafSearch(n, r.lo)
			if err != nil {
				return false, err
			}
			if i = j; found {
				i++
			}
		}
		for ; i < int(n.N); i++ {
			k, v, err := t.s.entry(n.Keys[i])
			if err != nil {
				return false, err
			}
			if r.hasHi && bytes.Compare(k, r.hi) >= 0 {
				return true, nil
			}
			if !fn(k, v) {
				return false, ErrStoppedByCallback
			}
		}
		return true, nil
	}
	first, last := 0, int(n.N)
	if r.hasLo {
		if first, err = t.childIndex(n, r.lo); err != nil {
			return false, err
		}
	}
	if r.hasHi {
		if last, err = t.childIndex(n, r.hi); err != nil {
			return false, err
		}
	}
	for i := first; i <= last; i++ {
		ok, err := t.walk(n.Kids[i], r, fn, depth+1)
		if !ok || err != nil {
			return ok, err
		}
	}
	return true, nil
}

func (t *stree) seek(key []byte, d seekDir, fn func(k, v []byte)) (bool, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e, err := t.seekIn(t.r.Node, key, d, 0)
	if err != nil || e == 0 {
		return false, err
	}
	k, v, err := t.s.entry(e)
	if err != nil {
		return false, err
	}
	fn(k, v)
	return true, nil
}

// seekIn returns the entry of the subtree at off nearest to key in
// direction d, or 0. Empty leaves make it look at the neighbouring
// subtrees.
func (t *stree) seekIn(off uint64, key []byte, d seekDir, depth int) (uint64, error) {
	if depth == maxDepth {
		return 0, fmt.Errorf("%w: stree deeper than %d", ErrCorrupt, maxDepth)
	}
	n, err := t.node(off)
	if err != nil {
		return 0, err
	}
	up := d == seekGE || d == seekGT || d == seekFirst
	if n.Leaf == 1 {
		if n.N == 0 {
			return 0, nil
		}
		switch d {
		case seekFirst:
			return n.Keys[0], nil
		case seekLast:
			return n.Keys[n.N-1], nil
		}
		i, found, err := t.leafSearch(n, key)
		if err != nil {
			return 0, err
		}
		switch {
		case d == seekGT && found:
			i++
		case d == seekLE && found:
			i++
		}
		if up {
			if i < int(n.N) {
				return n.Keys[i], nil
			}
			return 0, nil
		}
		if i > 0 {
			return n.Keys[i-1], nil
		}
		return 0, nil
	}
	var start int
	switch d {
	case seekFirst:
		start = 0
	case seekLast:
		start = int(n.N)
	default:
		if start, err = t.childIndex(n, key); err != nil {
			return 0, err
		}
	}
	for i := start; i >= 0 && i <= int(n.N); {
		dd := d
		if i != start {
			// A neighbouring subtree: all of it lies beyond key.
			if up {
				dd = seekFirst
			} else {
				dd = seekLast
			}
		}
		e, err := t.seekIn(n.Kids[i], key, dd, depth+1)
		if err != nil || e != 0 {
			return e, err
		}
		if up {
			i++
		} else {
			i--
		}
	}
	return 0, nil
}
