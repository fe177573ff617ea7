// Package cmemkind binds memkind's PMEM kind (libmemkind, jemalloc on a
// temporary file in a directory: the successor its authors name for
// libvmem), the C peer of package vmem for gopmdk's benchmarks and
// comparisons: the same workloads run through it in the same process. It
// is a benchmark peer, not API: its shape follows what the benchmarks
// need.
//
// It is cgo, built only with the build tag cpeer (the Makefile sets it when
// the PMDK and memkind headers are installed); without the tag [Available]
// is false and [Create] fails with [ErrUnavailable]. Benchmark loops run
// in C (MallocFreeN, MixedN), one cgo call per batch, so no cgo transition
// is timed per operation.
package cmemkind

import "errors"

// ErrUnavailable is returned by Create in a build without the cpeer tag.
var ErrUnavailable = errors.New("cmemkind: built without the cpeer tag (memkind peer absent)")

// MinSize is memkind's smallest PMEM kind (MEMKIND_PMEM_MIN_SIZE), bytes.
const MinSize = 16 << 20
