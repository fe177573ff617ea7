package cpeer

import (
	"github.com/gopmdk/pmdk/blk/cblk"
	"github.com/gopmdk/pmdk/hal/cpmem"
	"github.com/gopmdk/pmdk/log/clog"
)

// Available reports whether the C peers are built in.
func Available() bool { return cpmem.Available && cblk.Available && clog.Available }

// Map is a file mapped by libpmem's pmem_map_file.
type Map struct {
	m     *cpmem.Map
	flush bool
}

// MapFile creates the file at path with size bytes and maps it with
// pmem_map_file. flush selects the persist path of Run: CPU flushes
// (pmem_*_persist, what libpmem does on pmem or with PMEM_IS_PMEM_FORCE=1)
// or msync (page cache).
func MapFile(path string, size int64, flush bool) (*Map, error) {
	m, err := cpmem.MapFile(path, size)
	if err != nil {
		return nil, err
	}
	return &Map{m: m, flush: flush}, nil
}

// IsPmem reports what pmem_map_file said about the mapping.
func (m *Map) IsPmem() bool { return m.m.IsPmem() }

// Bytes returns the mapped memory, valid until Close.
func (m *Map) Bytes() []byte { return m.m.Bytes() }

// Run does n operations op numbered from first, each writing size bytes at
// offset base + (i mod s.Count)*s.Stride of the mapping; src supplies the
// bytes of OpMemcpyPersist and OpPersist. It panics if the slots do not fit
// the mapping or src is shorter than size, as the caller set them up.
func (m *Map) Run(op Op, base int, s Slots, src []byte, size int, first, n uint64) error {
	l := cpmem.Loop{Op: op, Stride: s.Stride, Count: s.Count, Size: size, Src: src, Msync: !m.flush}
	return cpmem.Run(m.m.Bytes()[base:], l, first, n)
}

// Close unmaps the file.
func (m *Map) Close() error { return m.m.Close() }

// BlkPool is a libpmemblk pool.
type BlkPool struct {
	p      *cblk.Pool
	nblock int64
	blocks []int64 // reused by Run
}

// CreateBlk creates a block pool of size bytes with bsize-byte blocks
// (pmemblk_create).
func CreateBlk(path string, bsize int, size int64) (*BlkPool, error) {
	p, err := cblk.Create(path, bsize, size, 0o600)
	if err != nil {
		return nil, err
	}
	return &BlkPool{p: p, nblock: p.NBlock()}, nil
}

// NBlock returns the number of blocks (pmemblk_nblock).
func (b *BlkPool) NBlock() int64 { return b.nblock }

// Run does n reads (write false) or writes of buf at the blocks
// BlockFor(i, seed, NBlock()) for i from first; with fill, at block i mod
// NBlock() instead. buf must hold a block. The loop runs in C.
func (b *BlkPool) Run(write, fill bool, buf []byte, seed, first, n uint64) error {
	if uint64(cap(b.blocks)) < n {
		b.blocks = make([]int64, n)
	}
	blocks := b.blocks[:n]
	for k := range blocks {
		i := first + uint64(k)
		if fill {
			blocks[k] = int64(i % uint64(b.nblock))
		} else {
			blocks[k] = BlockFor(i, seed, b.nblock)
		}
	}
	if write {
		return b.p.WriteBlocks(buf, blocks)
	}
	return b.p.ReadBlocks(buf, blocks)
}

// Close closes the pool (pmemblk_close).
func (b *BlkPool) Close() error { return b.p.Close() }

// LogPool is a libpmemlog pool.
type LogPool struct{ l *clog.Log }

// CreateLog creates a log pool of size bytes (pmemlog_create).
func CreateLog(path string, size int64) (*LogPool, error) {
	l, err := clog.Create(path, size, 0o600)
	if err != nil {
		return nil, err
	}
	return &LogPool{l}, nil
}

// Append appends buf n times (pmemlog_append), rewinding the log
// (pmemlog_rewind) whenever the next append would not fit.
func (l *LogPool) Append(buf []byte, n uint64) error {
	if len(buf) == 0 {
		return nil
	}
	return l.l.AppendN(buf, int(n))
}

// Walk walks the whole log (pmemlog_walk) in chunks of chunksize bytes,
// again and again until at least n chunks were visited, and returns the
// number visited (0 for an empty log).
func (l *LogPool) Walk(chunksize int, n uint64) uint64 {
	per, _ := l.l.WalkN(chunksize, 1)
	if per <= 0 {
		return 0
	}
	total := uint64(per)
	if total < n {
		more, _ := l.l.WalkN(chunksize, int((n-total+uint64(per)-1)/uint64(per)))
		total += uint64(more)
	}
	return total
}

// Tell returns the write point (pmemlog_tell).
func (l *LogPool) Tell() int64 { return l.l.Tell() }

// Close closes the pool (pmemlog_close).
func (l *LogPool) Close() error {
	l.l.Close()
	return nil
}
