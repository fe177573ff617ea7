// Package cpeer runs pmembench's scenarios against C PMDK (Debian's
// 1.12.1), so the Go and C figures come from the same process and the same
// run. It is pmembench's view of the shared C bindings hal/cpmem
// (libpmem), blk/cblk (libpmemblk) and log/clog (libpmemlog): the
// scenarios' operations and block choice on top of them, no cgo of its
// own. The bindings are compiled only with the build tag cpeer (the
// Makefile sets it when the PMDK headers are installed); without it
// [Available] reports false and every constructor fails.
//
// libpmem reads PMEM_IS_PMEM_FORCE once per process, at its first
// pmem_is_pmem (pmem_map_file and the pool libraries call it): set it
// before the first call. The memory ops here take the persist path as an
// argument and do not depend on it; libpmemblk and libpmemlog do.
//
// The op loops run in C, batch by batch, so a cgo call costs once per batch
// and not once per operation.
package cpeer

import "github.com/gopmdk/pmdk/hal/cpmem"

// Op is one scenario operation, the same in Go and C.
type Op = cpmem.Op

const (
	// OpMemcpyPersist copies size bytes and makes them persistent
	// (pmem_memcpy_persist, or memcpy + pmem_msync on page cache).
	OpMemcpyPersist = cpmem.MemcpyPersist
	// OpMemsetPersist fills size bytes and makes them persistent
	// (pmem_memset_persist, or memset + pmem_msync).
	OpMemsetPersist = cpmem.MemsetPersist
	// OpPersist dirties size bytes with memcpy, then persists them
	// (pmem_persist, or pmem_msync).
	OpPersist = cpmem.CopyPersist
)

// Slots is how a batch spreads its operations over a region: operation i
// writes at base + (i mod Count)*Stride.
type Slots struct {
	Stride int // bytes between operations, a multiple of 64
	Count  int // operations before wrapping around
}

// BlockFor returns the block number of random-access operation i of a
// worker seeded with seed, in [0, nblock): splitmix64, so that the Go and
// the C side of a scenario visit the same blocks in the same order.
func BlockFor(i, seed uint64, nblock int64) int64 {
	z := i + seed*0x9E3779B97F4A7C15 + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	return int64(z % uint64(nblock))
}
