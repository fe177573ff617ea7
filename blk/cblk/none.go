//go:build !cpeer || !cgo

package cblk

import "os"

// Available reports whether the C peer is compiled in.
const Available = false

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

// ReadBlock fails.
func (*Pool) ReadBlock([]byte, int64) error { return ErrUnavailable }

// WriteBlock fails.
func (*Pool) WriteBlock([]byte, int64) error { return ErrUnavailable }

// SetZero fails.
func (*Pool) SetZero(int64) error { return ErrUnavailable }

// SetError fails.
func (*Pool) SetError(int64) error { return ErrUnavailable }

// ReadBlocks fails.
func (*Pool) ReadBlocks([]byte, []int64) error { return ErrUnavailable }

// WriteBlocks fails.
func (*Pool) WriteBlocks([]byte, []int64) error { return ErrUnavailable }
