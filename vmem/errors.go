package vmem

import (
	"errors"

	"github.com/gopmdk/pmdk/core/pool"
)

// Errors of pool creation.
var (
	// ErrTooSmall: a pool size under MinPoolSize (EINVAL in C). It is
	// the error of every pool type (pool.ErrTooSmall).
	ErrTooSmall = pool.ErrTooSmall
	// ErrUnaligned: CreateInRegion on a region that does not start on a
	// page boundary.
	ErrUnaligned = errors.New("vmem: region not page aligned")
	// ErrClosed: a call on a pool after its Close (pool.ErrClosed).
	ErrClosed = pool.ErrClosed
)

// Errors of allocation.
var (
	// ErrNoMem: the pool has no room for the request (NULL and ENOMEM
	// in C). The pool stays usable.
	ErrNoMem = errors.New("vmem: out of pool memory")
	// ErrInvalid: an alignment that is not a power of two, or a size
	// that overflows (EINVAL in C).
	ErrInvalid = errors.New("vmem: invalid size or alignment")
	// ErrNotAllocated: Free, Realloc or UsableSize of memory that is not
	// an allocation of this pool: outside it, not the start of an
	// allocation, or already free (undefined behaviour in C).
	ErrNotAllocated = errors.New("vmem: not an allocation of this pool")
	// ErrNotPointerFree: New or NewSlice of a type holding Go pointers,
	// which the garbage collector would not see in pool memory.
	ErrNotPointerFree = errors.New("vmem: type holds Go pointers")
)
