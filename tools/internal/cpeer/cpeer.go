//go:build cpeer

package cpeer

/*
#cgo LDFLAGS: -lpmem -lpmemblk -lpmemlog
#include <libpmem.h>
#include <libpmemblk.h>
#include <libpmemlog.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *peer_map(const char *path, size_t size, size_t *mapped, int *is_pmem) {
	return pmem_map_file(path, size, PMEM_FILE_CREATE | PMEM_FILE_EXCL, 0600, mapped, is_pmem);
}

// peer_run does n operations op = 0 memcpy, 1 memset, 2 dirty+persist,
// numbered from first, each at base + (i mod count)*stride. flush = 1 uses
// the CPU flush path (pmem), 0 the page-cache path (pmem_msync).
static int peer_run(char *base, size_t stride, size_t count, const char *src, size_t size,
		int op, int flush, uint64_t first, uint64_t n) {
	for (uint64_t i = first; i < first + n; i++) {
		char *dst = base + (i % count) * stride;
		switch (op) {
		case 0:
			if (flush) {
				pmem_memcpy_persist(dst, src, size);
			} else {
				memcpy(dst, src, size);
				if (pmem_msync(dst, size)) return -1;
			}
			break;
		case 1:
			if (flush) {
				pmem_memset_persist(dst, (int)(i & 0xff), size);
			} else {
				memset(dst, (int)(i & 0xff), size);
				if (pmem_msync(dst, size)) return -1;
			}
			break;
		case 2:
			memcpy(dst, src, size);
			if (flush) {
				pmem_persist(dst, size);
			} else if (pmem_msync(dst, size)) {
				return -1;
			}
			break;
		}
	}
	return 0;
}

// peer_block_for is BlockFor of doc.go: splitmix64 of the op number and
// seed, reduced to a block number.
static uint64_t peer_block_for(uint64_t i, uint64_t seed, uint64_t nblock) {
	uint64_t z = i + seed * 0x9E3779B97F4A7C15ULL + 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return z % nblock;
}

// peer_blk_run does n reads or writes of random blocks; fill writes every
// block in order instead.
static int peer_blk_run(PMEMblkpool *p, int write, int fill, char *buf, uint64_t seed,
		uint64_t nblock, uint64_t first, uint64_t n) {
	for (uint64_t i = first; i < first + n; i++) {
		long long b = fill ? (long long)(i % nblock) : (long long)peer_block_for(i, seed, nblock);
		int r = write ? pmemblk_write(p, buf, b) : pmemblk_read(p, buf, b);
		if (r != 0) return -1;
	}
	return 0;
}

// peer_log_append appends n times; a full log is rewound and the append
// retried, as the Go side does.
static int peer_log_append(PMEMlogpool *p, const char *buf, size_t size, uint64_t n) {
	for (uint64_t i = 0; i < n; i++) {
		if (pmemlog_append(p, buf, size) == 0) continue;
		if (errno != ENOSPC) return -1;
		pmemlog_rewind(p);
		if (pmemlog_append(p, buf, size) != 0) return -1;
	}
	return 0;
}

static int peer_count_chunk(const void *buf, size_t len, void *arg) {
	(*(uint64_t *)arg)++;
	return 1;
}

// peer_log_walk walks the whole log with chunks of chunksize bytes until
// at least n chunks were visited, and returns how many were.
static uint64_t peer_log_walk(PMEMlogpool *p, size_t chunksize, uint64_t n) {
	uint64_t count = 0;
	do {
		uint64_t before = count;
		pmemlog_walk(p, chunksize, peer_count_chunk, &count);
		if (count == before) break; // empty log
	} while (count < n);
	return count;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether the C peer is built in.
func Available() bool { return true }

// Map is a file mapped by libpmem's pmem_map_file.
type Map struct {
	addr    unsafe.Pointer
	size    int
	isPmem  bool
	flushed bool
}

// MapFile creates the file at path with size bytes and maps it with
// pmem_map_file. flush selects the persist path of Run: CPU flushes
// (pmem_*_persist, what libpmem does on pmem or with PMEM_IS_PMEM_FORCE=1)
// or msync (page cache).
func MapFile(path string, size int64, flush bool) (*Map, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var mapped C.size_t
	var isPmem C.int
	addr, err := C.peer_map(cpath, C.size_t(size), &mapped, &isPmem)
	if addr == nil {
		return nil, fmt.Errorf("cpeer: pmem_map_file %s: %v (%s)", path, err, C.GoString(C.pmem_errormsg()))
	}
	return &Map{addr: addr, size: int(mapped), isPmem: isPmem != 0, flushed: flush}, nil
}

// IsPmem reports what pmem_map_file said about the mapping.
func (m *Map) IsPmem() bool { return m.isPmem }

// Bytes returns the mapped memory, valid until Close.
func (m *Map) Bytes() []byte { return unsafe.Slice((*byte)(m.addr), m.size) }

// Run does n operations op numbered from first, each writing size bytes at
// offset base + (i mod s.Count)*s.Stride of the mapping; src supplies the
// bytes of OpMemcpyPersist and OpPersist. It panics if the slots do not fit
// the mapping or src is shorter than size, as the caller set them up.
func (m *Map) Run(op Op, base int, s Slots, src []byte, size int, first, n uint64) error {
	if base < 0 || s.Count <= 0 || s.Stride < size || base+s.Count*s.Stride > m.size || len(src) < size || size <= 0 {
		panic("cpeer: Run: slots outside the mapping")
	}
	flush := C.int(0)
	if m.flushed {
		flush = 1
	}
	r := C.peer_run((*C.char)(unsafe.Add(m.addr, base)), C.size_t(s.Stride), C.size_t(s.Count),
		(*C.char)(unsafe.Pointer(unsafe.SliceData(src))), C.size_t(size), C.int(op), flush, C.uint64_t(first), C.uint64_t(n))
	if r != 0 {
		return fmt.Errorf("cpeer: pmem_msync: %s", C.GoString(C.pmem_errormsg()))
	}
	return nil
}

// Close unmaps the file.
func (m *Map) Close() error {
	if m.addr == nil {
		return nil
	}
	r, err := C.pmem_unmap(m.addr, C.size_t(m.size))
	m.addr = nil
	if r != 0 {
		return fmt.Errorf("cpeer: pmem_unmap: %v", err)
	}
	return nil
}

// cBlockFor is BlockFor computed in C, for the test that both agree.
func cBlockFor(i, seed uint64, nblock int64) int64 {
	return int64(C.peer_block_for(C.uint64_t(i), C.uint64_t(seed), C.uint64_t(nblock)))
}

// BlkPool is a libpmemblk pool.
type BlkPool struct {
	p      *C.PMEMblkpool
	nblock int64
}

// CreateBlk creates a block pool of size bytes with bsize-byte blocks
// (pmemblk_create).
func CreateBlk(path string, bsize int, size int64) (*BlkPool, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := C.pmemblk_create(cpath, C.size_t(bsize), C.size_t(size), 0o600)
	if p == nil {
		return nil, fmt.Errorf("cpeer: pmemblk_create %s: %v (%s)", path, err, C.GoString(C.pmemblk_errormsg()))
	}
	return &BlkPool{p: p, nblock: int64(C.pmemblk_nblock(p))}, nil
}

// NBlock returns the number of blocks (pmemblk_nblock).
func (b *BlkPool) NBlock() int64 { return b.nblock }

// Run does n reads (write false) or writes of buf at the blocks
// BlockFor(i, seed, NBlock()) for i from first; with fill, at block i mod
// NBlock() instead. buf must hold a block.
func (b *BlkPool) Run(write, fill bool, buf []byte, seed, first, n uint64) error {
	w, f := C.int(0), C.int(0)
	if write {
		w = 1
	}
	if fill {
		f = 1
	}
	r, err := C.peer_blk_run(b.p, w, f, (*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.uint64_t(seed),
		C.uint64_t(b.nblock), C.uint64_t(first), C.uint64_t(n))
	if r != 0 {
		return fmt.Errorf("cpeer: pmemblk read/write: %v (%s)", err, C.GoString(C.pmemblk_errormsg()))
	}
	return nil
}

// Close closes the pool (pmemblk_close).
func (b *BlkPool) Close() error {
	if b.p != nil {
		C.pmemblk_close(b.p)
		b.p = nil
	}
	return nil
}

// LogPool is a libpmemlog pool.
type LogPool struct{ p *C.PMEMlogpool }

// CreateLog creates a log pool of size bytes (pmemlog_create).
func CreateLog(path string, size int64) (*LogPool, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := C.pmemlog_create(cpath, C.size_t(size), 0o600)
	if p == nil {
		return nil, fmt.Errorf("cpeer: pmemlog_create %s: %v (%s)", path, err, C.GoString(C.pmemlog_errormsg()))
	}
	return &LogPool{p: p}, nil
}

// Append appends buf n times (pmemlog_append), rewinding a full log
// (pmemlog_rewind) and retrying.
func (l *LogPool) Append(buf []byte, n uint64) error {
	if len(buf) == 0 {
		return nil
	}
	r, err := C.peer_log_append(l.p, (*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.size_t(len(buf)), C.uint64_t(n))
	if r != 0 {
		return fmt.Errorf("cpeer: pmemlog_append: %v (%s)", err, C.GoString(C.pmemlog_errormsg()))
	}
	return nil
}

// Walk walks the whole log (pmemlog_walk) in chunks of chunksize bytes,
// again and again until at least n chunks were visited, and returns the
// number visited (0 for an empty log).
func (l *LogPool) Walk(chunksize int, n uint64) uint64 {
	return uint64(C.peer_log_walk(l.p, C.size_t(chunksize), C.uint64_t(n)))
}

// Tell returns the write point (pmemlog_tell).
func (l *LogPool) Tell() int64 { return int64(C.pmemlog_tell(l.p)) }

// Close closes the pool (pmemlog_close).
func (l *LogPool) Close() error {
	if l.p != nil {
		C.pmemlog_close(l.p)
		l.p = nil
	}
	return nil
}
