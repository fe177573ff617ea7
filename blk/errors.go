package blk

import (
	"errors"

	"github.com/gopmdk/pmdk/blk/internal/btt"
	"github.com/gopmdk/pmdk/core/pool"
)

// Errors of the blk package. Bad on-media data is reported with a
// *core.CorruptError (errors.Is(err, core.ErrCorrupt)).
var (
	// ErrBlockSize: the block size asked for is 0, too large, or not the
	// one the pool was created with; or a buffer that is not one block
	// (WriteBlock of more or fewer than BSize bytes, ReadBlock into
	// fewer).
	ErrBlockSize = errors.New("blk: wrong block size")
	// ErrRange: a block number below 0 or not below NBlock.
	ErrRange = btt.ErrLBARange
	// ErrBlockError: a read of a block marked with SetError (C: EIO).
	ErrBlockError = btt.ErrBlockError
	// ErrArenaError: a write to an arena in the error state (C: EIO).
	ErrArenaError = btt.ErrArenaError
	// ErrUnaligned: a WriteAt whose offset or length is not a multiple of
	// the block size.
	ErrUnaligned = errors.New("blk: offset or length not a multiple of the block size")
)

// The errors every pool type shares, defined once in package core/pool:
// errors.Is matches either name (blk.ErrWrongType is pool.ErrWrongType,
// log.ErrWrongType too). None of them wraps core.ErrCorrupt.
var (
	// ErrWrongType: Open of a pool of another type (a log or obj pool):
	// `wrong pool type: "PMEMLOG"`, as C words it.
	ErrWrongType = pool.ErrWrongType
	// ErrVersion: Open of a pool of another major version:
	// "pool version 7 (library expects 1)".
	ErrVersion = pool.ErrVersion
	// ErrPoolTooSmall: a file or mapping smaller than [MinPoolSize]
	// (an empty file, a truncated pool).
	ErrPoolTooSmall = pool.ErrTooSmall
	// ErrLocked: the pool is open elsewhere (another Open, a C program,
	// pmempool); it also matches unix.EWOULDBLOCK, C's errno.
	ErrLocked = pool.ErrLocked
	// ErrReadOnly: a write to a pool opened read-only (EROFS in C).
	ErrReadOnly = pool.ErrReadOnly
	// ErrClosed: a call after Close.
	ErrClosed = pool.ErrClosed
)
