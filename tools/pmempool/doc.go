// Package pmempool is gopmdk's libpmempool for log, blk and obj pools: Check
// (with repair, dry run, advanced repairs, backup and a question callback),
// Info, Dump, Remove, feature query/enable/disable, Create, Sync and
// Transform, with C's
// status messages, so that the pmempool command (tools/cmd/pmempool) prints
// what C's pmempool prints.
//
// # Check
//
// Check follows src/libpmempool/check_*.c of PMDK 1.12.1 for a single-file
// pool: the shutdown state, the pool header (fields with one right value
// restored; UUIDs from the part links or, for blk, the BTT; crtime and the
// checksum with Advanced), the log descriptor offsets, the blk block size
// (from the BTT info), each arena's BTT info block (restored from its
// backup, or regenerated) and its backup, and the BTT map and flog (every
// internal block used once; invalid entries rebuilt with Advanced). The pool
// file is mapped privately: fixes stay in memory until the check ends
// repaired, then only the changed ranges are written and synced, so a
// refused or failed repair leaves the file untouched. Every offset read
// from the file is bounds-checked; a hostile file gives a verdict, never a
// panic.
//
// A file whose header links name other files is taken for a poolset part,
// as C does: only its shutdown state and header are checked. Pool files
// must be regular files (no device DAX).
//
// # Info and Dump
//
// Info and WriteInfo print what pmempool info prints (pool header, log
// descriptor and data, blk header, BTT arenas with blocks, map, flog and
// backup info), also for damaged pools, reading the file directly. Like
// C's, WriteInfo refuses a header it cannot trust (an unknown signature, a
// bad checksum: PoolInfo.CheckReadable) unless the type is forced
// (InfoOptions.Type, InfoAs: info -f), and fails where the BTT points
// outside the file, so the command's exit code is C's; Dump
// reads through the gopmdk log and blk libraries, as C's dump goes through
// libpmemlog and libpmemblk. Hexdump and ParseRanges reproduce C's output
// format and range rules.
//
// # Pools in use
//
// Every function that opens a pool file takes the lock the libraries take
// (core/pool's Lock: flock LOCK_EX|LOCK_NB, as C's pmempool takes it, to
// read too): a pool a program has open is refused with an error wrapping
// pool.ErrLocked and EWOULDBLOCK, and is neither checked, repaired, changed
// nor removed under it.
//
// # obj pools
//
// Create makes them through gopmdk's obj library (with a layout name).
// Info and WriteInfo print what C's info_obj.c prints (InfoOptions.Obj:
// lanes and their log entries, root object, heap header, zones, chunks,
// run bitmaps, the object store, statistics), decoding the file through
// obj/layout with every read bounds-checked: a structure outside the file
// ends the listing with C's "Invalid offset" error. Check runs C's steps
// (the shutdown state and the pool header), then obj's heap checker
// (obj.Pool.Check) on the private mapping, after recovery of pending logs
// there; what it finds makes the pool not consistent. C repairs no obj
// pool; with Repair, Check repairs the shutdown state and the header fields
// whose right value is known (never a new checksum, UUID or crtime: the
// poolset UUID is the pool's id in every PMEMoid), and recovers pending
// lane logs in the file when the pool is otherwise consistent (obj's open,
// read-write, on a shared mapping of the locked file); of the descriptor
// and the heap header it restores the fields of known value (lanes_offset,
// nlanes, heap_offset, unused bytes; the heap header's signature, chunk
// size, chunks per zone and checksum; the descriptor's checksum with
// Advanced) and rebuilds chunk headers from the chunks around them (a
// run's from its run-data chunks, a huge block's size from its footer);
// other damage of the descriptor, lanes or heap is not
// repaired, and a refused repair writes nothing. Dump refuses obj pools
// (ErrDumpObj), as C does.
//
// # Convert
//
// RunConvert is pmdk-convert (and pmempool convert): obj pools of PMDK
// 1.0-1.6 (layouts 1-5, DetectObjLayout) converted one layout at a time
// (ConvertObjStep) to the current one, with C's options, messages and
// exit codes. A pool whose lanes hold unfinished work is refused
// (ErrConvertPending): C recovers it with the old release's library,
// which we do not carry.
//
// # Poolsets: Sync and Transform
//
// Sync (pmempool_sync) and Transform (pmempool_transform) work on local
// poolsets (package core/poolset) of any pool type. Sync checks every part
// as C's replica health check does (missing, the wrong size, a header that
// does not decode, is of another type or is not linked to its replica or
// poolset) and rebuilds the damaged replicas from the first healthy one:
// missing parts created, the data copied past the pool header, the damaged
// parts given fresh headers and their neighbours relinked (data first,
// headers last, the primary's last of all). A poolset whose parts are all
// healthy is left alone, as in C, even if its replicas' data differ (an
// open of the pool repairs that from the primary). Transform adds replicas
// (made as Sync rebuilds a damaged one) or removes them (their part files
// deleted, the rest relinked), or adds or removes the SINGLEHDR option
// (data moved, headers rewritten, as C), with C's refusals. Sync takes
// directory poolsets (their part files), Transform refuses them, as C.
// Sync rebuilds remote replicas (pool.SyncRemote). Transform adds remote
// replicas (REPLICA node descriptor lines) through the registered
// transport (the pmempool command imports rpma/rpmem): every new remote
// pool is created on its node before anything local is written (an
// unreachable node changes nothing), the data is copied from the primary,
// its header written, then its local neighbours relinked; it removes a
// remote replica by relinking its neighbours, leaving the pool on the node
// (C also asks the node to delete it; our rpmemd has no such request, and
// adding the replica again is refused while that pool's header is set). A
// kept remote replica whose neighbours change is relinked on its node
// last (pool.SyncRemote). A remote replica named twice is refused, as C;
// adding local and remote replicas at once is refused
// (pool.ErrRemoteReplica). NOHDRS is refused by both. Check, Info and the
// other functions still take single-file pools only.
package pmempool
