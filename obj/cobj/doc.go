// Package cobj binds C libpmemobj (PMDK 1.12.1), the C peer of package
// obj, for gopmdk's interop tests and benchmarks: they run the same
// operations through the reference implementation in the same process. It
// is a test and benchmark peer, not API: its shape follows what the tests
// need, each method calling the C function it is named after and adding
// nothing to it. Like C, it does not check OIDs: one that is not an
// allocated object of an open pool is undefined behaviour.
//
// It is cgo, built only with the build tag cpeer (the Makefile sets it when
// the PMDK headers are installed); without the tag [Available] is false
// and every constructor fails with [ErrUnavailable]. AllocFreeN runs its
// benchmark loop in C, one cgo call per batch.
//
// C gives each thread its own arena and lane: a goroutine whose C
// allocations must behave as one C thread's locks itself to its thread
// (runtime.LockOSThread).
//
// libpmem reads PMEM_IS_PMEM_FORCE once per process, at its first
// pmem_is_pmem: set it before the first Create or Open. Without it a pool
// on tmpfs or a disk is persisted with msync.
package cobj

import "errors"

// ErrUnavailable is returned by every constructor of a build without the
// cpeer tag.
var ErrUnavailable = errors.New("cobj: built without the cpeer tag (C libpmemobj peer absent)")
