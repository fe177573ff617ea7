package vmemcache

import (
	"errors"

	"github.com/gopmdk/pmdk/core"
)

// Errors of New.
var (
	// ErrInvalidArgument: an option New does not accept (no directory and no
	// region, a size below MinSize, an extent size below MinExtentSize or
	// above the size, an unknown policy), as C's EINVAL. It is core's.
	ErrInvalidArgument = core.ErrInvalidArgument
)

// Errors of the operations.
var (
	// ErrNotFound: Get or Evict of a key not in the cache (C's ENOENT).
	ErrNotFound = errors.New("vmemcache: no entry for the key")
	// ErrExists: Put of a key already in the cache (C's EEXIST).
	ErrExists = errors.New("vmemcache: entry for the key already exists")
	// ErrNoSpace: Put found no room and could not evict (policy none, or
	// nothing left to evict), C's ENOSPC.
	ErrNoSpace = errors.New("vmemcache: not enough space in the cache")
	// ErrTooLarge: Put of a key and value that together exceed what the
	// cache can ever hold (C's ENOSPC for a value larger than the cache).
	ErrTooLarge = errors.New("vmemcache: entry larger than the cache")
	// ErrNoEvictable: Evict(nil) with nothing to evict (C's ESRCH), or with
	// the policy none.
	ErrNoEvictable = errors.New("vmemcache: no evictable entry")
	// ErrClosed: a call after Close.
	ErrClosed = errors.New("vmemcache: cache is closed")
)
