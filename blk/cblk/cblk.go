//go:build cpeer && cgo

package cblk

/*
#cgo LDFLAGS: -lpmemblk
#include <stdlib.h>
#include <libpmemblk.h>

// blocks reads (write 0) or writes buf at each of the n blocks, stopping
// at the first failure; 0 on success.
static int blocks(PMEMblkpool *p, int write, void *buf, const long long *lbas, size_t n) {
	for (size_t i = 0; i < n; i++) {
		int r = write ? pmemblk_write(p, buf, lbas[i]) : pmemblk_read(p, buf, lbas[i]);
		if (r != 0)
			return -1;
	}
	return 0;
}
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

// Available reports whether the C peer is compiled in.
const Available = true

// Pool is a pool opened by C libpmemblk.
type Pool struct {
	p     *C.PMEMblkpool
	bsize int
}

func lastError(op string, err error) error {
	return fmt.Errorf("cblk: %s: %s (%w)", op, C.GoString(C.pmemblk_errormsg()), err)
}

// Create calls pmemblk_create.
func Create(path string, bsize int, size int64, perm os.FileMode) (*Pool, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := C.pmemblk_create(cpath, C.size_t(bsize), C.size_t(size), C.mode_t(perm.Perm()))
	if p == nil {
		return nil, lastError("create", err)
	}
	return &Pool{p, int(C.pmemblk_bsize(p))}, nil
}

// Open calls pmemblk_open.
func Open(path string, bsize int) (*Pool, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := C.pmemblk_open(cpath, C.size_t(bsize))
	if p == nil {
		return nil, lastError("open", err)
	}
	return &Pool{p, int(C.pmemblk_bsize(p))}, nil
}

// Close calls pmemblk_close.
func (p *Pool) Close() error {
	if p.p != nil {
		C.pmemblk_close(p.p)
		p.p = nil
	}
	return nil
}

// BSize calls pmemblk_bsize.
func (p *Pool) BSize() int { return p.bsize }

// NBlock calls pmemblk_nblock.
func (p *Pool) NBlock() int64 { return int64(C.pmemblk_nblock(p.p)) }

// ReadBlock calls pmemblk_read into buf (at least BSize bytes).
func (p *Pool) ReadBlock(buf []byte, lba int64) error {
	if len(buf) < p.bsize {
		return fmt.Errorf("cblk: read: short buffer")
	}
	if r, err := C.pmemblk_read(p.p, unsafe.Pointer(&buf[0]), C.longlong(lba)); r != 0 {
		return lastError("read", err)
	}
	return nil
}

// WriteBlock calls pmemblk_write from buf (at least BSize bytes).
func (p *Pool) WriteBlock(buf []byte, lba int64) error {
	if len(buf) < p.bsize {
		return fmt.Errorf("cblk: write: short buffer")
	}
	if r, err := C.pmemblk_write(p.p, unsafe.Pointer(&buf[0]), C.longlong(lba)); r != 0 {
		return lastError("write", err)
	}
	return nil
}

// SetZero calls pmemblk_set_zero.
func (p *Pool) SetZero(lba int64) error {
	if r, err := C.pmemblk_set_zero(p.p, C.longlong(lba)); r != 0 {
		return lastError("set_zero", err)
	}
	return nil
}

// SetError calls pmemblk_set_error.
func (p *Pool) SetError(lba int64) error {
	if r, err := C.pmemblk_set_error(p.p, C.longlong(lba)); r != 0 {
		return lastError("set_error", err)
	}
	return nil
}

// ReadBlocks reads each of blocks into buf (at least BSize bytes) in turn,
// in one cgo call (for benchmarks: the loop runs in C).
func (p *Pool) ReadBlocks(buf []byte, blocks []int64) error { return p.run(0, buf, blocks) }

// WriteBlocks writes buf (at least BSize bytes) to each of blocks in turn,
// in one cgo call.
func (p *Pool) WriteBlocks(buf []byte, blocks []int64) error { return p.run(1, buf, blocks) }

func (p *Pool) run(write C.int, buf []byte, blocks []int64) error {
	if len(buf) < p.bsize {
		return fmt.Errorf("cblk: short buffer")
	}
	if len(blocks) == 0 {
		return nil
	}
	// buf and blocks are Go memory without Go pointers that C reads (or
	// fills) during the call only, as cgo's rules allow.
	lbas := (*C.longlong)(unsafe.Pointer(unsafe.SliceData(blocks)))
	if r, err := C.blocks(p.p, write, unsafe.Pointer(&buf[0]), lbas, C.size_t(len(blocks))); r != 0 {
		op := "read"
		if write != 0 {
			op = "write"
		}
		return lastError(op, err)
	}
	return nil
}
