// Package vmemcache implements libvmemcache for Go: a volatile key-value
// cache whose keys and values live in a memory mapping (a temporary file on
// persistent memory, tmpfs or any file system, or a region the caller
// owns), off the Go heap, with LRU eviction. Nothing persists: the cache
// is empty when created and gone when closed. The semantics are those of
// the public pmem/vmemcache library (vmemcache(3)); the code is our own.
//
// # Use
//
//	c, err := vmemcache.New("/dev/shm", &vmemcache.Options{Size: 256 << 20})
//	...
//	err = c.Put(key, value)           // ErrExists if key is there
//	n, size, err := c.Get(key, buf, 0) // copies value[0:] into buf
//	size, ok := c.Exists(key)
//	err = c.Evict(key)                // or Evict(nil): the LRU entry
//	st := c.Stats()
//	c.Close()
//
// Keys and values are any byte strings, empty ones included, as long as a
// key and its value together fit the cache (ErrTooLarge otherwise). Put
// copies both in; Get copies the value (from an offset, as much as buf
// holds) out and returns the value's full size, so a Get with a nil buf
// asks for the size. Nothing returned points into the mapping.
//
// # Names
//
// The C calls map to Go as follows:
//
//	vmemcache_new + set_size, set_extent_size,    New(dir, &Options{Size, ExtentSize,
//	  set_eviction_policy + vmemcache_add(dir)      Policy, OnEvict, OnMiss})
//	  + callback_on_evict, callback_on_miss
//	(a region instead of a path)                  NewRegion(region, opts)
//	vmemcache_delete                              Cache.Close
//	vmemcache_put                                 Cache.Put
//	vmemcache_get                                 Cache.Get
//	vmemcache_exists                              Cache.Exists
//	vmemcache_evict                               Cache.Evict
//	vmemcache_get_stat(VMEMCACHE_STAT_*)          Cache.Stats (all counters at once)
//	VMEMCACHE_REPLACEMENT_LRU, _NONE              PolicyLRU (the zero value), PolicyNone
//	VMEMCACHE_MIN_POOL, VMEMCACHE_MIN_EXTENT      MinSize, MinExtentSize
//	errno EEXIST, ENOENT, ENOSPC, ESRCH, EINVAL   ErrExists, ErrNotFound, ErrNoSpace or
//	                                              ErrTooLarge, ErrNoEvictable, ErrInvalidArgument
//
// As in C: the size is rounded up to 4 KiB and defaults to MinSize; the
// extent size defaults to MinExtentSize; a Put of an existing key fails
// rather than replacing it; Exists changes neither the LRU order nor the
// statistics; OnEvict runs before the entry goes, which stays readable
// until it returns; OnMiss may put the missing key, which the Get then
// returns; Evict(nil) takes the least recently used entry.
//
// # Design
//
// The data area is divided into units of the extent size. An entry is
// stored in a chain of extents (runs of units): each extent starts with an
// 8-byte header (its length in units and the next extent), so a value
// larger than any free run is split across several. The first extent
// holds, after its header, the entry's 24-byte record (use stamp, value
// and key lengths), then the key and the value follow back to back, so
// the header, record and a short key share one cache line. The extent
// allocator keeps its free lists inside the free runs themselves and two
// bitmaps (two bits per unit) on the Go heap; freed runs are merged with
// free neighbours at once, so the free space is always fully coalesced
// (Stats.HeapEntries counts the free runs). A Put asks for the whole entry
// at once and takes the first run long enough, or the longest one and
// asks again for the rest; with PolicyLRU, when nothing is free, it evicts
// the least recently used entry and takes its space first (the run just
// freed, merged with its free neighbours, if it is long enough).
//
// The index is in Go memory but holds no pointers, so the garbage
// collector does not scan it however full the cache is: 32 shards, each
// with its own mutex, an open-addressing hash table (linear probing,
// 16-byte slots of hash, first extent and LRU node, at most 3/4 full),
// an LRU list of nodes in a dense array, and its own counters; the lock,
// a sequence number and the table are in the shard's first cache line. A
// Get reads one table slot (usually one cache line), the entry's first
// extent and the value; on amd64 (without the race detector) it usually
// writes nothing shared at all (see Concurrency), its hit or miss counted
// in a per-P counter.
//
// # LRU order
//
// Eviction is LRU with time counted in puts. The cache has a use clock
// that each Put inserting an entry advances (so puts write it, gets only
// read it); a put or a hit stamps the entry with the clock, and eviction
// takes an entry of the smallest stamp. The guarantee: if entry A was last
// used (put or hit) before some inserting Put began and entry B was used
// after it, A is evicted before B. Entries last used between the same two
// inserting puts are equally old and go in any order (within a shard, in
// the order of their first use in that interval). Since only puts evict,
// every eviction sees the order of uses up to the previous put, and a run
// of gets with no put in between writes no stamp and moves no entry. The
// stamps are taken under the shard's lock, so each shard's list is in
// stamp order and the oldest entry of the cache is the oldest of the 32
// list heads, which each shard publishes in an atomic. (C libvmemcache's
// order is not exact either: its later versions queue hits in a ring
// buffer, applied in batches, and do not queue a hit on an entry already
// queued.)
//
// A hit that must stamp its entry takes its shard's lock; Put copies the
// data before taking a shard lock. The allocator has one lock, taken once by
// most puts: a put evicts with no lock held but the victim's shard's
// (OnEvict runs with none), and frees the victim's extents and allocates,
// from them first, in one hold of the allocator's lock.
//
// # Concurrency
//
// Every method but Close may be called from many goroutines at once.
// Callbacks run with no lock held and may call the cache. Close must not
// run concurrently with other calls; calls after it fail with ErrClosed.
//
// Gets take no lock on amd64 (in builds without the race detector): a
// shard's writers make its sequence number odd while they change its
// table, and change the table before they free an entry's extents; a get
// reads the sequence number, looks the key up and copies the value with
// every offset and length it reads checked against the data area, then
// reads the sequence number again, and if it changed (or the entry must be
// stamped, see LRU order) does the get again under the shard's lock. So
// two goroutines reading do not pass a lock's cache line back and forth
// (with a lock per get, two goroutines got 1.16 times one goroutine's
// gets; without, 1.85 times). A get that raced with an eviction may have
// written bytes of its buffer past the n it returns. Elsewhere, and under
// the race detector, every get takes its shard's lock.
//
// # Differences from C
//
//   - Keys are stored in the mapping with the value, not in DRAM: a key
//     and its value together must fit the cache, and Stats.PoolUsed counts
//     both (with the extent headers and the entry's record, 32 bytes per
//     entry of one extent); Stats.DRAMUsed counts the Go-side index and
//     bitmaps.
//   - The LRU order is kept at the granularity of puts (see LRU order).
//   - A cache has fewer than 2^32 extents (1 TiB of 256-byte extents;
//     New says to raise the extent size) and keys are shorter than 4 GiB,
//     so that an entry costs the Go heap a 16-byte table slot and a 32-byte
//     LRU node.
//   - A cache is created in one call with all its settings, not configured
//     step by step; callbacks are fields of Options, their C arg being
//     whatever the Go closure captures.
//   - A Device DAX path is not accepted (no DAX here to test it); a
//     directory or a caller's region is.
//   - OnMiss's put is found by looking the key up again, so a value that
//     the callback could not put (the cache being too small) is not
//     returned, where C hands the callback's value straight to the Get.
//   - A Get that was satisfied by OnMiss counts as a miss, not a hit.
//   - Evict of a key whose OnEvict is already running fails with
//     ErrNotFound (C: EAGAIN or waits).
//   - There is no vmemcache_bench_set and no error-message call: errors
//     are values.
//
// # Performance
//
// tools/cmd/cachebench compares vmemcache with bigcache and ristretto:
// get and put throughput, Zipf hit ratio, and the Go heap and GC work with
// a large amount cached. On a quiet 2-core machine (values of 1000 bytes,
// a 64 MiB cache in /dev/shm, 7 alternating repetitions of 250 ms, medians
// of the per-repetition ratios vmemcache/peer, by the process's CPU clock
// | by the wall clock): gets with one goroutine 1.75 | 1.29 times
// ristretto's and 2.4 | 2.2 times bigcache's; with two goroutines 1.17 |
// 1.19 times ristretto's (range 1.13-1.22; 1.02 | 0.98 with a lock per
// get) and 2.4 | 2.4 times bigcache's. Puts of new keys into a full cache
// (each evicts) are behind bigcache's: 0.95 | 0.94 with one goroutine,
// 0.41 | 0.38 with two (the allocator's one lock), and 2.5 | 1.4 and 0.67
// | 0.63 times ristretto's, whose Set is asynchronous and drops entries
// when its buffers are full. The Zipf hit ratio was 0.7728 against
// bigcache's 0.7522 and ristretto's 0.7869 (TinyLFU admission). With 256
// MiB cached the Go heap held 16.3 MiB for vmemcache (the index) against
// 276.5 MiB for bigcache and 313.4 MiB for ristretto, and a forced
// collection took 3.4 ms against 4.1 and 54.5.
package vmemcache
