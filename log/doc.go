// Package log implements libpmemlog of PMDK 1.12.1 in Go: a pool file
// holding one append-only byte log whose appends are atomic across crashes
// and power failures. Pools are byte-compatible with C libpmemlog and
// pmempool in both directions.
//
// # Use
//
// The package is named log, as the standard library's is; import it under
// the name of the C library, pmemlog, as every example here does:
//
//	import pmemlog "github.com/gopmdk/pmdk/log"
//
//	l, err := pmemlog.Create("my.log", pmemlog.MinPoolSize, 0o600, nil)
//	...
//	err = l.Append([]byte("hello"))
//
// [Create] makes a pool (pmemlog_create; size 0 takes an existing file),
// [Open] opens one (pmemlog_open), [Log.Append] and [Log.Appendv] add data
// (pmemlog_append/appendv), [Log.Tell] and [Log.NBytes] report the used and
// the usable size, [Log.Rewind] empties the log, [Log.Walk] visits it in
// chunks as pmemlog_walk does (chunk size 0: the whole log in one call) and
// [Log.Chunks] is the same walk as an iterator that yields the walk's
// error, if any. [Check] checks a pool file without changing it
// (pmemlog_check). [CreateOnMap] and [OpenOnMap] work on a caller's
// core.Map, such as the crash simulator's device. Every one of them takes
// an *[Options] (nil: C's defaults) whose fields, promoted from
// pool.Options, are the ones every pool type shares (ReadOnly, IgnoreSDS,
// Logger, ...).
//
// C's API and its equivalent here:
//
//	pmemlog_create(path, poolsize, mode)       pmemlog.Create(path, poolsize, mode, nil)
//	pmemlog_open(path)                         pmemlog.Open(path, nil)
//	(read-only open, which C lacks)            pmemlog.Open(path, o) with o.ReadOnly = true
//	pmemlog_close(plp)                         l.Close()
//	pmemlog_check(path)                        pmemlog.Check(path, nil): problems, err
//	pmemlog_nbyte(plp), pmemlog_tell(plp)      l.NBytes(), l.Tell()
//	pmemlog_append(plp, buf, count)            l.Append(buf)
//	pmemlog_appendv(plp, iov, iovcnt)          l.Appendv(bufs...)
//	pmemlog_rewind(plp)                        l.Rewind()
//	pmemlog_walk(plp, chunksize, cb, arg)      l.Walk(chunksize, fn), or range over l.Chunks(chunksize)
//	PMEMLOG_MIN_POOL                           pmemlog.MinPoolSize
//	errno ENOSPC, EROFS, EINVAL                pmemlog.ErrNoSpace, ErrReadOnly, ErrInvalidArgument
//
// The on-media format is package log/layout's, which pmempool (tools/)
// uses too.
//
// # Format
//
// The file starts with the common 4096-byte pool header (package
// core/pool: signature "PMEMLOG", major 1, CKSUM_2K and SDS features).
// At offset 4096 follow three little-endian uint64 (struct pmemlog in
// src/libpmemlog/log.h): start_offset (always 8192), end_offset (the pool
// size: the file size rounded down to 4 KiB) and write_offset (where the
// next append goes). The 56 bytes after them are C's run-time fields:
// not part of the format, never read, zeroed at create. Log data fills
// [start_offset, write_offset). Open refuses (with an error wrapping
// core.ErrCorrupt that names the field) a start_offset other than 8192,
// an end_offset other than the pool size, start above end and a
// write_offset outside [start, end], exactly the cases C's open refuses.
//
// # Atomicity
//
// An append copies the data behind write_offset (flushed, on pmem with
// non-temporal stores from the kernel's threshold on), drains, then stores
// and persists the 8-byte write_offset: the same order and the same
// persisted fields as C's log_persist. On a page-cache mapping the data is
// msync'ed and then write_offset, as C does. A crash therefore leaves
// every append wholly in the log or wholly out of it; the crash tests
// (TestCrash*) check this at every fence with package core/crashsim.
// Create is not atomic, in C neither: it persists the pool header, then the
// log descriptor, so a crash between them leaves a file that Open refuses
// (core.ErrCorrupt: start_offset) and Create will not reuse; remove it and
// create again.
//
// # Concurrency
//
// A Log is safe for concurrent use. Append, Appendv and Rewind take a
// write lock; Walk and Chunks a read lock, like C's rwlock: walks run in
// parallel and wait for an append in progress. Tell and NBytes take no lock
// (C's take the read lock). Walk callbacks and Chunks loop bodies must not
// append to, rewind or close the same log (deadlock, as in C). Slices they
// receive point into the mapping and are valid only during the call.
//
// # Differences from C
//
// Errors are Go errors ([ErrNoSpace] for ENOSPC, [ErrReadOnly] for EROFS,
// [ErrInvalidArgument] for EINVAL); the ones every pool type shares
// ([ErrWrongType], [ErrVersion], [ErrPoolTooSmall], [ErrLocked],
// [ErrReadOnly], [ErrClosed]) are package core/pool's, re-exported, and
// worded as C's (`log: open /p: wrong pool type: "PMEMBLK"`). Opening an
// empty file fails with ErrPoolTooSmall where C's pmemlog_open dies with
// SIGBUS. [Check] lists every problem of a bad
// log descriptor, where C's check fails (-1) as soon as its open does.
// A write-back that fails on a page-cache pool (msync) is an error wrapping
// core.ErrPersist from the append or rewind it belonged to, from every
// later one (the log refuses to grow past data that may be lost) and from
// Close; reopening the pool shows what reached the file.
// Poolsets (multi-file pools) and replicas are not supported yet; C
// refuses replicas for log pools anyway. The pool file is locked (flock)
// while open, as in C, so a pool open in C cannot be opened in Go at the
// same time and the reverse.
package log
