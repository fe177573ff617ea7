//go:build !cpeer || !cgo

package cmemkind

// Available reports whether the C peer is built in: not in this build.
const Available = false

// Kind is a memkind PMEM kind; without the peer there is none.
type Kind struct{}

// Create fails: no C peer in this build.
func Create(string, int64) (*Kind, error) { return nil, ErrUnavailable }

// Destroy does nothing.
func (*Kind) Destroy() {}

// Malloc returns 0.
func (*Kind) Malloc(int) uintptr { return 0 }

// Free does nothing.
func (*Kind) Free(uintptr) {}

// MallocFreeN fails.
func (*Kind) MallocFreeN(int, int) error { return ErrUnavailable }

// MixedN fails.
func (*Kind) MixedN([]uint32, int, int) error { return ErrUnavailable }
