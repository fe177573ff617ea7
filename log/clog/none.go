//go:build !cpeer || !cgo

package clog

import "os"

// Available reports whether the C peer is built in: not in this build.
const Available = false

// Log is a pool opened by C libpmemlog; without the peer there is none.
type Log struct{}

// Create fails: no C peer in this build.
func Create(string, int64, os.FileMode) (*Log, error) { return nil, ErrUnavailable }

// Open fails: no C peer in this build.
func Open(string) (*Log, error) { return nil, ErrUnavailable }

// Check returns -1: no C peer in this build.
func Check(string) int { return -1 }

// OpenCloseN fails: no C peer in this build.
func OpenCloseN(string, int) error { return ErrUnavailable }

// Close does nothing.
func (*Log) Close() {}

// Append fails.
func (*Log) Append([]byte) error { return ErrUnavailable }

// Appendv fails.
func (*Log) Appendv(...[]byte) error { return ErrUnavailable }

// AppendN fails.
func (*Log) AppendN([]byte, int) error { return ErrUnavailable }

// Tell returns 0.
func (*Log) Tell() int64 { return 0 }

// NBytes returns 0.
func (*Log) NBytes() int64 { return 0 }

// Rewind does nothing.
func (*Log) Rewind() {}

// Content returns nothing.
func (*Log) Content(int) ([]byte, int) { return nil, 0 }

// WalkN visits nothing.
func (*Log) WalkN(int, int) (chunks, bytes int64) { return 0, 0 }
