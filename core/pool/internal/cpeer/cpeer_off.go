//go:build !cpeer

// Package cpeer runs libpmemlog's pool open and close, the C peer of the
// pool package's benchmarks. Without the cpeer build tag it is absent.
package cpeer

import "errors"

// Available reports whether the C peer is built in.
func Available() bool { return false }

// OpenClose reports that the C peer is not built in.
func OpenClose(path string, n int) error { return errors.New("cpeer: built without the cpeer tag") }
