package vmemcache

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// tslot is one slot of a shard's hash table: the key's hash, the entry's
// first extent (unit + 1; 0 marks an empty slot) and its LRU node. Four
// slots share a cache line, so a lookup usually reads one line of the
// table, then the entry's first extent in the mapping (its record and key).
type tslot struct {
	hash  uint64
	first uint32
	node  int32
}

// node is an entry's place in its shard's LRU list. It holds no pointers,
// so the index costs the garbage collector nothing to scan however many
// entries there are.
type node struct {
	hash       uint64
	stamp      uint64 // the use clock at the last put or refreshing hit
	first      uint32 // the entry's first extent, unit + 1
	prev, next int32  // LRU list of the shard; next is also the free list
	evicting   bool   // OnEvict is running for it
}

// shard is one part of the index: the entries whose hash falls to it, in
// an open-addressing table (linear probing, at most 3/4 full), with an LRU
// list of nodes in stamp order. Stamps are taken from the cache's use
// clock under the shard's lock, so each list is in stamp order and the
// oldest entry of the cache is the oldest head of all shards: headStamp
// publishes each head for that search. The counters are guarded by mu.
type shard struct {
	shardFields
	_ [shardSize - unsafe.Sizeof(shardFields{})]byte
}

// shardSize is the size of a shard: a multiple of the cache line, so that
// in an aligned array each shard starts a line.
const shardSize = 128

type shardFields struct {
	// What a get writes or reads first, in the shard's first cache line:
	// the lock, the sequence number and the table.
	mu sync.Mutex
	// seq is odd while the table changes (see Cache.getOptimistic).
	seq atomic.Uint64
	// pub is the table, for getOptimistic: a copy of the slice header
	// that never changes, replaced when the table grows.
	pub          atomic.Pointer[[]tslot]
	table        []tslot
	count        int // used slots of table
	nodes        []node
	free         int32
	head, tail   int32
	headStamp    *atomic.Uint64 // stamp of oldest(), MaxUint64 if none (in Cache.heads)
	puts, evicts int64
}

const minTable = 64

func (sh *shard) init(headStamp *atomic.Uint64) {
	sh.headStamp = headStamp
	sh.setTable(make([]tslot, minTable))
	sh.free, sh.head, sh.tail = -1, -1, -1
	sh.headStamp.Store(math.MaxUint64)
}

// home is the first table slot probed for hash h. The low bits chose the
// shard, so the table uses higher ones.
func (sh *shard) home(h uint64) int { return int(h>>16) & (len(sh.table) - 1) }

// tableInsert adds (h, first, n) to the table, growing it first if it
// would be more than 3/4 full.
func (sh *shard) tableInsert(h uint64, first uint32, n int32) {
	sh.seq.Add(1)
	if (sh.count+1)*4 > len(sh.table)*3 {
		old := sh.table
		sh.setTable(make([]tslot, 2*len(old)))
		for _, s := range old {
			if s.first != 0 {
				sh.place(s)
			}
		}
	}
	sh.place(tslot{h, first, n})
	sh.count++
	sh.seq.Add(1)
}

func (sh *shard) setTable(t []tslot) {
	sh.table = t
	sh.pub.Store(&t)
}

func (sh *shard) place(s tslot) {
	mask := len(sh.table) - 1
	i := sh.home(s.hash)
	for sh.table[i].first != 0 {
		i = (i + 1) & mask
	}
	sh.table[i] = s
}

// tableDelete empties slot i, moving later slots of the probe run back so
// that every entry stays reachable from its home slot without tombstones.
func (sh *shard) tableDelete(i int) {
	sh.seq.Add(1)
	defer sh.seq.Add(1)
	mask := len(sh.table) - 1
	for j := (i + 1) & mask; sh.table[j].first != 0; j = (j + 1) & mask {
		// The entry at j may move to the hole at i if its home is not in
		// the cyclic range (i, j].
		if k := sh.home(sh.table[j].hash); (j-k)&mask >= (j-i)&mask {
			sh.table[i] = sh.table[j]
			i = j
		}
	}
	sh.table[i] = tslot{}
	sh.count--
}

// slotOf returns the table slot of the entry of node n.
func (sh *shard) slotOf(n int32) int {
	nd := &sh.nodes[n]
	mask := len(sh.table) - 1
	for i := sh.home(nd.hash); ; i = (i + 1) & mask {
		if sh.table[i].first == nd.first {
			return i
		}
	}
}

// newNode adds a node as the most recently used and returns it.
func (sh *shard) newNode(h uint64, first uint32, stamp uint64) int32 {
	var i int32
	if sh.free >= 0 {
		i = sh.free
		sh.free = sh.nodes[i].next
	} else {
		i = int32(len(sh.nodes))
		sh.nodes = append(sh.nodes, node{})
	}
	sh.nodes[i] = node{hash: h, stamp: stamp, first: first}
	sh.pushTail(i)
	sh.updateHead()
	return i
}

// removeNode takes node i out of the list and back to the free list.
func (sh *shard) removeNode(i int32) {
	sh.unlink(i)
	sh.nodes[i] = node{next: sh.free}
	sh.free = i
	sh.updateHead()
}

// touch stamps node i and makes it the most recently used.
func (sh *shard) touch(i int32, stamp uint64) {
	sh.nodes[i].stamp = stamp
	wasOldest := sh.oldest() == i
	if sh.tail != i {
		sh.unlink(i)
		sh.pushTail(i)
	}
	if wasOldest {
		sh.updateHead()
	}
}

func (sh *shard) pushTail(i int32) {
	sh.nodes[i].prev, sh.nodes[i].next = sh.tail, -1
	if sh.tail >= 0 {
		sh.nodes[sh.tail].next = i
	} else {
		sh.head = i
	}
	sh.tail = i
}

func (sh *shard) unlink(i int32) {
	prev, next := sh.nodes[i].prev, sh.nodes[i].next
	if prev >= 0 {
		sh.nodes[prev].next = next
	} else {
		sh.head = next
	}
	if next >= 0 {
		sh.nodes[next].prev = prev
	} else {
		sh.tail = prev
	}
}

// oldest returns the least recently used node not being evicted, -1 if none.
func (sh *shard) oldest() int32 {
	i := sh.head
	for i >= 0 && sh.nodes[i].evicting {
		i = sh.nodes[i].next
	}
	return i
}

func (sh *shard) updateHead() {
	s := uint64(math.MaxUint64)
	if i := sh.oldest(); i >= 0 {
		s = sh.nodes[i].stamp
	}
	sh.headStamp.Store(s)
}
