// Package obj implements libpmemobj of PMDK 1.12.1 in Go: a persistent
// object store on a pool file, whose objects are allocated and freed
// atomically (after a crash an object is either absent or allocated and
// constructed, never half of either), byte-compatible with the pools C
// libpmemobj writes (pool layout major 6). A pool Go creates opens in C,
// which keeps allocating in it, and the reverse; an OID stored in a pool is
// a PMEMoid to C.
//
// This package is the pool, its heap, the atomic (non-transactional) API,
// transactions, and the locks that live in persistent memory.
//
// # Pools
//
// [Create] makes a pool file (at least [MinPoolSize]) with a layout name,
// [Open] opens one, checking the layout name when [Options] give one, and
// locks the file until [Pool.Close]. [CreateOnMap] and [OpenOnMap] do the
// same on a caller's core.Map (the crash simulator). [Check] and
// [Pool.Check] verify a pool: the descriptor, every zone, chunk, run
// bitmap and object header, and that no object is allocated that nothing
// could find. C's pmempool check looks only at the pool header of obj
// pools.
//
// # Objects
//
// An object is named by an [OID] (pool uuid_lo and offset, 16 bytes, C's
// PMEMoid). [Pool.Alloc], [Pool.Zalloc], [Pool.Xalloc], [Pool.Realloc],
// [Pool.Strdup] and [Pool.Free] return or take OIDs; their *To variants
// ([Pool.AllocTo], [Pool.FreeOID], [Pool.ReallocTo]...) also store the
// result into an OID, atomically with the operation when that OID lies in
// the pool, as C's functions taking a PMEMoid pointer do. Every object has
// a type number and a usable size at least the size asked for (the
// allocation classes are C's, so the usable sizes are C's too).
// [Pool.Bytes] is an object's memory ([Pool.Mapping] the whole pool, for code
// that keeps its own offsets), [Pool.Root] the pool's root object,
// [Pool.Objects] walks every object in C's order.
//
// The typed layer: a [Ptr] is an OID that names a T ([New] allocates one,
// [Ptr.Get] maps it to a *T). T must be pointer-free (numbers, arrays,
// structs of them, Ptr and OID fields): a Go pointer stored in persistent
// memory is invisible to the garbage collector and dangles after a restart,
// so such types are refused with [ErrNotPointerFree].
//
// Reservations ([Pool.Reserve], [Pool.DeferFree], [Pool.SetValue],
// [Pool.Publish], [Pool.Cancel]) prepare several changes and make them
// durable at once, as pmemobj_reserve and pmemobj_publish do.
//
// Slices and pointers into the pool are valid until the object is freed or
// the pool closed. Stores through them are durable once persisted
// ([Pool.Persist], [Pool.MemcpyPersist]...).
//
// # Transactions
//
// [Pool.Tx] runs a function in a transaction: what it changes through the
// [Tx] (ranges snapshotted with [Tx.AddRange], [TxAdd] or [TxSet] and then
// written, objects allocated with [Tx.Alloc] or [TxNew], freed with
// [Tx.Free], reservations published with [Tx.Publish]) becomes durable at
// once when the function returns nil, and is undone when it returns an
// error, calls [Tx.Abort], panics, or when the process dies before the
// commit. Transactions nest flat ([Tx.Tx]: an inner abort aborts the
// outermost), take locks for their duration ([WithMutex], [WithRWMutex]),
// and run OnCommit, OnAbort and Finally functions. The C-shaped calls
// ([Pool.Begin], [Tx.Commit], [Tx.End], [Tx.Process], [Tx.Stage],
// [Tx.Err]) stand beside the closure for code ported from C. A Tx belongs
// to one goroutine at a time and is a handle: used after its End it fails
// with [ErrTxStage].
//
// The protocol is C's, so C recovers what a Go transaction leaves and the
// reverse. A snapshot copies the range's current bytes into the lane's
// undo log as an entry whose checksum includes the log's generation, and
// is durable before AddRange returns; the caller then writes in place.
// Allocations are reservations (the object header written, the bitmap
// untouched), frees are deferred. At commit every range and new object is
// flushed and drained, then one redo log holds every allocation, free,
// published value and the bump of the undo log's generation; its persist
// is the commit point. A crash before it leaves valid undo entries, which
// open copies back (the transaction rolls back, its reservations were
// never allocated); a crash after it leaves the redo log, which open
// applies again, after which the undo entries are invalid. An abort copies
// the snapshots back itself and bumps the generation. Undo logs that
// outgrow the lane continue in 32 KiB extensions from the heap, or in
// buffers the caller gives ([Tx.LogAppendBuffer]). One difference from C:
// when a crash leaves a caller's buffer linked to a lane's undo log, Go's
// recovery unlinks it and leaves the object it lives in alone, where C
// 1.12.1's recovery frees that object (which the caller still names).
//
// # Locks
//
// [Mutex], [RWMutex] and [Cond] are C's PMEMmutex, PMEMrwlock and PMEMcond:
// 64 bytes inside persistent objects. Their state is not persistent: each
// records the run id of the open that last initialized it, and the pool's
// run id changes at every open, so a lock held when a process died is free
// in the next run (C's scheme). The Go side keeps the lock state outside
// the pool, keyed by the lock's offset.
//
// # Format
//
// The on-media format is in package obj/layout, with its offsets and the
// rules C follows (../shared/reference names the PMDK sources). In short:
// after the pool header, a checksummed descriptor (layout name, lanes and
// heap offsets), the root object's offset and size, 1024 lanes of three
// unified logs each (internal redo, external redo, undo), then the heap:
// a header and zones of 256 KiB chunks. A chunk is free, used (a huge
// object of whole chunks) or part of a run of equal units with a bitmap.
// Every object starts with a 16-byte header (real size, flags, type
// number). The allocation classes and the bitmap geometry are computed
// exactly as C computes them.
//
// # Atomicity and recovery
//
// An allocation reserves a block in memory (the run-time state, rebuilt
// from the media at open), writes the object header and runs the
// constructor, then publishes: the bitmap word OR or chunk header store
// that makes the object allocated, together with the stores of its OID
// into the destination. A single 8-byte update is made in place; several
// go through a redo log in the caller's lane: stored with a checksum,
// applied, then cleared; logs too large for the lane continue in
// extensions allocated from the heap. Open recovers every lane: a redo log
// whose checksum holds is applied again (the updates are idempotent), one
// that does not is ignored (the operation never happened), and the undo
// log of an interrupted transaction is rolled back. C recovers the images
// Go leaves, and Go the ones C leaves: the crash tests open post-crash
// images of every operation in both.
//
// # Concurrency
//
// A Pool is safe for concurrent use. Each call takes a lane (cached per P,
// as C gives each thread a primary lane) and allocates through the lane's
// arena, whose active runs other arenas do not touch ([Options.Arenas],
// default GOMAXPROCS). Bitmap words are updated with atomic
// read-modify-writes, so frees and publications contend only on the words
// they change. Close waits for calls in progress.
//
// # Control (ctl)
//
// [Pool.CtlGet], [Pool.CtlSet] and [Pool.CtlExec] are pmemobj_ctl_get,
// _set and _exec on a pool; the package-level [CtlGet], [CtlSet] and
// [CtlExec] are the same with a NULL pool: the global names only. Names
// are C's, dot-separated; a part that starts with a number (C's strtol,
// base 0: "0x10", "010") is an index. The global names are found first,
// for pool queries too, as in C. A get takes a pointer (any Go integer
// type the value fits, for the integer names); a set takes a value or a
// pointer to one. Errors: an unknown name or one that is not a leaf,
// [ErrCtlNotFound]; a query the name does not take (a set of a read-only
// name...), [ErrCtlAccess]; a nil or mistyped argument or a refused
// value, [ErrCtlArg]; C's other errnos are [ErrCtlRange] (ERANGE),
// [ErrCtlExists] (EEXIST), [ErrClass] (ENOENT); [ErrCtlNotSupported] is
// a name whose effect Go cannot give.
//
// Configuration: PMEMOBJ_CONF ([ConfEnv]) holds set queries,
// "name=value;name=value", with C's grammar (empty queries skipped, no
// white space stripped, a value's comma-separated fields for the
// structured names); PMEMOBJ_CONF_FILE ([ConfFileEnv]) names a file of
// them, at most 1 MiB, where '#' starts a comment to the end of the line
// and all white space is dropped (lines do not separate queries: ';'
// does). Both are loaded into the global names once, at the first Create,
// Open or package-level ctl call (C's library start: errors ignored), and
// again for every pool Create and Open make, after recovery: there a
// failing query fails the Create or Open with [ErrCtlConfig] (C: EINVAL;
// where C's library start aborts the process on a query that is not
// name=value, or crashes on a name past a leaf, Go fails the pool).
// Booleans take y, Y, 1, n, N, 0 as their first character; integers are
// strtoll base 0, trailing characters ignored. The C comparison of 65
// strings and files is TestInteropCtlConfig.
//
// The names (G: global; r, w, x: get, set, exec; Go type of the value):
//
//	prefault.at_create         G rw  int   touch every page at Create of a file (C: 0)
//	prefault.at_open           G rw  int   touch every page at Open of a file (C: 0)
//	sds.at_create              G rw  int   0: new pools without the shutdown state feature (C: 1)
//	fallocate.at_create        G rw  int   stored only: core always allocates the file (C: 1)
//	copy_on_write.at_open      G rw  int   1 not supported: Go maps a pool
//	                                       privately only to open it read-only
//	heap.arenas_assignment_type G rw ArenasAssignment  global: every lane
//	                                       uses one arena; read at Open
//	heap.arenas_default_max    G rw  int   arenas of a pool opened without Options.Arenas
//	                                       (C: 0, read as the CPU count; Go: GOMAXPROCS)
//	tx.debug.skip_expensive_checks rw int  stored only (C 1.12.1 reads it nowhere)
//	tx.debug.verify_user_buffers   rw int  refuse a log buffer a running tx uses
//	                                       (ErrLogBufferInUse); the configuration
//	                                       cannot turn it on (C resets it after)
//	tx.cache.size              rw  int64   undo log extension size (32768)
//	tx.cache.threshold         rw  int64   deprecated no-op, as in C
//	tx.post_commit.queue_depth rw  int     no-op, as in C 1.12
//	tx.post_commit.worker      r           no-op, as in C 1.12
//	tx.post_commit.stop        r           no-op, as in C 1.12
//	stats.enabled              rw  StatsEnabled (transient, both, persistent,
//	                                       disabled; "1"/"0" are both/disabled)
//	stats.heap.curr_allocated  r   uint64  bytes allocated, kept in the pool
//	                                       (descriptor) in persistent and both modes
//	stats.heap.run_allocated   r   uint64  bytes allocated in runs (transient, both)
//	stats.heap.run_active      r   uint64  bytes of runs (transient, both)
//	heap.alloc_class.[id].desc rw  *AllocClassDesc  read a class; set
//	                                       registers class id
//	heap.alloc_class.new.desc  w   *AllocClassDesc  register a class, first
//	                                       free id; id and units per run returned
//	heap.arena.[id].size       r   uint64  bytes of the arena's active runs
//	heap.arena.[id].automatic  rw  int     whether lanes are given the arena
//	heap.arena.create          x   *int    a new arena (not automatic); its id
//	heap.narenas.total         r   int
//	heap.narenas.automatic     r   int
//	heap.narenas.max           rw  int     room for arenas: 1024 or more, as C's;
//	                                       cannot decrease; no limit on heap.arena.create
//	heap.thread.arena_id       rw  int     the arena of the calling goroutine's lane
//	heap.size.granularity      rw  int64   the step a pool on a directory poolset grows by
//	                                       when its heap runs out (128 MiB; 0: never;
//	                                       else >= 2 MiB)
//	heap.size.extend           x   int64   grow a pool on a directory poolset now by
//	                                       this many bytes (>= 2 MiB); other pools:
//	                                       not supported (as in C)
//	debug.heap.alloc_pattern   rw  int     fill new objects with this byte (-1: none)
//
// A pool on a directory poolset (local replicas only, opened writable)
// grows as C's does: when no free chunks are left, the heap adds a part
// file of heap.size.granularity bytes (clipped to what the directories'
// sizes leave, at least 2 MiB) to every replica, named with the next
// number in the replica's next directory, maps each right after its
// replica (each replica is mapped inside an address reservation of the
// directories' sizes, the smallest replica's, so addresses never move; the
// replicated persist path then covers the grown range), persists
// the larger heap_size, then makes the new chunks one free block (its chunk
// header, then the zone header) and allocates from them. A crash leaves a
// pool that opens whole: before heap_size is durable the new part is
// unused; after, the next open grows the zone to the heap's size. A new
// zone (past 16 GiB) is initialized when first needed rather than at the
// extension. Pools with a remote replica do not grow.
//
// How Go maps C's threads: C gives each thread an arena; Go gives each
// lane one (a goroutine takes the lane its P last used), spread over the
// automatic arenas when the pool opens. heap.thread.arena_id reads and
// sets the arena of the lane the caller takes, so it holds for the
// goroutines that run on the caller's P afterwards, not for the calling
// goroutine wherever it moves. Arenas made automatic or not after the open
// do not move lanes. An allocation names its arena with [ArenaID].
//
// Custom classes ([AllocClassDesc]) lay their runs out as C's: chunk
// flags from the header type (legacy 0x8, none 0xA, compact 0x9, with
// 0x4 when aligned), enough chunks for the units and the run header, the
// bitmap C computes; C reads and reuses the runs (TestInteropGoCustomClassesInC).
// Differences: Go refuses an alignment that is not a power of two (C
// takes it and writes runs its heap check refuses), and a custom class
// never serves an allocation that names no class (C may pick one for a
// size it had not looked up before the class was made). Registered classes
// live until Close, as in C: a pool reopened has the default classes.
//
// Stats: C keeps the counters in every mode but disabled with an atomic
// add per allocation and free (transient by default); so does Go, and
// the same workload leaves the same values in both (TestInteropCtlStats).
// One difference: at the first use of a zone after an open, C subtracts
// from run_active the runs it finds empty and frees, which it never
// counted, so its value falls short of the runs in use (or wraps below
// zero); Go's is the bytes of the runs in use.
//
// # C equivalents
//
//	pmemobj_create(path, layout, size, mode)   Create(path, size, mode, &Options{Layout: layout})
//	pmemobj_open(path, layout)                 Open(path, &Options{Layout: layout})
//	pmemobj_close, pmemobj_check               Pool.Close, Check
//	pmemobj_root, pmemobj_root_size            Pool.Root, Pool.RootSize
//	pmemobj_alloc(pop, NULL, ...)              Pool.Alloc (returns the OID)
//	pmemobj_alloc(pop, &oid, ...)              Pool.AllocTo(&oid, ...)
//	pmemobj_zalloc, pmemobj_xalloc             Pool.Zalloc/ZallocTo, Pool.Xalloc (FlagZero, ClassID, ArenaID)
//	pmemobj_realloc, pmemobj_zrealloc          Pool.Realloc/ReallocTo, Pool.Zrealloc/ZreallocTo
//	pmemobj_strdup                             Pool.Strdup, Pool.StrdupTo
//	pmemobj_free(&oid)                         Pool.FreeOID(&oid); Pool.Free(oid)
//	pmemobj_direct + alloc_usable_size         Pool.Bytes; Ptr.Get for a typed object
//	pmemobj_alloc_usable_size, pmemobj_type_num Pool.UsableSize, Pool.TypeNum
//	pmemobj_first, pmemobj_next, POBJ_FOREACH  Pool.First, Pool.Next, Pool.Objects
//	pmemobj_reserve, pmemobj_xreserve          Pool.Reserve, Pool.Xreserve (Action.Bytes to fill)
//	pmemobj_defer_free, pmemobj_set_value      Pool.DeferFree, Pool.SetValue
//	pmemobj_publish, pmemobj_cancel            Pool.Publish, Pool.Cancel
//	pmemobj_persist, _flush, _drain            Pool.Persist, Pool.Flush, Pool.Drain
//	pmemobj_memcpy_persist, _memset_persist    Pool.MemcpyPersist, Pool.MemsetPersist
//	pmemobj_memcpy, pmemobj_memset (flags)     Pool.Memcpy, Pool.Memset
//	TOID(T), POBJ_NEW, D_RW                    Ptr[T], New[T]/NewTo[T], Ptr.Get
//	POBJ_ROOT                                  RootPtr[T]
//	TX_BEGIN ... TX_END                        Pool.Tx(func(tx *Tx) error)
//	pmemobj_tx_begin/commit/end/process        Pool.Begin, Tx.Commit, Tx.End, Tx.Process
//	pmemobj_tx_abort, _errno, _stage           Tx.Abort, Tx.Err, Tx.Stage
//	TX_ONCOMMIT, TX_ONABORT, TX_FINALLY        Tx.OnCommit, Tx.OnAbort, Tx.Finally
//	TX_PARAM_MUTEX, _RWLOCK, _CB               WithMutex, WithRWMutex, WithCallback
//	pmemobj_tx_add_range(_direct), x variants  Tx.AddRange, Tx.AddRangeDirect, Tx.XAddRange...
//	TX_ADD, TX_SET                             TxAdd, TxSet, TxUpdate
//	pmemobj_tx_alloc/zalloc/xalloc, TX_ZNEW    Tx.Alloc, Tx.Zalloc, Tx.Xalloc, TxNew
//	pmemobj_tx_realloc/zrealloc/strdup         Tx.Realloc, Tx.Zrealloc, Tx.Strdup
//	pmemobj_tx_free/xfree, _publish            Tx.Free, Tx.Xfree, Tx.Publish
//	pmemobj_tx_log_append_buffer, _auto_alloc  Tx.LogAppendBuffer, Tx.LogAutoAlloc
//	pmemobj_tx_log_*_max_size                  TxLogSnapshotsMaxSize, TxLogIntentsMaxSize
//	pmemobj_tx_set_failure_behavior            Tx.SetFailureBehavior
//	pmemobj_mutex_*, _rwlock_*, _cond_*        Mutex, RWMutex, Cond methods (with the Pool)
//	pmemobj_ctl_get/set/exec(pop, ...)         Pool.CtlGet, Pool.CtlSet, Pool.CtlExec
//	pmemobj_ctl_get/set/exec(NULL, ...)        CtlGet, CtlSet, CtlExec
//
// # Differences from C
//
// An OID that is not an allocated object of the pool (freed, foreign,
// garbage) is refused with [ErrInvalidOID] where C would corrupt its heap
// or crash; a damaged pool gives an error wrapping core.ErrCorrupt where C
// may hang, fault or abort (zero chunk sizes, zero run block sizes, log
// capacities C trusts). Objects are placed by Go's own policy: C reads
// any placement, as it rebuilds its run-time state from the media.
package obj
