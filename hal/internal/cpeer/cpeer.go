//go:build cpeer && cgo

// Package cpeer runs C PMDK's libpmem kernels (the C peer of hal's
// benchmarks). It is built only with the cpeer tag, which the Makefile sets
// when the libpmem headers are installed.
package cpeer

/*
#cgo LDFLAGS: -lpmem
#include <libpmem.h>
#include <stddef.h>

// The loops run in C so that one cgo call covers a whole benchmark run.
static void memcpy_persist_n(void *dst, const void *src, size_t len, long n) {
	for (long i = 0; i < n; i++)
		pmem_memcpy_persist(dst, src, len);
}

static void memset_persist_n(void *dst, int c, size_t len, long n) {
	for (long i = 0; i < n; i++)
		pmem_memset_persist(dst, c, len);
}
*/
import "C"

import "unsafe"

// Available reports whether this build has the C peer.
const Available = true

// MemcpyPersistN calls pmem_memcpy_persist(dst, src, len(src)) n times.
// src must not contain Go pointers.
func MemcpyPersistN(dst, src []byte, n int) {
	if len(src) == 0 || n <= 0 {
		return
	}
	_ = dst[len(src)-1]
	C.memcpy_persist_n(unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src)),
		C.size_t(len(src)), C.long(n))
}

// MemsetPersistN calls pmem_memset_persist(dst, c, len(dst)) n times.
func MemsetPersistN(dst []byte, c byte, n int) {
	if len(dst) == 0 || n <= 0 {
		return
	}
	C.memset_persist_n(unsafe.Pointer(unsafe.SliceData(dst)), C.int(c), C.size_t(len(dst)), C.long(n))
}
