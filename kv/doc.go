// Package kv implements pmemkv in Go: a key-value store with pmemkv's
// engines, operations and status codes, on gopmdk's obj pools (the
// persistent engines) and vmem pools (the volatile ones).
//
// # Use
//
//	db, err := kv.Open(kv.STree, &kv.Config{Path: "/mnt/pmem/kv", Size: 64 << 20, CreateIfMissing: true})
//	...
//	defer db.Close()
//	err = db.Put([]byte("key"), []byte("value")) // durable when Put returns
//	v, err := db.Get([]byte("key"))
//
// # Engines
//
// By pmemkv's names:
//
//   - cmap: persistent concurrent hash map (obj pool; unsorted).
//   - radix: persistent radix tree, sorted by key bytes (obj pool).
//   - stree: persistent B+ tree, sorted by key bytes (obj pool).
//   - vsmap: volatile sorted map; keys and values in a vmem pool.
//   - vcmap: volatile concurrent hash map; keys and values in a vmem pool.
//   - blackhole: accepts every write and keeps nothing.
//
// The persistent engines keep their data in an obj pool of layout
// [Layout], made by [Open] (Config Path, Size, CreateIfMissing or
// CreateOrErrorIfExists), or inside the caller's open obj pool (Config
// Pool and Root, pmemkv's "oid"). The pool's root object holds the OID
// of a kv header object: a magic, the engine's name (opening the pool
// with another engine is [ErrWrongEngine]) and the engine's root.
// Every write is atomic (an obj transaction, or a container's published
// actions): after a crash each Put, Remove and [Batch] (radix, stree;
// cmap has none) is whole or absent, and every write that returned is
// there.
// Every offset read from the pool is bounds-checked: a damaged engine is
// [ErrCorrupt], never a panic.
//
// # pmemkv's API and its equivalent here
//
//	pmemkv_open(engine, config)       kv.Open(engine, *kv.Config)
//	pmemkv_close                      db.Close()
//	pmemkv_get (callback)             db.GetFunc(key, fn): zero copy, valid during fn
//	pmemkv_get_copy                   db.GetCopy(key, buf); db.Get(key) allocates
//	pmemkv_put / remove / exists      db.Put, db.Remove, db.Exists
//	pmemkv_count_all/above/below/between  db.CountAll, CountAbove, CountBelow, CountBetween
//	pmemkv_get_all/above/below/between    db.GetAll, GetAbove, GetBelow, GetBetween
//	pmemkv_tx_begin/put/remove/commit/abort  db.Begin, Batch.Put, Remove, Commit, Abort (or db.Update)
//	read_iterator seek*, next, prev   db.NewIterator, Iterator.Seek*, Next, Prev (sorted engines)
//	status codes                      errors (ErrNotFound, ErrOutOfMemory, ...); [Status] gives the number
//
// Range calls are exclusive at both ends, as pmemkv's; on an unsorted
// engine they are [ErrNotSupported]. Callbacks get slices into the
// engine's memory, valid only during the callback, which must not call
// the DB.
//
// # Concurrency
//
// A DB's methods may run from many goroutines. stree and vsmap take one
// lock (shared by readers); vcmap and cmap lock per part of the key
// space. Close waits for the calls in progress. GetCopy on vcmap and
// vsmap allocates nothing and takes only the engine's own read lock
// (vsmap answers it from a Go map kept beside its skip list).
package kv
