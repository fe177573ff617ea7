// Package pool implements the pool header, the shutdown state (SDS) and the
// pool base that gopmdk's log, blk and obj libraries share, byte-compatible
// with PMDK 1.12.1 (src/common/pool_hdr.h, shutdown_state.h, set.c).
//
// # Header
//
// Every pool file starts with a [HeaderSize]-byte header: signature, major
// version, compat / incompat / ro-compat feature flags, six UUIDs (poolset,
// file, prev/next part, prev/next replica), creation time, arch flags, two
// unused areas that must be zero, the [ShutdownState] block at offset 4024
// and a Fletcher-64 [Checksum] in the last 8 bytes. With [FeatCksum2K] (the
// default) the checksum covers only the first 2 KiB, so the SDS can change
// without rewriting it. [DecodeHeader] / [Header.Encode] convert, and
// [Header.Validate] checks every field in C's order (util_header_check),
// returning a *core.CorruptError naming the field; libpmemlog refuses
// every header Validate refuses (an interop test checks each field). Unknown
// incompat features refuse the pool ([ErrIncompatible]), unknown ro-compat
// ones force a read-only open, unknown compat ones are ignored. Like C,
// Validate ignores the unused areas; [Header.CheckUnused] reports them for
// checkers.
//
// # Pool base
//
// [Create] and [Open] handle a single pool file: size checks against the
// [Kind]'s minimum, an exclusive flock (LOCK_EX|LOCK_NB, as C: a second
// open in any process, this one included, fails with [ErrLocked]), the
// mapping through core.NewMap (DAX, eADR or page cache detected; shared, or
// private from an O_RDONLY descriptor for [Options.ReadOnly], so stores
// never reach the file), validation, bad blocks (with the compat feature
// CHECK_BAD_BLOCKS, set by default, a device reporting bad blocks under the
// pool refuses create and open with [ErrBadBlocks], as C does; C's bad
// block recovery files are not looked for) and the SDS. [CreateOnMap] and
// [OpenOnMap] do the same on a caller's core.Map (crash simulator,
// replicas), without file or lock; the pool then owns the Map.
//
// # Poolsets
//
// Create (with size 0) and Open accept a poolset file (package
// core/poolset parses it) in place of a pool file, as C does: the parts of
// each replica are mapped as one contiguous range (the first part whole,
// each next one after its own header; with OPTION SINGLEHDR only the first
// part has a header), every part with a header carries the UUID links C
// writes (the poolset UUID, its own, the previous and next part of its
// replica, the first part of the previous and next replica) and the first
// part of each replica the shutdown state of all its parts. Every part
// file is locked. Open validates every header and link (a part of another
// poolset, a stale replica header: errors naming the part) and repairs
// replicas that differ from the primary past the header. The Map the
// libraries get is the primary replica whose every persist reaches the
// other replicas (core.Replicate), so log, blk and obj pools may have
// local replicas (C allows them for obj only). With CHECK_BAD_BLOCKS
// every part file is checked for bad blocks on its own, as C does, and a
// pool or poolset beside a bad block recovery file of C's `pmempool sync
// --bad-blocks` (<path>_r<R>_p<P>_badblocks.txt) does not open
// ([ErrBadBlockRecoveryFile]), as in C. A
// failed create removes the part files it created. NOHDRS (which C
// refuses for local poolsets too: [ErrPoolsetNotSupported]) is refused;
// remote replicas are below. [Header.ValidateFormat]
// checks the header of one part without its links.
//
// # Directory poolsets
//
// A poolset whose part lines name directories holds its parts as files
// named NNNNNN.pmem (six digits) in them (core/poolset's LoadDirs): Open
// maps every part file found, in the order of their numbers (which must
// have no gap), so a pool C's obj heap grew into more part files opens
// whole. Create needs OPTION SINGLEHDR and a reservation (the sum of the
// directory sizes) of at least the kind's minimum, as C, and makes one
// part of the minimum size (000000.pmem in the first directory of every
// replica) when the directories hold none.
//
// A writable pool on a directory poolset with local replicas only can
// grow, as C's util_pool_extend grows it for the obj heap: each replica is
// mapped inside an address reservation (core.Reservation) of its own, the
// size of the sum of a replica's directory sizes, the smallest replica's
// (C's resvsize, the most the pool may reach; at least the present size,
// rounded to the page size), and [Pool.Extend] creates the next part file
// of every replica (NNNNNN.pmem with the same next number in each, in the
// replica's directory after the last one used, round robin), with no
// header (SINGLEHDR), maps each right after its replica's end and
// replaces the pool's Map by one over the longer range; earlier Maps stay
// valid at the same addresses, and with replicas they share the new Map's
// persist path (core.ReplicateGrown), which copies the grown range into
// every replica. A part that cannot be created or mapped in any replica
// undoes the extension in all (the part files it created are removed).
// Pools with a remote replica, opened read-only, or on file parts do not
// grow (ErrExtend).
//
// # Remote replicas
//
// A REPLICA node descriptor line is opened by the [RemoteOpener] given to
// [RegisterRemote] (this package does not import a transport: package
// rpma/rpmem registers itself when imported; without it such poolsets
// are refused with [ErrRemoteReplica]). The opener returns the remote
// replica as a core.Map of the pool's size holding the remote pool's
// bytes, whose persist path makes each range durable on the node before
// returning and reports a lost or silent node through Map.Err; the pool
// then treats it as any replica: create writes its header (one part, the
// UUID links of the set, no shutdown state, as C), open validates it
// and repairs its data from the primary, every persist reaches it
// (core.Replicate), and a failure of it fails the pool's Map. [SyncRemote]
// rebuilds remote replicas whose header or parts are damaged or missing.
//
// # Shutdown state
//
// As in C, the SDS is maintained only when the header has [FeatSDS] (set by
// default) and not [Options.IgnoreSDS]: at create and open it records the
// devices' unsafe shutdown count and device-id checksum and sets the dirty
// flag (persisted); Close clears it. An open that finds the flag dirty and
// the count or devices changed fails with [ErrUnsafeShutdown]; every other
// mismatch (half-written block, clean ADR failure, unclean close without
// ADR failure) reinitialises the block, as shutdown_state_check does. The
// device values come from sysfs through core.Source;
// where the platform reports them "not supported" (every machine without
// NVDIMMs: regular files, tmpfs) both are zero, exactly what C writes
// there, so only the dirty flag and the SDS checksum change across opens and
// no ADR failure can be detected. SDS requires CKSUM_2K (pmempool feature
// enforces it); for a pool without it this package also rewrites the header
// checksum, which C omits, in a second persist.
//
// # Persist failures
//
// On a page-cache pool a write-back can fail (msync: an I/O error, a full
// file system); the pool's Map keeps the first failure (core.Map.Err,
// wrapping core.ErrPersist). Create and Open fail with it when they cannot
// persist the header, [Pool.WriteHeader] returns it and writes nothing
// after it, and [Pool.Close] returns it and leaves the SDS dirty flag set.
// The libraries check the Map after each write and refuse the next ones.
//
// The pool's own libraries write their descriptors after the header; the
// C run-time fields C leaves in the pool are not part of the format.
//
// # Errors
//
// The errors a program meets whatever the pool type are defined here once
// and re-exported by log, blk and obj, so errors.Is matches either name:
// [ErrWrongType] (`wrong pool type: "PMEMBLK"`, C's words), [ErrVersion]
// (`pool version 7 (library expects 1)`), [ErrIncompatible], [ErrTooSmall]
// (`size 4096 smaller than 2097152`; the packages call it ErrPoolTooSmall),
// [ErrLocked] (also unix.EWOULDBLOCK, C's errno), [ErrReadOnly],
// [ErrClosed]. None of them is corruption: damage on the media, and only
// that, wraps core.ErrCorrupt. Create and Open return *os.PathError values
// naming the operation and the file once ("open /p: wrong pool type:
// ..."), without a package prefix; each library adds its own ("blk: open
// /p: ..."). [Lock] is the lock itself, for tools that read or repair a
// pool file without Open (pmempool).
//
// # The shape of a pool type's API
//
// Every pool type (log, blk; obj, set and vmem to follow) offers the same
// entry points, T being its pool type and Options its own options struct,
// which embeds this package's [Options] so that the common fields are set
// the same way everywhere (o.ReadOnly, o.IgnoreSDS, o.Logger, ...):
//
//	type Options struct { <fields of the type>; pool.Options }  // nil *Options = C's defaults
//	func Create(path string, poolsize int64, perm os.FileMode, opts *Options) (*T, error) // poolsize 0: the existing file, as C
//	func Open(path string, opts *Options) (*T, error)
//	func CreateOnMap(m *core.Map, opts *Options) (*T, error)
//	func OpenOnMap(m *core.Map, opts *Options) (*T, error)
//	func Check(path string, opts *Options) (problems []error, err error) // err: could not check; problems: what is wrong
//	func (*T) Close() error
//
// Check's err means the file could not be checked as a pool of this type
// (missing, a directory, locked, too small, another type or version);
// problems are what is wrong with a pool of this type (each wraps
// core.ErrCorrupt), a damaged header among them. After Close, methods that
// can fail return ErrClosed and accessors (Tell, NBytes, BSize, NBlock,
// Size...) return their zero value.
//
// Each package's doc lists its C functions beside these. The C pool
// options map to [Options] fields: POOL_OPEN_IGNORE_SDS to IgnoreSDS,
// POOL_OPEN_IGNORE_BAD_BLOCKS to IgnoreBadBlocks; C has no read-only open
// in its API (its check opens read-only), here ReadOnly is one.
package pool
