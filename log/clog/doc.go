// Package clog binds C libpmemlog (PMDK 1.12.1), the C peer of package log,
// for gopmdk's interop tests and benchmarks: they run the same operations
// through the reference implementation in the same process. It is a test
// and benchmark peer, not API: its shape follows what the tests need.
//
// It is cgo, built only with the build tag cpeer (the Makefile sets it when
// the PMDK headers are installed); without the tag [Available] is false
// and every constructor fails with [ErrUnavailable]. Benchmark loops run
// in C (AppendN, WalkN, OpenCloseN), one cgo call per batch.
//
// libpmem reads PMEM_IS_PMEM_FORCE once per process, at its first
// pmem_is_pmem: set it before the first Create or Open.
package clog

import "errors"

// ErrUnavailable is returned by every constructor of a build without the
// cpeer tag.
var ErrUnavailable = errors.New("clog: built without the cpeer tag (C libpmemlog peer absent)")
