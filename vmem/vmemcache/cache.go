package vmemcache

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/hal"
)

// Policy is what a Put into a full cache does (enum vmemcache_repl_p).
type Policy uint8

const (
	// PolicyLRU evicts the least recently used entries until the new one
	// fits (VMEMCACHE_REPLACEMENT_LRU, C's default).
	PolicyLRU Policy = iota
	// PolicyNone makes a Put into a full cache fail with ErrNoSpace;
	// entries leave only through Evict (VMEMCACHE_REPLACEMENT_NONE).
	PolicyNone
)

const (
	// MinSize is the smallest cache, in bytes (VMEMCACHE_MIN_POOL), and the
	// size of a cache on a directory whose Options.Size is 0.
	MinSize = 1 << 20
	// MinExtentSize is the smallest extent size, in bytes
	// (VMEMCACHE_MIN_EXTENT), and the default.
	MinExtentSize = 256

	extHeader = 8  // per extent: run length in units, next run + 1
	recSize   = 24 // per entry, at the start of its first extent: stamp, value and key lengths
	nShards   = 32
	pageSize  = 4096
)

// Options configure a cache; the zero value (or nil) is C's defaults: LRU,
// 256-byte extents, 1 MiB on a directory.
type Options struct {
	// Size of the cache in bytes, rounded up to a multiple of 4096; 0 means
	// MinSize. Ignored by NewRegion (the region's length is the size).
	Size int64
	// ExtentSize is the allocation unit in bytes, at least MinExtentSize
	// (0 means that); a multiple of 64 is best, of 4096 on block storage.
	ExtentSize int64
	// Policy on a full cache.
	Policy Policy
	// OnEvict, when set, is called with the key of each entry being
	// evicted (by LRU or by Evict), before it goes: until it returns, the
	// entry can still be read. It runs on the goroutine that evicts, with
	// no lock held, and may call the cache. key is valid during the call.
	OnEvict func(c *Cache, key []byte)
	// OnMiss, when set, is called by a Get that found no entry, with no
	// lock held; if it puts the key, the Get returns that value. key is the
	// caller's.
	OnMiss func(c *Cache, key []byte)
}

// Cache is a volatile key-value cache whose values (and keys) live in a
// mapped file or a caller's region, off the Go heap. All methods but Close
// may be called from many goroutines at once.
type Cache struct {
	data    []byte
	m       *core.Map // nil for a region
	unit    int64
	policy  Policy
	onEvict func(*Cache, []byte)
	onMiss  func(*Cache, []byte)
	seed    maphash.Seed
	closed  atomic.Bool

	// The allocator's lock, written by every put, on cache lines of its
	// own: the fields above are read by every call.
	_     [64]byte
	amu   sync.Mutex // the allocator
	alloc *allocator
	freed int64        // a run freed by the last release, -1 if none (under amu)
	avail atomic.Int64 // free units, as of the last hold of amu
	_     [64]byte
	// clock counts the entries inserted: the use stamp of a put or hit.
	// Puts write it, gets only read it.
	clock atomic.Uint64
	_     [56]byte

	// The shards, allocated apart: 4 KiB, so aligned to 4 KiB, and each
	// shard starts a cache line (see shard).
	shards *[nShards]shard
	// Get statistics by P (rounded up to a power of 2), so that gets
	// running at once on two Ps do not write one cache line.
	pstats []pstat
	units  int64 // extents of the data area
	// heads[i] is shard i's oldest stamp, side by side so that eviction
	// scans a few cache lines.
	heads [nShards]atomic.Uint64
}

// New creates a cache in a temporary file in directory dir, unlinked at
// once (vmemcache_new + vmemcache_add on a directory): it is gone when the
// cache is closed or the process exits. The file is allocated in full.
func New(dir string, opts *Options) (*Cache, error) {
	o, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	size := o.Size
	if size == 0 {
		size = MinSize
	}
	if size < MinSize || size > math.MaxInt64-pageSize {
		return nil, fmt.Errorf("vmemcache: size %d (minimum %d): %w", o.Size, MinSize, ErrInvalidArgument)
	}
	size = (size + pageSize - 1) &^ (pageSize - 1)
	if o.ExtentSize > size {
		return nil, fmt.Errorf("vmemcache: extent size %d larger than the size %d: %w", o.ExtentSize, size, ErrInvalidArgument)
	}
	if err := checkUnits(size, o.ExtentSize); err != nil {
		return nil, err
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("vmemcache: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("vmemcache: %s is not a directory: %w", dir, ErrInvalidArgument)
	}
	m, err := core.MapFile(dir, size, core.FileCreate|core.FileTmpfile, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vmemcache: %w", err)
	}
	c := newCache(m.Bytes(), o)
	c.m = m
	return c, nil
}

// NewRegion creates a cache in region, memory the caller owns (a
// [core.Map]'s bytes, an anonymous mapping; any []byte works but one on the
// Go heap defeats the purpose). The cache overwrites all of it and uses it
// until Close; the caller must not touch it meanwhile nor free it before.
func NewRegion(region []byte, opts *Options) (*Cache, error) {
	o, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	if len(region) < MinSize {
		return nil, fmt.Errorf("vmemcache: region of %d bytes (minimum %d): %w", len(region), MinSize, ErrInvalidArgument)
	}
	if err := checkUnits(int64(len(region)), o.ExtentSize); err != nil {
		return nil, err
	}
	return newCache(region, o), nil
}

// checkUnits refuses more extents than the index's 32-bit extent numbers
// hold (16 TiB of 4 KiB extents, 1 TiB of 256-byte ones).
func checkUnits(size, extent int64) error {
	if size/extent > math.MaxUint32 {
		return fmt.Errorf("vmemcache: %d extents of %d bytes (at most %d; raise the extent size): %w",
			size/extent, extent, uint32(math.MaxUint32), ErrInvalidArgument)
	}
	return nil
}

func checkOptions(opts *Options) (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ExtentSize == 0 {
		o.ExtentSize = MinExtentSize
	}
	switch {
	case o.Size < 0:
		return o, fmt.Errorf("vmemcache: size %d: %w", o.Size, ErrInvalidArgument)
	case o.ExtentSize < MinExtentSize:
		return o, fmt.Errorf("vmemcache: extent size %d (minimum %d): %w", o.ExtentSize, MinExtentSize, ErrInvalidArgument)
	case o.Policy > PolicyNone:
		return o, fmt.Errorf("vmemcache: policy %d: %w", o.Policy, ErrInvalidArgument)
	}
	return o, nil
}

func newCache(data []byte, o Options) *Cache {
	c := &Cache{
		data:    data,
		unit:    o.ExtentSize,
		policy:  o.Policy,
		onEvict: o.OnEvict,
		onMiss:  o.OnMiss,
		seed:    maphash.MakeSeed(),
		alloc:   newAllocator(data, o.ExtentSize),
		freed:   -1,
		shards:  new([nShards]shard),
		pstats:  make([]pstat, pstatsFor(runtime.GOMAXPROCS(0))),
		units:   int64(len(data)) / o.ExtentSize,
	}
	c.avail.Store(c.alloc.freeUnits)
	for i := range c.shards {
		c.shards[i].init(&c.heads[i])
	}
	return c
}

// Close releases the cache and its file (vmemcache_delete); the on-evict
// callback is not called for the entries left. It must not run
// concurrently with other calls; calls after it return ErrClosed.
func (c *Cache) Close() error {
	if c.closed.Swap(true) {
		return ErrClosed
	}
	c.data = nil
	if c.m != nil {
		return c.m.Close()
	}
	return nil
}

// Size returns the number of bytes of the data area (the rounded size).
func (c *Cache) Size() int64 { return int64(len(c.data)) }

func (c *Cache) shardOf(h uint64) *shard { return &c.shards[h%nShards] }

// Put inserts key with value (vmemcache_put), both copied into the cache.
// It fails with ErrExists if key is there already, ErrTooLarge if key and
// value together exceed what the cache holds when empty (or the key is 4
// GiB or longer), and ErrNoSpace if
// it is full and the policy is none (or nothing is left to evict). With the
// LRU policy it evicts the least recently used entries until the new one
// fits; a value larger than any free extent is split over several.
func (c *Cache) Put(key, value []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	h := maphash.Bytes(c.seed, key)
	sh := c.shardOf(h)
	sh.mu.Lock()
	sh.puts++
	found := c.find(sh, h, key) >= 0
	sh.mu.Unlock()
	total := int64(len(key)) + int64(len(value))
	if total > c.capacity() || len(key) > math.MaxUint32 {
		return fmt.Errorf("vmemcache: put of %d bytes (key and value) into a cache of %d: %w", total, len(c.data), ErrTooLarge)
	}
	if found {
		return ErrExists
	}
	first, err := c.allocate(recSize + total)
	if err != nil {
		return err
	}
	c.write(first, key, value)
	sh.mu.Lock()
	if c.find(sh, h, key) >= 0 {
		sh.mu.Unlock()
		c.release(first)
		return ErrExists
	}
	// The stamp is taken under the shard's lock, so the shard's list
	// stays in stamp order.
	stamp := c.clock.Add(1)
	binary.LittleEndian.PutUint64(c.record(first), stamp)
	n := sh.newNode(h, uint32(first), stamp)
	sh.tableInsert(h, uint32(first), n)
	sh.mu.Unlock()
	return nil
}

// capacity is the most key and value bytes one entry can hold: the whole
// area as one extent.
func (c *Cache) capacity() int64 {
	return int64(len(c.data))/c.unit*c.unit - extHeader - recSize
}

// allocate gets extents for total bytes (at least one extent), chained
// through their headers, evicting as the policy allows; it returns the
// first extent's unit + 1. An eviction is done with no lock held but the
// victim's shard's; its extents are freed in the next hold of the
// allocator's lock, which then allocates from them first. When the free
// space is known to be short, the put evicts before taking the lock, so
// a put into a full cache usually takes the allocator's lock once.
func (c *Cache) allocate(total int64) (int64, error) {
	var first, last int64 = 0, -1
	var victim int64 // the chain of an evicted entry, to free (unit + 1)
	for left := total; left > 0; {
		want := (left + extHeader + c.unit - 1) / c.unit
		if victim == 0 && c.policy == PolicyLRU && c.avail.Load() < want {
			victim = c.evictLRU()
		}
		c.amu.Lock()
		if victim != 0 {
			c.freeChain(victim)
			victim = 0
		}
		var s, got int64
		if c.freed >= 0 {
			// Just freed by an eviction, the run is in the CPU's cache.
			s, got = c.freed, c.alloc.take(c.freed, want)
			c.freed = -1
		}
		if got == 0 {
			s, got = c.alloc.alloc(want)
		}
		if got == 0 {
			c.amu.Unlock()
			if c.policy == PolicyNone {
				c.release(first)
				return 0, ErrNoSpace
			}
			if victim = c.evictLRU(); victim == 0 {
				c.release(first)
				return 0, ErrNoSpace
			}
			continue
		}
		c.avail.Store(c.alloc.freeUnits)
		c.amu.Unlock()
		c.setHeader(s, got, -1)
		if last < 0 {
			first = s + 1
		} else {
			c.setNext(last, s)
		}
		last = s
		left -= min(left, got*c.unit-extHeader)
	}
	return first, nil
}

// The header of an extent: its length in units, then the next extent's
// unit + 1 (0 at the end of the chain), 32 bits each (checkUnits).
func (c *Cache) hdr(u int64) []byte { p := u * c.unit; return c.data[p : p+extHeader] }

func (c *Cache) setHeader(u, n, next int64) {
	h := c.hdr(u)
	binary.LittleEndian.PutUint32(h[0:], uint32(n))
	binary.LittleEndian.PutUint32(h[4:], uint32(next+1))
}

func (c *Cache) setNext(u, next int64) {
	binary.LittleEndian.PutUint32(c.hdr(u)[4:], uint32(next+1))
}

// extent returns the payload of the extent at unit u and the next one's
// unit (-1 at the end of the chain).
func (c *Cache) extent(u int64) (payload []byte, next int64) {
	h := c.hdr(u)
	n := int64(binary.LittleEndian.Uint32(h[0:]))
	next = int64(binary.LittleEndian.Uint32(h[4:])) - 1
	p := u * c.unit
	return c.data[p+extHeader : p+n*c.unit], next
}

// record returns the entry record at the start of the first extent's
// payload (unit + 1): the use stamp (bytes 0-7), the value's length (8-15)
// and the key's (16-19). The key and then the value follow it.
func (c *Cache) record(first int64) []byte {
	p := (first-1)*c.unit + extHeader
	return c.data[p : p+recSize]
}

// release frees the chain starting at first (unit + 1, 0 = none).
func (c *Cache) release(first int64) {
	if first == 0 {
		return
	}
	c.amu.Lock()
	c.freeChain(first)
	c.avail.Store(c.alloc.freeUnits)
	c.amu.Unlock()
}

// freeChain is release with the allocator's lock held. It notes the
// merged free run of the chain's first extent in c.freed.
func (c *Cache) freeChain(first int64) {
	c.freed = -1
	for u := first - 1; u >= 0; {
		h := c.hdr(u)
		n := int64(binary.LittleEndian.Uint32(h[0:]))
		next := int64(binary.LittleEndian.Uint32(h[4:])) - 1
		s := c.alloc.free(u, n)
		if c.freed < 0 {
			c.freed = s
		}
		u = next
	}
}

// write copies the record, key then value into the chain (the record's
// stamp is set on insertion).
func (c *Cache) write(first int64, key, value []byte) {
	var rec [recSize]byte
	binary.LittleEndian.PutUint64(rec[8:], uint64(len(value)))
	binary.LittleEndian.PutUint32(rec[16:], uint32(len(key)))
	u := first - 1
	var p []byte
	for _, src := range [3][]byte{rec[:], key, value} {
		for len(src) > 0 {
			if len(p) == 0 {
				p, u = c.extent(u)
			}
			n := copy(p, src)
			p, src = p[n:], src[n:]
		}
	}
}

// walk calls fn on the stream of record, key and value bytes from off on,
// piece by piece, until fn returns false.
func (c *Cache) walk(first, off int64, fn func([]byte) bool) {
	for u := first - 1; u >= 0; {
		p, next := c.extent(u)
		if off >= int64(len(p)) {
			off -= int64(len(p))
		} else if !fn(p[off:]) {
			return
		} else {
			off = 0
		}
		u = next
	}
}

func keyLenOf(rec []byte) int64 { return int64(binary.LittleEndian.Uint32(rec[16:])) }
func valLenOf(rec []byte) int64 { return int64(binary.LittleEndian.Uint64(rec[8:])) }

// keyEqual reports whether the key of the entry at first is key.
func (c *Cache) keyEqual(first uint32, key []byte) bool {
	p, _ := c.extent(int64(first) - 1)
	if keyLenOf(p) != int64(len(key)) {
		return false
	}
	if len(p) >= recSize+len(key) {
		return bytes.Equal(p[recSize:recSize+len(key)], key) // the usual case: one extent
	}
	eq := true
	c.walk(int64(first), recSize, func(p []byte) bool {
		n := min(len(p), len(key))
		if !bytes.Equal(p[:n], key[:n]) {
			eq = false
			return false
		}
		key = key[n:]
		return len(key) > 0
	})
	return eq
}

// readKey returns a copy of the key of the entry at first.
func (c *Cache) readKey(first uint32) []byte {
	kl := int(keyLenOf(c.record(int64(first))))
	key := make([]byte, 0, kl)
	if kl == 0 {
		return key
	}
	c.walk(int64(first), recSize, func(p []byte) bool {
		n := min(len(p), kl-len(key))
		key = append(key, p[:n]...)
		return len(key) < kl
	})
	return key
}

// find returns the table slot of key in sh (locked), -1 if absent.
func (c *Cache) find(sh *shard, h uint64, key []byte) int {
	mask := len(sh.table) - 1
	for i := sh.home(h); ; i = (i + 1) & mask {
		s := &sh.table[i]
		if s.first == 0 {
			return -1
		}
		if s.hash == h && c.keyEqual(s.first, key) {
			return i
		}
	}
}

// Get copies the value of key, from byte offset on, into buf
// (vmemcache_get) and returns the number of bytes copied and the value's
// full size. The copy is short when buf is, and empty when offset is at
// or past the end. A hit makes the entry the most recently used (see the
// package documentation for how recent). A miss calls OnMiss, then looks
// again; if still absent, it returns ErrNotFound. Bytes of buf past n may
// have been written (a get racing with the entry's eviction).
func (c *Cache) Get(key, buf []byte, offset int64) (n int, size int64, err error) {
	if c.closed.Load() {
		return 0, 0, ErrClosed
	}
	if offset < 0 {
		return 0, 0, fmt.Errorf("vmemcache: get at offset %d: %w", offset, ErrInvalidArgument)
	}
	h := maphash.Bytes(c.seed, key)
	st := &c.pstats[hal.CurrentP()&(len(c.pstats)-1)]
	n, size, ok := c.get(h, key, buf, offset)
	if ok {
		st.hits.Add(1)
		return n, size, nil
	}
	st.misses.Add(1)
	if c.onMiss != nil {
		c.onMiss(c, key)
		if n, size, ok = c.get(h, key, buf, offset); ok {
			return n, size, nil
		}
	}
	return 0, 0, ErrNotFound
}

// get looks key up and copies its value: optimistically, with no lock
// (see getOptimistic), then, if that cannot tell, under the shard's lock.
func (c *Cache) get(h uint64, key, buf []byte, offset int64) (n int, size int64, ok bool) {
	sh := c.shardOf(h)
	if optimistic {
		switch n, size, r := c.getOptimistic(sh, h, key, buf, offset); r {
		case optHit:
			return n, size, true
		case optMiss:
			return 0, 0, false
		}
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := c.find(sh, h, key)
	if i < 0 {
		return 0, 0, false
	}
	s := sh.table[i]
	p, next := c.extent(int64(s.first) - 1)
	rec := p[:recSize]
	size = valLenOf(rec)
	if offset < size && len(buf) > 0 {
		buf = buf[:min(int64(len(buf)), size-offset)]
		off := recSize + keyLenOf(rec) + offset
		for {
			if off >= int64(len(p)) {
				off -= int64(len(p))
			} else {
				n += copy(buf[n:], p[off:])
				off = 0
			}
			if n == len(buf) {
				break
			}
			p, next = c.extent(next)
		}
	}
	// A hit writes the stamp and moves the entry only if a put came
	// since its last use: a run of gets between puts writes nothing
	// but the shard's lock.
	if now := c.clock.Load(); binary.LittleEndian.Uint64(rec) != now {
		binary.LittleEndian.PutUint64(rec, now)
		sh.touch(s.node, now)
	}
	return n, size, true
}

const (
	optRetry = iota // no answer: take the lock
	optMiss
	optHit
)

// getOptimistic is a get with no lock that writes nothing shared, for the
// usual hit of an entry already stamped with the current clock. It reads
// the shard's sequence number, which writers of the table make odd while
// they change it (and deletions change before the entry's extents are
// freed), looks up and copies as a locked get would, every offset and
// length read checked against the data area, then reads the sequence
// number again: if it changed, what was read may be torn and it answers
// optRetry. So does a hit that must stamp the entry, or a key longer than
// its first extent. It relies on loads not being reordered with loads
// (amd64), and on reads that race with writes, so it runs only in
// non-race amd64 builds (optimistic).
func (c *Cache) getOptimistic(sh *shard, h uint64, key, buf []byte, offset int64) (n int, size int64, r int) {
	s1 := sh.seq.Load()
	if s1&1 != 0 {
		return 0, 0, optRetry
	}
	tab := *sh.pub.Load()
	mask := len(tab) - 1
	i := int(h>>16) & mask
	for range len(tab) {
		s := tab[i]
		i = (i + 1) & mask
		if s.first == 0 {
			if sh.seq.Load() != s1 {
				return 0, 0, optRetry
			}
			return 0, 0, optMiss
		}
		if s.hash != h {
			continue
		}
		p, next, ok := c.extentChecked(int64(s.first) - 1)
		if !ok || len(p) < recSize {
			return 0, 0, optRetry
		}
		kl := keyLenOf(p)
		if recSize+kl > int64(len(p)) {
			return 0, 0, optRetry
		}
		if kl != int64(len(key)) || !bytes.Equal(p[recSize:recSize+kl], key) {
			continue
		}
		if binary.LittleEndian.Uint64(p) != c.clock.Load() {
			return 0, 0, optRetry // to be stamped, under the lock
		}
		size = valLenOf(p)
		if size < 0 || size > c.capacity() {
			return 0, 0, optRetry
		}
		if offset < size && len(buf) > 0 {
			buf = buf[:min(int64(len(buf)), size-offset)]
			off := recSize + kl + offset
			for hops := int64(0); ; hops++ {
				if off >= int64(len(p)) {
					off -= int64(len(p))
				} else {
					n += copy(buf[n:], p[off:])
					off = 0
				}
				if n == len(buf) {
					break
				}
				if p, next, ok = c.extentChecked(next); !ok || hops > c.units {
					return 0, 0, optRetry
				}
			}
		}
		if sh.seq.Load() != s1 {
			return 0, 0, optRetry
		}
		return n, size, optHit
	}
	return 0, 0, optRetry
}

// extentChecked is extent for a header read without a lock: ok is false
// if u or the header is out of the data area.
func (c *Cache) extentChecked(u int64) (payload []byte, next int64, ok bool) {
	if u < 0 || u >= c.units {
		return nil, 0, false
	}
	h := c.hdr(u)
	n := int64(binary.LittleEndian.Uint32(h[0:]))
	if n == 0 || n > c.units-u {
		return nil, 0, false
	}
	next = int64(binary.LittleEndian.Uint32(h[4:])) - 1
	p := u * c.unit
	return c.data[p+extHeader : p+n*c.unit], next, true
}

// Exists reports whether key is in the cache and its value's size
// (vmemcache_exists); it changes neither the LRU order nor the statistics.
func (c *Cache) Exists(key []byte) (size int64, ok bool) {
	if c.closed.Load() {
		return 0, false
	}
	h := maphash.Bytes(c.seed, key)
	sh := c.shardOf(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := c.find(sh, h, key); i >= 0 {
		return valLenOf(c.record(int64(sh.table[i].first))), true
	}
	return 0, false
}

// Evict removes key (vmemcache_evict), calling OnEvict first; ErrNotFound
// if it is absent. A nil key evicts the least recently used entry, or
// fails with ErrNoEvictable if there is none or the policy is none.
func (c *Cache) Evict(key []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if key == nil {
		if c.policy == PolicyNone {
			return ErrNoEvictable
		}
		first := c.evictLRU()
		if first == 0 {
			return ErrNoEvictable
		}
		c.release(first)
		return nil
	}
	h := maphash.Bytes(c.seed, key)
	sh := c.shardOf(h)
	sh.mu.Lock()
	i := c.find(sh, h, key)
	if i < 0 || sh.nodes[sh.table[i].node].evicting {
		sh.mu.Unlock()
		return ErrNotFound
	}
	c.release(c.evictNode(sh, sh.table[i].node))
	return nil
}

// evictLRU evicts the least recently used entry, if there is one, and
// returns its chain for the caller to free (0 if none).
func (c *Cache) evictLRU() int64 {
	for {
		var best *shard
		bestStamp := uint64(math.MaxUint64)
		for i := range c.shards {
			if s := c.heads[i].Load(); s < bestStamp {
				best, bestStamp = &c.shards[i], s
			}
		}
		if best == nil {
			return 0
		}
		best.mu.Lock()
		i := best.oldest()
		if i < 0 || best.nodes[i].stamp != bestStamp {
			best.updateHead() // it moved meanwhile: look again
			best.mu.Unlock()
			continue
		}
		return c.evictNode(best, i)
	}
}

// evictNode evicts the entry of node i of sh, which the caller has locked;
// it returns with sh unlocked, and the entry's chain, which the caller
// frees. The entry stays readable while OnEvict runs.
func (c *Cache) evictNode(sh *shard, i int32) int64 {
	if c.onEvict != nil {
		sh.nodes[i].evicting = true
		sh.updateHead()
		key := c.readKey(sh.nodes[i].first)
		sh.mu.Unlock()
		c.onEvict(c, key)
		sh.mu.Lock()
		// Marked evicting, the entry cannot have left meanwhile (nothing
		// else evicts it), though a hit may have moved it in the list.
	}
	first := int64(sh.nodes[i].first)
	sh.tableDelete(sh.slotOf(i))
	sh.removeNode(i)
	sh.evicts++
	sh.mu.Unlock()
	return first
}

// Stats are the cache's counters (C's VMEMCACHE_STAT_*).
type Stats struct {
	Puts        int64 // Put calls (STAT_PUT)
	Gets        int64 // Get calls (STAT_GET)
	Hits        int64 // Gets that found the key (STAT_HIT)
	Misses      int64 // Gets that did not (STAT_MISS)
	Evicts      int64 // entries evicted, by LRU or Evict (STAT_EVICT)
	Entries     int64 // entries now (STAT_ENTRIES)
	DRAMUsed    int64 // bytes of Go memory of the index and allocator (STAT_DRAM_SIZE_USED)
	PoolUsed    int64 // bytes of the data area allocated to entries (STAT_POOL_SIZE_USED)
	HeapEntries int64 // free runs: the free space's fragmentation (STAT_HEAP_ENTRIES)
}

// Stats returns the counters (vmemcache_get_stat, all at once). They are
// read one by one, so under concurrent calls they need not agree exactly.
func (c *Cache) Stats() Stats {
	var s Stats
	for i := range c.pstats {
		s.Hits += c.pstats[i].hits.Load()
		s.Misses += c.pstats[i].misses.Load()
	}
	s.Gets = s.Hits + s.Misses
	c.amu.Lock()
	s.PoolUsed = (c.alloc.units - c.alloc.freeUnits) * c.unit
	s.HeapEntries = c.alloc.freeRuns
	s.DRAMUsed = int64(len(c.alloc.freeStart)+len(c.alloc.freeEnd)) * 8
	c.amu.Unlock()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		s.Puts += sh.puts
		s.Evicts += sh.evicts
		s.Entries += int64(sh.count)
		s.DRAMUsed += int64(cap(sh.table))*int64(unsafe.Sizeof(tslot{})) + int64(cap(sh.nodes))*int64(unsafe.Sizeof(node{}))
		sh.mu.Unlock()
	}
	return s
}

// pstat is one P's get statistics, a cache line of its own in an array
// of 64-byte elements (size classes that are multiples of 64 bytes are
// aligned to 64).
type pstat struct {
	hits, misses atomic.Int64
	_            [48]byte
}

// pstatsFor returns the number of pstats for procs Ps: a power of 2, at
// least 2.
func pstatsFor(procs int) int {
	n := 2
	for n < procs {
		n *= 2
	}
	return n
}
