//go:build cpeer && cgo

package cpmem

/*
#cgo LDFLAGS: -lpmem
#include <libpmem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// run does n operations op numbered from first, each on size bytes at
// base + (i mod count)*stride; see Op in doc.go. Returns -1 when
// pmem_msync fails.
static int run(char *base, size_t stride, size_t count, const char *src, size_t size,
		int op, int msync, uint64_t first, uint64_t n) {
	for (uint64_t i = first; i < first + n; i++) {
		char *dst = base + (i % count) * stride;
		switch (op) {
		case 0:
			if (!msync) {
				pmem_memcpy_persist(dst, src, size);
				continue;
			}
			memcpy(dst, src, size);
			break;
		case 1:
			if (!msync) {
				pmem_memset_persist(dst, (int)(i & 0xff), size);
				continue;
			}
			memset(dst, (int)(i & 0xff), size);
			break;
		case 2:
			memcpy(dst, src, size);
			break;
		case 3:
			for (size_t off = 0; off < size; off += 64)
				dst[off] = (char)i;
			break;
		}
		if (!msync)
			pmem_persist(dst, size);
		else if (pmem_msync(dst, size))
			return -1;
	}
	return 0;
}

static void *map_new(const char *path, size_t size, size_t *mapped, int *is_pmem) {
	return pmem_map_file(path, size, PMEM_FILE_CREATE | PMEM_FILE_EXCL, 0600, mapped, is_pmem);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether the C peer is built in.
const Available = true

// Run does n operations l.Op numbered from first (see Op) on base, in one
// cgo call. base may be any memory without Go pointers: a mapping, or Go
// memory that C only touches during the call. It panics if the operations
// do not fit base.
func Run(base []byte, l Loop, first, n uint64) error {
	l.check(base)
	var src *C.char
	if len(l.Src) > 0 {
		src = (*C.char)(unsafe.Pointer(unsafe.SliceData(l.Src)))
	}
	msync := C.int(0)
	if l.Msync {
		msync = 1
	}
	if C.run((*C.char)(unsafe.Pointer(unsafe.SliceData(base))), C.size_t(l.Stride), C.size_t(l.Count), src,
		C.size_t(l.Size), C.int(l.Op), msync, C.uint64_t(first), C.uint64_t(n)) != 0 {
		return fmt.Errorf("cpmem: pmem_msync: %s", C.GoString(C.pmem_errormsg()))
	}
	return nil
}

// HasAutoFlush reports pmem_has_auto_flush(): 1 eADR, 0 not, -1 error.
func HasAutoFlush() int { return int(C.pmem_has_auto_flush()) }

// Map is a file mapped by pmem_map_file.
type Map struct {
	addr   unsafe.Pointer
	size   int
	isPmem bool
}

// MapFile creates the file at path (which must not exist) with size bytes
// and maps it with pmem_map_file.
func MapFile(path string, size int64) (*Map, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var mapped C.size_t
	var isPmem C.int
	addr, err := C.map_new(cpath, C.size_t(size), &mapped, &isPmem)
	if addr == nil {
		return nil, fmt.Errorf("cpmem: pmem_map_file %s: %v (%s)", path, err, C.GoString(C.pmem_errormsg()))
	}
	return &Map{addr: addr, size: int(mapped), isPmem: isPmem != 0}, nil
}

// IsPmem reports what pmem_map_file said about the mapping.
func (m *Map) IsPmem() bool { return m.isPmem }

// Bytes returns the mapped memory, valid until Close.
func (m *Map) Bytes() []byte { return unsafe.Slice((*byte)(m.addr), m.size) }

// Close unmaps the file (pmem_unmap). It is idempotent.
func (m *Map) Close() error {
	if m.addr == nil {
		return nil
	}
	r, err := C.pmem_unmap(m.addr, C.size_t(m.size))
	m.addr = nil
	if r != 0 {
		return fmt.Errorf("cpmem: pmem_unmap: %v", err)
	}
	return nil
}
