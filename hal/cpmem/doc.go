// Package cpmem binds C libpmem (PMDK 1.12.1) for gopmdk's interop tests
// and benchmarks, so that they can run the reference implementation in the
// same process and the same run as the Go code. It is a test and benchmark
// peer, not API: its shape follows what the tests need and may change with
// them.
//
// It is cgo, built only with the build tag cpeer (the Makefile sets it when
// the PMDK headers are installed); without the tag [Available] is false,
// [Run] and [MapFile] fail with [ErrUnavailable] and the queries panic.
// The operation loops run in C, so that one cgo call covers many
// operations and the call overhead does not count against C.
//
// libpmem reads PMEM_IS_PMEM_FORCE once per process, at its first
// pmem_is_pmem (pmem_map_file and the pool libraries call it): set it
// before the first call.
package cpmem

import "errors"

// ErrUnavailable is returned when the build has no C peer.
var ErrUnavailable = errors.New("cpmem: built without the cpeer tag (C libpmem peer absent)")

// Op is the operation Run repeats.
type Op int

// Operations of Run. Operation i works on Loop.Size bytes at
// base[(i mod Count)*Stride:].
const (
	// MemcpyPersist copies Src there and makes it persistent:
	// pmem_memcpy_persist (with Msync: memcpy, then pmem_msync).
	MemcpyPersist Op = iota
	// MemsetPersist fills it with byte(i) and makes it persistent:
	// pmem_memset_persist (with Msync: memset, then pmem_msync).
	MemsetPersist
	// CopyPersist copies Src there with memcpy, then persists it:
	// pmem_persist (with Msync: pmem_msync).
	CopyPersist
	// DirtyPersist stores byte(i) once in every 64-byte line, then
	// persists the range: pmem_persist (with Msync: pmem_msync).
	DirtyPersist
)

// Loop describes the operations of a Run.
type Loop struct {
	Op     Op
	Stride int    // bytes between operations, at least Size
	Count  int    // operations before wrapping around to base
	Size   int    // bytes per operation
	Src    []byte // what MemcpyPersist and CopyPersist copy: at least Size bytes
	// Msync persists with pmem_msync (the page-cache path) instead of
	// libpmem's CPU flushes.
	Msync bool
}

// check panics when the operations of l would leave base: a bug of the
// caller, which set the loop up.
func (l *Loop) check(base []byte) {
	needSrc := l.Op == MemcpyPersist || l.Op == CopyPersist
	if l.Size <= 0 || l.Stride < l.Size || l.Count <= 0 || len(base)/l.Stride < l.Count || (needSrc && len(l.Src) < l.Size) {
		panic("cpmem: Run: operations outside base, or Src too short")
	}
}
