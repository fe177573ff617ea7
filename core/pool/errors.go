package pool

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// The errors every pool type reports, defined here once: log, blk and obj
// re-export them (log.ErrWrongType is pool.ErrWrongType), so a program
// tests them with errors.Is whichever name it uses. Damage on the media is
// a *core.CorruptError (errors.Is(err, core.ErrCorrupt)); none of the
// errors below is: a pool of another type, of a newer version or in use is
// not corrupt.
//
// The messages are C's where C has one (`wrong pool type: "PMEMBLK"`,
// `pool version 7 (library expects 1)`); they carry no package prefix, so
// that the library a program called adds its own once:
// `blk: open /p: wrong pool type: "PMEMLOG"`.
var (
	// ErrWrongType: the file is a pool of another type (its signature
	// is another known pool signature: opening a blk pool with
	// log.Open). An unknown signature is corruption, not this.
	ErrWrongType = errors.New("wrong pool type")
	// ErrVersion: the pool's major version is not the one this library
	// implements (a pool of a newer or older format).
	ErrVersion = errors.New("unsupported pool version")
	// ErrIncompatible: the pool uses incompat features this package does
	// not know (a newer format).
	ErrIncompatible = errors.New("unknown incompat features")
	// ErrTooSmall: the file or mapping is smaller than the pool type's
	// minimum size (an empty file, a truncated pool).
	ErrTooSmall = errors.New("pool too small")
	// ErrLocked: another open of the pool, in this or another process
	// (a program, pmempool), holds its lock. The error also wraps
	// unix.EWOULDBLOCK (EAGAIN), the errno C reports: "Resource
	// temporarily unavailable".
	ErrLocked = errors.New("pool in use")
	// ErrReadOnly: a change to a pool opened read-only (EROFS in C).
	ErrReadOnly = errors.New("pool is read-only")
	// ErrClosed: a call on a pool after its Close.
	ErrClosed = errors.New("pool is closed")
	// ErrUnsafeShutdown: the shutdown state shows an unsafe shutdown
	// (ADR failure) while the pool was open; its data may be corrupt.
	// Options.IgnoreSDS opens it anyway.
	ErrUnsafeShutdown = errors.New("unsafe shutdown detected, the pool might be corrupted")
	// ErrNotEmpty: Create on an existing file whose header area is not
	// all zeros. Create returns it together with fs.ErrExist.
	ErrNotEmpty = errors.New("non-empty file detected")
	// ErrBadBlocks: the pool has the CHECK_BAD_BLOCKS feature and its
	// device reports bad blocks (poisoned media) in it.
	// Options.IgnoreBadBlocks opens it anyway.
	ErrBadBlocks = errors.New("the pool contains bad blocks")
	// ErrPoolsetFile was returned for a poolset file when this package
	// opened single files only.
	//
	// Deprecated: Create and Open accept poolset files; nothing returns
	// it any more.
	ErrPoolsetFile = errors.New("a poolset file, not a pool file")
)

// kindError is an error of a pool's identity (type or version) with C's
// wording, matching its sentinel with errors.Is.
type kindError struct {
	sentinel error
	msg      string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.sentinel }

// wrongType is ErrWrongType for a header signed sig.
func wrongType(sig string) error {
	return &kindError{ErrWrongType, fmt.Sprintf("wrong pool type: %q", sig)}
}

// wrongVersion is ErrVersion for a pool of major version got.
func wrongVersion(got, want uint32) error {
	return &kindError{ErrVersion, fmt.Sprintf("pool version %d (library expects %d)", got, want)}
}

// tooSmall is ErrTooSmall for size bytes where min are needed, in C's
// words.
func tooSmall(size, min int64) error {
	return fmt.Errorf("%w: size %d smaller than %d", ErrTooSmall, size, min)
}

// locked is ErrLocked with the errno C reports (EWOULDBLOCK, "resource
// temporarily unavailable"), both matched by errors.Is and errors.As.
func locked() error { return fmt.Errorf("%w: %w", ErrLocked, unix.EWOULDBLOCK) }
