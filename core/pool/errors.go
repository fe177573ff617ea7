package pool

import "errors"

// Errors of Open and Create. Header problems are *core.CorruptError values
// (errors.Is(err, core.ErrCorrupt)).
var (
	// ErrLocked: another open of the pool (in this or another process)
	// holds its lock.
	ErrLocked = errors.New("pool: locked by another open")
	// ErrIncompatible: the pool uses incompat features this package does
	// not know.
	ErrIncompatible = errors.New("pool: unknown incompat features")
	// ErrUnsafeShutdown: the shutdown state shows an unsafe shutdown
	// (ADR failure) while the pool was open; its data may be corrupt.
	// Options.IgnoreSDS opens it anyway.
	ErrUnsafeShutdown = errors.New("pool: unsafe shutdown detected, the pool might be corrupted")
	// ErrNotEmpty: Create on an existing file whose header area is not
	// all zeros. Create returns it together with fs.ErrExist.
	ErrNotEmpty = errors.New("pool: non-empty file")
	// ErrTooSmall: the pool file is smaller than the kind's minimum size.
	ErrTooSmall = errors.New("pool: size below the minimum")
	// ErrBadBlocks: the pool has the CHECK_BAD_BLOCKS feature and its
	// device reports bad blocks (poisoned media) in it.
	// Options.IgnoreBadBlocks opens it anyway.
	ErrBadBlocks = errors.New("pool: the pool contains bad blocks")
	// ErrPoolsetFile: the path names a poolset file (text starting with
	// PMEMPOOLSET), which C's pool functions accept in place of a pool
	// file; this package handles single pool files only.
	ErrPoolsetFile = errors.New("pool: a poolset file, not a pool file")
	// ErrClosed: the pool was closed.
	ErrClosed = errors.New("pool: closed")
)
