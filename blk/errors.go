package blk

import (
	"errors"

	"github.com/gopmdk/pmdk/blk/internal/btt"
)

// Errors of the blk package. Bad on-media data is reported with a
// *core.CorruptError (errors.Is(err, core.ErrCorrupt)).
var (
	// ErrBlockSize: the block size asked for is 0, too large, or not the
	// one the pool was created with.
	ErrBlockSize = errors.New("blk: wrong block size")
	// ErrReadOnly: a write to a pool opened read-only.
	ErrReadOnly = errors.New("blk: pool is read-only")
	// ErrRange: a block number below 0 or not below NBlock.
	ErrRange = btt.ErrLBARange
	// ErrBlockError: a read of a block marked with SetError (C: EIO).
	ErrBlockError = btt.ErrBlockError
	// ErrArenaError: a write to an arena in the error state (C: EIO).
	ErrArenaError = btt.ErrArenaError
	// ErrUnaligned: a WriteAt whose offset or length is not a multiple of
	// the block size.
	ErrUnaligned = errors.New("blk: offset or length not a multiple of the block size")
	// ErrClosed: the pool was closed.
	ErrClosed = errors.New("blk: pool closed")
)
