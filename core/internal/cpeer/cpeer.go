//go:build cpeer

package cpeer

/*
#cgo LDFLAGS: -lpmem
#include <libpmem.h>
#include <stdint.h>
#include <string.h>

// loop_memcpy copies size bytes from src to base + (i mod count)*stride
// for i in [first, first+n), persisting each copy.
static void loop_memcpy(char *base, size_t stride, size_t count, const char *src, size_t size,
		uint64_t first, uint64_t n) {
	for (uint64_t i = first; i < first + n; i++)
		pmem_memcpy_persist(base + (i % count) * stride, src, size);
}

// loop_persist dirties size bytes (one store per 64-byte line) at each
// position and persists them with pmem_persist.
static void loop_persist(char *base, size_t stride, size_t count, size_t size,
		uint64_t first, uint64_t n) {
	for (uint64_t i = first; i < first + n; i++) {
		char *p = base + (i % count) * stride;
		for (size_t off = 0; off < size; off += 64)
			p[off] = (char)i;
		pmem_persist(p, size);
	}
}
*/
import "C"

import "unsafe"

// Available reports whether the C peer is built in.
func Available() bool { return true }

// Version returns libpmem's version as major.minor.
func Version() (int, int) { return int(C.PMEM_MAJOR_VERSION), int(C.PMEM_MINOR_VERSION) }

// MemcpyLoop runs pmem_memcpy_persist n times, copying src to
// base[(i%count)*stride:] for i from first. base must be memory outside the
// Go heap (a mapping) holding count*stride bytes, stride >= len(src).
func MemcpyLoop(base []byte, stride, count int, src []byte, first, n uint64) {
	check(base, stride, count, len(src))
	// src is Go memory that C only reads during the call: allowed by cgo's
	// pointer rules (it holds no Go pointers).
	C.loop_memcpy((*C.char)(unsafe.Pointer(unsafe.SliceData(base))), C.size_t(stride), C.size_t(count),
		(*C.char)(unsafe.Pointer(unsafe.SliceData(src))), C.size_t(len(src)), C.uint64_t(first), C.uint64_t(n))
}

// PersistLoop dirties size bytes (a store per 64-byte line) at each
// position and persists them with pmem_persist, n times.
func PersistLoop(base []byte, stride, count, size int, first, n uint64) {
	check(base, stride, count, size)
	C.loop_persist((*C.char)(unsafe.Pointer(unsafe.SliceData(base))), C.size_t(stride), C.size_t(count),
		C.size_t(size), C.uint64_t(first), C.uint64_t(n))
}

// HasAutoFlush reports pmem_has_auto_flush(): 1 eADR, 0 not, -1 error.
func HasAutoFlush() int { return int(C.pmem_has_auto_flush()) }

// IsPmem reports pmem_is_pmem for b.
func IsPmem(b []byte) bool {
	return C.pmem_is_pmem(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b))) != 0
}

func check(base []byte, stride, count, size int) {
	if stride < size || count <= 0 || stride <= 0 || len(base)/stride < count {
		panic("cpeer: positions outside base")
	}
}
