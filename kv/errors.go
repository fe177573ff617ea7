package kv

import (
	"errors"

	"github.com/gopmdk/pmdk/obj"
)

// pmemkv's status codes as errors. Callers test them with errors.Is;
// [Status] gives the pmemkv number of an error.
var (
	// ErrNotFound: the key is not there (PMEMKV_STATUS_NOT_FOUND).
	ErrNotFound = errors.New("kv: not found")
	// ErrNotSupported: the engine has no such operation, such as a range
	// count on an unsorted engine (PMEMKV_STATUS_NOT_SUPPORTED).
	ErrNotSupported = errors.New("kv: not supported by this engine")
	// ErrInvalidArgument: a bad key, value or argument
	// (PMEMKV_STATUS_INVALID_ARGUMENT).
	ErrInvalidArgument = errors.New("kv: invalid argument")
	// ErrConfig: the configuration cannot be used, such as a missing
	// path or size (PMEMKV_STATUS_CONFIG_PARSING_ERROR).
	ErrConfig = errors.New("kv: bad config")
	// ErrStoppedByCallback: a callback asked to stop an iteration
	// (PMEMKV_STATUS_STOPPED_BY_CB).
	ErrStoppedByCallback = errors.New("kv: stopped by callback")
	// ErrOutOfMemory: the pool has no room for the key and value, or a
	// copy buffer is too small (PMEMKV_STATUS_OUT_OF_MEMORY). It wraps
	// obj's or vmem's error when the pool is full.
	ErrOutOfMemory = errors.New("kv: out of memory")
	// ErrWrongEngine: the engine name is unknown, or the pool holds
	// another engine's data (PMEMKV_STATUS_WRONG_ENGINE_NAME).
	ErrWrongEngine = errors.New("kv: wrong engine name")
	// ErrTransactionScope: a write of a batch failed, or the batch is
	// used after Commit or Abort (PMEMKV_STATUS_TRANSACTION_SCOPE_ERROR).
	ErrTransactionScope = errors.New("kv: transaction scope error")
	// ErrCorrupt: the engine's data in the pool is damaged (an offset out
	// of the pool, a bad magic, a length past its object). pmemkv has no
	// such status; it is PMEMKV_STATUS_UNKNOWN_ERROR there.
	ErrCorrupt = errors.New("kv: engine data damaged")
	// ErrClosed: the database was closed.
	ErrClosed = errors.New("kv: closed")
	// ErrExists: create_or_error_if_exists found the file there.
	ErrExists = errors.New("kv: pool file exists")
)

// ErrLayout is obj's error for a pool file made for another layout: Open
// of a pool that is not a kv pool wraps it.
var ErrLayout = obj.ErrLayout

// Status codes of pmemkv (libpmemkv.h).
const (
	StatusOK                 = 0
	StatusUnknownError       = 1
	StatusNotFound           = 2
	StatusNotSupported       = 3
	StatusInvalidArgument    = 4
	StatusConfigParsingError = 5
	StatusConfigTypeError    = 6
	StatusStoppedByCB        = 7
	StatusOutOfMemory        = 8
	StatusWrongEngineName    = 9
	StatusTransactionScope   = 10
	StatusDefragError        = 11
	StatusComparatorMismatch = 12
)

// Status returns the pmemkv status code of err: StatusOK for nil,
// StatusUnknownError for errors with no pmemkv equivalent.
func Status(err error) int {
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, ErrNotFound):
		return StatusNotFound
	case errors.Is(err, ErrNotSupported):
		return StatusNotSupported
	case errors.Is(err, ErrInvalidArgument):
		return StatusInvalidArgument
	case errors.Is(err, ErrConfig):
		return StatusConfigParsingError
	case errors.Is(err, ErrStoppedByCallback):
		return StatusStoppedByCB
	case errors.Is(err, ErrOutOfMemory):
		return StatusOutOfMemory
	case errors.Is(err, ErrWrongEngine):
		return StatusWrongEngineName
	case errors.Is(err, ErrTransactionScope):
		return StatusTransactionScope
	}
	return StatusUnknownError
}
