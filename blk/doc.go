// Package blk implements libpmemblk: a pool of fixed-size blocks on
// persistent memory, each written atomically, byte-compatible with PMDK
// 1.12.1 (man 7 libpmemblk). Pools made here open with C libpmemblk and pass
// pmempool check; pools made by C open here.
//
// # Use
//
// [Create] makes a pool file (poolsize 0: take an existing file), [Open]
// opens one, [Pool.ReadBlock], [Pool.WriteBlock], [Pool.SetZero] and
// [Pool.SetError] work on block numbers 0..[Pool.NBlock]-1, [Check]
// verifies a pool without changing its file. [CreateOnMap] and
// [OpenOnMap] put a pool on any core.Map, which is how the crash simulator
// (core/crashsim) runs it. Every one of them takes an *[Options] (nil: C's
// defaults), holding the block size and, promoted from pool.Options, the
// options every pool type shares (ReadOnly, IgnoreSDS, Logger, ...). A
// [Pool] is also an io.ReaderAt of any byte range and an io.WriterAt of
// whole blocks ([Pool.ReadAt], [Pool.WriteAt]).
//
// C's API and its equivalent here:
//
//	pmemblk_create(path, bsize, poolsize, mode)  Create(path, poolsize, mode, &Options{BlockSize: bsize})
//	pmemblk_open(path, bsize)                    Open(path, &Options{BlockSize: bsize}); bsize 0: Open(path, nil)
//	(read-only open, which C lacks)              Open(path, o) with o.ReadOnly = true
//	pmemblk_close(pbp)                           p.Close()
//	pmemblk_check(path, bsize)                   Check(path, &Options{BlockSize: bsize}): problems, err
//	pmemblk_bsize(pbp), pmemblk_nblock(pbp)      p.BSize(), p.NBlock()
//	pmemblk_read(pbp, buf, blockno)              p.ReadBlock(buf, blockno)
//	pmemblk_write(pbp, buf, blockno)             p.WriteBlock(buf, blockno)
//	pmemblk_set_zero(pbp, blockno)               p.SetZero(blockno)
//	pmemblk_set_error(pbp, blockno)              p.SetError(blockno)
//	PMEMBLK_MIN_POOL, PMEMBLK_MIN_BLK            MinPoolSize, MinBlockSize
//	errno EINVAL (wrong bsize), EIO, EROFS       ErrBlockSize, ErrBlockError / ErrArenaError, ErrReadOnly
//
// # Format
//
// The file starts with the common pool header (core/pool, signature
// "PMEMBLK", major 1), then at byte 4096 the block size (u32) and the
// is_zeroed flag (u32). C keeps run-time fields after them; the only one
// read by a C tool is the data pointer minus the mapping address (pmempool
// info), so Create stores 0 and 8192 there. At byte 8192 the BTT (Block
// Translation Table, src/libpmemblk/btt_layout.h) fills the rest: arenas of
// at most 512 GiB, each with an info block ("BTT_ARENA_INFO", Fletcher-64
// checksum), the data area of internal blocks (block size rounded up to 256
// bytes, at least 512), the map (one u32 per block: post-map block number,
// zero and error flags in the top bits), the flog (one pair of 16-byte
// entries per free block, sequence numbers 1, 2, 3, 1, ...) and a backup of
// the info block. As in C the layout is written by the first WriteBlock
// or SetError; until then every block reads as zeros.
//
// # Atomicity and recovery
//
// A write goes to the lane's free block, then the flog entry naming the
// swap is written (lba and old block first, new block and sequence number
// second), then the map entry (one 4-byte store). Open completes a write
// whose flog entry is current but whose map entry still names the old
// block, so after a crash each block holds its old or its new content,
// never a mix; the crash tests check this at every fence.
//
// C persists these four steps one after the other, four fences. Here a
// write fences twice: the first half of the flog entry (not current
// until its second half lands), the data and the map entry the entry
// records as old are flushed together, then the second half is persisted;
// the new map entry is stored, and flushed only by the next write through
// the same lane, in its first fence, before that write's flog entry
// replaces the one that would redo it. A crash in between leaves a map
// entry that flog recovery, ours and C's, completes: the write is durable
// when WriteBlock returns. Close flushes the map entries still unflushed:
// a closed pool needs no recovery (pmempool check expects none). On
// page-cache mappings, where a flush is an msync, the map entry is
// persisted at once, as C does. The crash tests run writes through chosen
// lanes to catch each of these orders done wrong.
//
// A layout write cut short (first info block bad, its backup not yet
// written) counts as no layout, as in C.
//
// On a page-cache pool a write-back can fail (msync). Each step above then
// stops before the next one, so no flog or map entry ever names data that
// may be lost; the call returns an error wrapping core.ErrPersist, and so
// do every later Write, SetZero and SetError (reads still work) and Close.
// Reopening the pool shows what reached the file: each block old or new.
//
// Beyond C, a writable open also tidies what a crash can leave and what
// pmempool check would call inconsistent: it erases a torn first layout
// (so C tools see none), zeroes a half-written flog entry beside an
// initial one, and restores a missing or torn backup info block from the
// primary. A read-only open ([Check]) changes nothing and reports the
// backup mismatch.
//
// # Concurrency
//
// ReadBlock, WriteBlock, SetZero and SetError (and ReadAt and WriteAt,
// which call them) may run from many goroutines. A write takes a lane (a
// flog pair and its free block, a mutex each): the lane of the P it runs
// on, so goroutines running at once never wait for each other's lanes
// and share no counter, where C takes next_lane++ for every call; map
// entries are guarded by striped locks (4096 per arena). A read takes no
// lock: it marks the slot of its P in a table of reads in progress (odd
// generation while it reads), and a writer about to reuse its free block
// waits for the reads in progress to end, C's read tracking table without
// the second map lookup. Check and Close take every lane, so they wait for
// the writes in progress, and Close waits for the reads; calls after
// Close fail with ErrClosed.
//
// # Corruption
//
// Every offset and count read from the media is checked before use. A bad
// info block, a flog entry naming blocks outside its arena, or a map entry
// out of range yields an error wrapping core.ErrCorrupt (a
// *core.CorruptError with the offset), never a panic. A flog pair with no
// current entry (equal sequence numbers) puts its arena in the error
// state, as C does: reads work, writes fail with [ErrArenaError], and
// Check reports the pair. The current entry of a pair is picked exactly as
// C picks it (package blk/layout, CurrentFlog), sequence numbers above 3
// included, which C does not reject either. Differences from C: a bad
// first info block whose backup is intact is reported instead of being
// taken as "no layout" (which would let the next write destroy the pool);
// a pair whose current entry's free block is mapped (a damaged sequence
// number made the stale entry current) puts the arena in the error state,
// where C would overwrite that live block on the next write; and open
// never writes the arena error flag to the media.
//
// The on-media structures and their validation live in the public package
// blk/layout, which pmempool (tools/) uses too.
package blk
