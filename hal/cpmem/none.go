//go:build !cpeer || !cgo

package cpmem

// Available reports whether the C peer is built in: not in this build.
const Available = false

// Run fails: no C peer in this build.
func Run(base []byte, l Loop, first, n uint64) error { return ErrUnavailable }

// HasAutoFlush panics: no C peer in this build.
func HasAutoFlush() int { panic(ErrUnavailable) }

// Map is a file mapped by libpmem; without the peer there is none.
type Map struct{}

// MapFile fails: no C peer in this build.
func MapFile(path string, size int64) (*Map, error) { return nil, ErrUnavailable }

// IsPmem reports false.
func (m *Map) IsPmem() bool { return false }

// Bytes returns nil.
func (m *Map) Bytes() []byte { return nil }

// Close does nothing.
func (m *Map) Close() error { return nil }
