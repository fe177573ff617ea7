//go:build !cpeer

package cpeer

// Available reports whether the C peer is built in.
func Available() bool { return false }

// Map is a file mapped by libpmem; without the peer there is none.
type Map struct{}

// MapFile fails with ErrUnavailable without the cpeer tag.
func MapFile(path string, size int64, flush bool) (*Map, error) { return nil, ErrUnavailable }

// IsPmem reports false without the peer.
func (m *Map) IsPmem() bool { return false }

// Bytes returns nil without the peer.
func (m *Map) Bytes() []byte { return nil }

// Run fails with ErrUnavailable without the peer.
func (m *Map) Run(op Op, base int, s Slots, src []byte, size int, first, n uint64) error {
	return ErrUnavailable
}

// Close does nothing without the peer.
func (m *Map) Close() error { return nil }

func cBlockFor(i, seed uint64, nblock int64) int64 { return BlockFor(i, seed, nblock) }

// BlkPool is a libpmemblk pool; without the peer there is none.
type BlkPool struct{}

// CreateBlk fails with ErrUnavailable without the cpeer tag.
func CreateBlk(path string, bsize int, size int64) (*BlkPool, error) { return nil, ErrUnavailable }

// NBlock returns 0 without the peer.
func (b *BlkPool) NBlock() int64 { return 0 }

// Run fails with ErrUnavailable without the peer.
func (b *BlkPool) Run(write, fill bool, buf []byte, seed, first, n uint64) error {
	return ErrUnavailable
}

// Close does nothing without the peer.
func (b *BlkPool) Close() error { return nil }

// LogPool is a libpmemlog pool; without the peer there is none.
type LogPool struct{}

// CreateLog fails with ErrUnavailable without the cpeer tag.
func CreateLog(path string, size int64) (*LogPool, error) { return nil, ErrUnavailable }

// Append fails with ErrUnavailable without the peer.
func (l *LogPool) Append(buf []byte, n uint64) error { return ErrUnavailable }

// Walk visits nothing without the peer.
func (l *LogPool) Walk(chunksize int, n uint64) uint64 { return 0 }

// Tell returns 0 without the peer.
func (l *LogPool) Tell() int64 { return 0 }

// Close does nothing without the peer.
func (l *LogPool) Close() error { return nil }
