// Package pmem is obj's one place for turning pool offsets into memory:
// typed 8-byte words of the mapping, atomic where the format needs
// power-fail atomic stores, and the persist calls on offset ranges.
//
// Offsets handed to these methods are trusted: callers validate what they
// read from the media before they use it as an offset. A violation is a
// bug in obj and panics.
package pmem

import (
	"sync/atomic"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
)

// Mem is a pool mapping and its persist path. B may run past the pool
// (a pool that grows: B spans its address reservation, of which only the
// first Size bytes are mapped); offsets must be checked against Size.
type Mem struct {
	B    []byte
	P    core.Persister
	size atomic.Uint64
}

// New returns the Mem of m.
func New(m *core.Map) *Mem { return NewIn(m, m.Bytes()) }

// NewIn returns the Mem of m, which may grow to room: a slice from the
// start of m's bytes, at least as long, whose bytes past m are not mapped
// until Grow says they are.
func NewIn(m *core.Map, room []byte) *Mem {
	if len(room) < m.Size() || unsafe.SliceData(room) != unsafe.SliceData(m.Bytes()) {
		panic("obj: room does not hold the mapping")
	}
	x := &Mem{B: room, P: m.Persister()}
	x.size.Store(uint64(m.Size()))
	return x
}

// Size returns the mapping's length.
func (m *Mem) Size() uint64 { return m.size.Load() }

// Grow records that the mapping is now size bytes long (no shorter than
// it was, no longer than B).
func (m *Mem) Grow(size uint64) {
	if size < m.Size() || size > uint64(len(m.B)) {
		panic("obj: mapping cannot grow to that size")
	}
	m.size.Store(size)
}

// Word returns the aligned 8-byte word at off.
func (m *Mem) Word(off uint64) *uint64 {
	if off%8 != 0 || off > m.Size()-8 {
		panic("obj: word offset outside the pool or unaligned")
	}
	return (*uint64)(unsafe.Pointer(&m.B[off]))
}

// Load reads the word at off atomically.
func (m *Mem) Load(off uint64) uint64 { return atomic.LoadUint64(m.Word(off)) }

// Store writes the word at off with one atomic store (power-fail atomic).
func (m *Mem) Store(off, v uint64) { atomic.StoreUint64(m.Word(off), v) }

// Slice returns n bytes at off.
func (m *Mem) Slice(off, n uint64) []byte { return m.B[off : off+n : off+n] }

// Flush starts writing back n bytes at off.
func (m *Mem) Flush(off, n uint64) { m.P.Flush(m.B[off : off+n]) }

// Persist flushes n bytes at off and waits for them.
func (m *Mem) Persist(off, n uint64) { m.P.Persist(m.B[off : off+n]) }

// Err returns the first write-back failure of the persist path (msync on
// the page cache; never for CPU flushes), wrapping core.ErrPersist.
func (m *Mem) Err() error { return m.P.Err() }

// Drain waits for earlier flushes and non-temporal stores.
func (m *Mem) Drain() { m.P.Drain() }

// Copy stores src at off through the persist path with flags.
func (m *Mem) Copy(off uint64, src []byte, flags core.MemFlags) {
	m.P.Memmove(m.B[off:off+uint64(len(src))], src, flags)
}

// Set fills n bytes at off with c through the persist path with flags.
func (m *Mem) Set(off, n uint64, c byte, flags core.MemFlags) {
	m.P.Memset(m.B[off:off+n], c, flags)
}

// Offset returns the pool offset of p if it points into the mapping.
func (m *Mem) Offset(p unsafe.Pointer) (uint64, bool) {
	n := m.Size()
	if n == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.B)))
	a := uintptr(p)
	if a < base || uint64(a-base) >= n {
		return 0, false
	}
	return uint64(a - base), true
}
