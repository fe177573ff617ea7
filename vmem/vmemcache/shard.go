package vmemcache

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// entry is one key's index record. It holds no pointers, so the index costs
// the garbage collector nothing to scan however many entries there are.
type entry struct {
	hash     uint64
	stamp    uint64 // last put or hit, from shard.stamp
	valLen   int64
	first    uint32 // first extent's unit + 1, 0 for an empty entry
	keyLen   uint32
	chain    int32 // next slot with the same hash; free list
	evicting bool  // OnEvict is running for it
}

// link is a slot's place in the LRU list, kept apart from the entries so
// that moving an entry touches a few dense cache lines, not its
// neighbours' entries.
type link struct{ prev, next int32 }

// shard is one part of the index: the entries whose hash falls to it, in
// a slab indexed by slot, with a map from hash to the first slot of that
// hash and a list in stamp order. Stamps are taken under the shard's lock,
// so each list is in stamp order and the global LRU entry is the oldest
// head of all shards: headStamp publishes each head for that search.
type shard struct {
	mu         sync.Mutex
	index      map[uint64]int32
	ents       []entry
	links      []link // LRU list of the shard, oldest first
	free       int32
	head, tail int32
	headStamp  *atomic.Uint64 // stamp of oldest(), MaxUint64 if none (in Cache.heads)
	last       uint64         // the last stamp given

	// The statistics are kept per shard, so that the goroutines using
	// different shards do not write one shared cache line on every call.
	puts, gets, hits, misses, evicts, entries atomic.Int64

	_ [64]byte // the next shard's lock and counters on other cache lines
}

// stamp returns the time of a put or hit for the LRU order: nanoseconds
// of the monotonic clock since epoch, made strictly increasing within the
// shard. The clock orders operations across shards without a shared
// counter that every get would write (a cache line bouncing between
// cores); operations of one goroutine are always nanoseconds apart, and
// concurrent ones have no order to keep.
func (sh *shard) stamp(epoch time.Time) uint64 {
	s := uint64(time.Since(epoch)) + 1
	if s <= sh.last {
		s = sh.last + 1
	}
	sh.last = s
	return s
}

func (sh *shard) init(headStamp *atomic.Uint64) {
	sh.headStamp = headStamp
	sh.index = make(map[uint64]int32)
	sh.free, sh.head, sh.tail = -1, -1, -1
	sh.headStamp.Store(math.MaxUint64)
}

// insert adds e as the most recently used entry.
func (sh *shard) insert(e entry) {
	var i int32
	if sh.free >= 0 {
		i = sh.free
		sh.free = sh.ents[i].chain
	} else {
		i = int32(len(sh.ents))
		sh.ents = append(sh.ents, entry{})
		sh.links = append(sh.links, link{})
	}
	if c, ok := sh.index[e.hash]; ok {
		e.chain = c
	} else {
		e.chain = -1
	}
	sh.index[e.hash] = i
	sh.ents[i] = e
	sh.pushTail(i)
	sh.updateHead()
}

// remove takes slot i out of the index, the list, and back to the free list.
func (sh *shard) remove(i int32) {
	e := &sh.ents[i]
	if c := sh.index[e.hash]; c == i {
		if e.chain >= 0 {
			sh.index[e.hash] = e.chain
		} else {
			delete(sh.index, e.hash)
		}
	} else {
		for ; sh.ents[c].chain != i; c = sh.ents[c].chain {
		}
		sh.ents[c].chain = e.chain
	}
	sh.unlink(i)
	*e = entry{chain: sh.free}
	sh.free = i
	sh.updateHead()
}

// touch stamps slot i and makes it the most recently used.
func (sh *shard) touch(i int32, stamp uint64) {
	sh.ents[i].stamp = stamp
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
	sh.links[i] = link{sh.tail, -1}
	if sh.tail >= 0 {
		sh.links[sh.tail].next = i
	} else {
		sh.head = i
	}
	sh.tail = i
}

func (sh *shard) unlink(i int32) {
	l := sh.links[i]
	if l.prev >= 0 {
		sh.links[l.prev].next = l.next
	} else {
		sh.head = l.next
	}
	if l.next >= 0 {
		sh.links[l.next].prev = l.prev
	} else {
		sh.tail = l.prev
	}
}

// oldest returns the least recently used slot not being evicted, -1 if none.
func (sh *shard) oldest() int32 {
	i := sh.head
	for i >= 0 && sh.ents[i].evicting {
		i = sh.links[i].next
	}
	return i
}

func (sh *shard) updateHead() {
	s := uint64(math.MaxUint64)
	if i := sh.oldest(); i >= 0 {
		s = sh.ents[i].stamp
	}
	sh.headStamp.Store(s)
}
