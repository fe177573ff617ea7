// Package cpeer runs pmembench's scenarios against C PMDK (Debian's libpmem
// 1.12.1) through cgo, so the Go and C figures come from the same process
// and the same run. It is compiled only with the build tag cpeer (the
// Makefile sets it when the PMDK headers are installed); without the tag
// [Available] reports false and every constructor fails with
// [ErrUnavailable].
//
// The op loops run in C, batch by batch, so a cgo call costs once per batch
// and not once per operation.
package cpeer

import "errors"

// ErrUnavailable is returned when the build has no C peer.
var ErrUnavailable = errors.New("cpeer: built without the cpeer tag (C PMDK peer absent)")

// Op is one scenario operation, the same in Go and C.
type Op int

const (
	// OpMemcpyPersist copies size bytes and makes them persistent
	// (pmem_memcpy_persist, or memcpy + pmem_msync on page cache).
	OpMemcpyPersist Op = iota
	// OpMemsetPersist fills size bytes and makes them persistent
	// (pmem_memset_persist, or memset + pmem_msync).
	OpMemsetPersist
	// OpPersist dirties size bytes with memcpy, then persists them
	// (pmem_persist, or pmem_msync).
	OpPersist
)

// Slots is how a batch spreads its operations over a region: operation i
// writes at base + (i mod Count)*Stride.
type Slots struct {
	Stride int // bytes between operations, a multiple of 64
	Count  int // operations before wrapping around
}
