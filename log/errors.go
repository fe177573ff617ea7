package log

import (
	"errors"

	"github.com/gopmdk/pmdk/core/pool"
)

// Errors of Append and Appendv.
var (
	// ErrNoSpace: the log has no room for the data (ENOSPC in C).
	ErrNoSpace = errors.New("log: no space left in the log")
	// ErrInvalidArgument: a negative size or chunk size (EINVAL in C).
	ErrInvalidArgument = errors.New("log: invalid argument")
)

// The errors every pool type shares, defined once in package core/pool:
// errors.Is matches either name (log.ErrWrongType is pool.ErrWrongType,
// blk.ErrWrongType too). Damage on the media is a *core.CorruptError
// (errors.Is(err, core.ErrCorrupt)); these are not.
var (
	// ErrWrongType: Open of a pool of another type (a blk or obj pool):
	// `wrong pool type: "PMEMBLK"`, as C words it.
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
	// ErrReadOnly: a change to a pool opened read-only (EROFS in C).
	ErrReadOnly = pool.ErrReadOnly
	// ErrClosed: a call after Close.
	ErrClosed = pool.ErrClosed
)
