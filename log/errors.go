package log

import (
	"errors"

	"github.com/gopmdk/pmdk/core/pool"
)

// Errors of Append and Appendv.
var (
	// ErrNoSpace: the log has no room for the data (ENOSPC in C).
	ErrNoSpace = errors.New("log: no space left in the log")
	// ErrReadOnly: the pool was opened read-only (EROFS in C).
	ErrReadOnly = errors.New("log: log is read-only")
)

// Errors of every method.
var (
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("log: log is closed")
	// ErrInvalidArgument: a negative size or chunk size (EINVAL in C).
	ErrInvalidArgument = errors.New("log: invalid argument")
)

// Errors of Create and Open.
var (
	// ErrPoolTooSmall: the pool is smaller than [MinPoolSize]. It is the
	// pool package's error, so errors.Is matches either name.
	ErrPoolTooSmall = pool.ErrTooSmall
)
