package obj

import (
	"errors"

	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj/internal/heap"
)

// Errors of Create and Open. Damage on the media is a *core.CorruptError
// (errors.Is(err, core.ErrCorrupt)).
var (
	// ErrLayout: Open with a layout name other than the pool's, or Create
	// with one of MaxLayout bytes or more (EINVAL in C).
	ErrLayout = errors.New("obj: wrong layout")
)

// The errors every pool type shares, defined once in package core/pool:
// errors.Is matches either name (obj.ErrWrongType is pool.ErrWrongType,
// log.ErrWrongType too). None of them wraps core.ErrCorrupt.
var (
	// ErrWrongType: Open of a pool of another type (a log or blk pool):
	// `wrong pool type: "PMEMLOG"`, as C words it.
	ErrWrongType = pool.ErrWrongType
	// ErrVersion: Open of a pool of another major version:
	// "pool version 7 (library expects 6)".
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

// Errors of allocation and of the calls that take an OID.
var (
	// ErrOutOfMemory: no free block is large enough (ENOMEM in C).
	ErrOutOfMemory = heap.ErrNoSpace
	// ErrSize: an allocation of 0 bytes, above [MaxAllocSize], or too
	// large for the allocation class asked for (EINVAL or ENOMEM in C).
	ErrSize = heap.ErrSize
	// ErrInvalidOID: an OID that names no allocated object of this pool:
	// null, of another pool, freed, or not an object's start. C does not
	// check and corrupts its heap; Go refuses.
	ErrInvalidOID = heap.ErrInvalidOID
	// ErrClass: an allocation class id that does not exist.
	ErrClass = heap.ErrClass
	// ErrArena: an arena id that does not exist.
	ErrArena = heap.ErrArena
	// ErrFlags: allocation flags the call does not accept (EINVAL in C).
	ErrFlags = errors.New("obj: invalid flags")
	// ErrTooManyActions: more actions than one publication's redo log
	// holds.
	ErrTooManyActions = errors.New("obj: too many actions in one publication")
	// ErrNotPointerFree: a Go type with pointers (pointer, slice, string,
	// map, chan, func, interface, uintptr) used as a persistent object
	// type. A Go pointer stored in persistent memory is invisible to the
	// garbage collector and dangles after a restart.
	ErrNotPointerFree = errors.New("obj: type holds Go pointers")
	// ErrLogBufferInUse: with tx.debug.verify_user_buffers on, a log
	// buffer given to Tx.LogAppendBuffer that overlaps one a running
	// transaction uses (C: "Buffer currently used", EINVAL).
	ErrLogBufferInUse = errors.New("obj: log buffer in use by a transaction")
	// ErrTooSmall: an object smaller than the Go type asked of it.
	ErrTooSmall = errors.New("obj: object smaller than the type")
)
