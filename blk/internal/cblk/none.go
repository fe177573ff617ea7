//go:build !cpeer

package cblk

import (
	"errors"
	"os"
)

// Available reports whether the C peer is compiled in.
const Available = false

// ErrUnavailable is returned by every constructor of a build without the
// cpeer tag.
var ErrUnavailable = errors.New("cblk: built without the cpeer tag (C libpmemblk peer absent)")

// Pool is the C peer's pool; without the cpeer tag none can be made.
type Pool struct{}

// Create fails: no C peer in this build.
func Create(string, int, int64, os.FileMode) (*Pool, error) { return nil, ErrUnavailable }

// Open fails: no C peer in this build.
func Open(string, int) (*Pool, error) { return nil, ErrUnavailable }

// Close does nothing.
func (*Pool) Close() error { return nil }

// BSize is 0.
func (*Pool) BSize() int { return 0 }

// NBlock is 0.
func (*Pool) NBlock() int64 { return 0 }

// Read fails.
func (*Pool) Read([]byte, int64) error { return ErrUnavailable }

// Write fails.
func (*Pool) Write([]byte, int64) error { return ErrUnavailable }

// SetZero fails.
func (*Pool) SetZero(int64) error { return ErrUnavailable }

// SetError fails.
func (*Pool) SetError(int64) error { return ErrUnavailable }
