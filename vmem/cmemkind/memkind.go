//go:build cpeer && cgo

package cmemkind

/*
#cgo LDFLAGS: -lmemkind
#include <stdint.h>
#include <stdlib.h>
#include <memkind.h>

static int gopmdk_create(const char *dir, size_t size, memkind_t *kind) {
	return memkind_create_pmem(dir, size, kind);
}

// n allocations of size bytes, each touched and freed at once.
static int gopmdk_malloc_free_n(memkind_t kind, size_t size, long n) {
	int rc = 0;
	for (long i = 0; i < n; i++) {
		char *p = memkind_malloc(kind, size);
		if (p == NULL) {
			rc = -1;
			break;
		}
		p[0] = (char)i;
		memkind_free(kind, p);
	}
	return rc;
}

// n operations of the mixed workload: a ring of window slots; each
// operation frees the slot's allocation and allocates the next size of
// sizes (cycled) in its place, touching its first byte.
static int gopmdk_mixed_n(memkind_t kind, const uint32_t *sizes, long nsizes, long window, long n) {
	void **ring = calloc(window, sizeof(void *));
	if (ring == NULL)
		return -1;
	int rc = 0;
	for (long i = 0; i < n; i++) {
		long s = i % window;
		if (ring[s] != NULL)
			memkind_free(kind, ring[s]);
		char *p = memkind_malloc(kind, sizes[i % nsizes]);
		ring[s] = p;
		if (p == NULL) {
			rc = -1;
			break;
		}
		p[0] = (char)i;
	}
	for (long s = 0; s < window; s++)
		if (ring[s] != NULL)
			memkind_free(kind, ring[s]);
	free(ring);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether the C peer is built in.
const Available = true

// Kind is a memkind PMEM kind: jemalloc arenas on a temporary file.
type Kind struct{ k C.memkind_t }

// Create makes a PMEM kind of size bytes (at least MinSize) on a temporary
// file in dir.
func Create(dir string, size int64) (*Kind, error) {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var k C.memkind_t
	if rc := C.gopmdk_create(cdir, C.size_t(size), &k); rc != 0 {
		return nil, fmt.Errorf("cmemkind: memkind_create_pmem(%s, %d): error %d", dir, size, int(rc))
	}
	return &Kind{k}, nil
}

// Destroy releases the kind and its file.
func (k *Kind) Destroy() {
	if k.k != nil {
		C.memkind_destroy_kind(k.k)
		k.k = nil
	}
}

// Malloc allocates size bytes and returns their address (0 when out of
// memory), for tests.
func (k *Kind) Malloc(size int) uintptr {
	return uintptr(C.memkind_malloc(k.k, C.size_t(size)))
}

// Free frees an address Malloc returned.
func (k *Kind) Free(a uintptr) {
	C.memkind_free(k.k, *(*unsafe.Pointer)(unsafe.Pointer(&a)))
}

// MallocFreeN allocates, touches and frees size bytes n times, in C.
func (k *Kind) MallocFreeN(size, n int) error {
	if C.gopmdk_malloc_free_n(k.k, C.size_t(size), C.long(n)) != 0 {
		return fmt.Errorf("cmemkind: out of memory allocating %d bytes", size)
	}
	return nil
}

// MixedN runs n operations of the mixed workload in C: a ring of window
// live allocations, each operation replacing one with an allocation of the
// next size of sizes.
func (k *Kind) MixedN(sizes []uint32, window, n int) error {
	if len(sizes) == 0 || window <= 0 {
		return nil
	}
	if C.gopmdk_mixed_n(k.k, (*C.uint32_t)(unsafe.Pointer(&sizes[0])), C.long(len(sizes)), C.long(window), C.long(n)) != 0 {
		return fmt.Errorf("cmemkind: out of memory in the mixed workload")
	}
	return nil
}
