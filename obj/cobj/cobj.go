//go:build cpeer && cgo

package cobj

/*
#cgo LDFLAGS: -lpmemobj
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <libpmemobj.h>

// Allocation into a PMEMoid on C's stack: C takes the transient path for
// the destination, as for any oidp outside the pool.
static int gopmdk_alloc(PMEMobjpool *pop, size_t size, uint64_t type_num,
		uint64_t flags, PMEMoid *out) {
	PMEMoid oid = OID_NULL;
	int ret = pmemobj_xalloc(pop, &oid, size, type_num, flags, NULL, NULL);
	*out = oid;
	return ret;
}

static int gopmdk_realloc(PMEMobjpool *pop, PMEMoid in, size_t size,
		uint64_t type_num, int zero, PMEMoid *out) {
	PMEMoid oid = in;
	int ret = zero ? pmemobj_zrealloc(pop, &oid, size, type_num) :
		pmemobj_realloc(pop, &oid, size, type_num);
	*out = oid;
	return ret;
}

static void gopmdk_free(PMEMoid in) {
	PMEMoid oid = in;
	pmemobj_free(&oid);
}

// The benchmark loop in C: n allocations each freed at once, so that no
// cgo transition is timed per operation.
static int gopmdk_alloc_free_n(PMEMobjpool *pop, size_t size,
		uint64_t type_num, long n) {
	for (long i = 0; i < n; i++) {
		PMEMoid oid;
		if (pmemobj_alloc(pop, &oid, size, type_num, NULL, NULL) != 0)
			return -1;
		pmemobj_free(&oid);
	}
	return 0;
}

// Transaction loops for the benchmarks: kind 0 an empty transaction, 1 a
// transactional alloc and free of size bytes, 2 a snapshot of size bytes
// of oid and a write of them.
static int gopmdk_tx_n(PMEMobjpool *pop, int kind, size_t size, PMEMoid oid,
		long n) {
	int failed = 0;
	char *p = pmemobj_direct(oid);
	for (long i = 0; i < n && !failed; i++) {
		TX_BEGIN(pop) {
			switch (kind) {
			case 1: {
				PMEMoid o = pmemobj_tx_alloc(size, 1);
				pmemobj_tx_free(o);
				break;
			}
			case 2:
				pmemobj_tx_add_range(oid, 0, size);
				memset(p, (int)i, size);
				break;
			}
		} TX_ONABORT {
			failed = 1;
		} TX_END
	}
	return failed ? -1 : 0;
}

// n root lookups (pmemobj_root of the existing size) in a C loop.
static int gopmdk_root_n(PMEMobjpool *pop, size_t size, long n) {
	for (long i = 0; i < n; i++) {
		if (OID_IS_NULL(pmemobj_root(pop, size)))
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

// Sizes as the C header defines them.
const (
	MinPoolSize  = int64(C.PMEMOBJ_MIN_POOL)
	MaxLayout    = int(C.PMEMOBJ_MAX_LAYOUT)
	MaxAllocSize = uint64(C.PMEMOBJ_MAX_ALLOC_SIZE)
)

// FlagZero is POBJ_XALLOC_ZERO, for Xalloc and Xreserve. Class and arena
// ids go in the high bits as obj.ClassID and obj.ArenaID put them.
const FlagZero = uint64(C.POBJ_XALLOC_ZERO)

// OID is C's PMEMoid: the pool's uuid_lo and the object's offset. It has
// the layout of obj.OID, so the two convert into each other.
type OID struct {
	PoolUUIDLo uint64
	Off        uint64
}

// IsNull is OID_IS_NULL.
func (o OID) IsNull() bool { return o.Off == 0 }

func (o OID) c() C.PMEMoid {
	return C.PMEMoid{pool_uuid_lo: C.uint64_t(o.PoolUUIDLo), off: C.uint64_t(o.Off)}
}

func oidOf(c C.PMEMoid) OID { return OID{uint64(c.pool_uuid_lo), uint64(c.off)} }

// cOID views an OID in Go or pool memory as a PMEMoid for an oidp
// argument.
func cOID(dst *OID) *C.PMEMoid { return (*C.PMEMoid)(unsafe.Pointer(dst)) }

// Pool is a pool opened by C libpmemobj.
type Pool struct{ p *C.PMEMobjpool }

// ErrorMsg returns pmemobj_errormsg: the last error message of the
// calling thread.
func ErrorMsg() string { return C.GoString(C.pmemobj_errormsg()) }

func lastError(op string, err error) error {
	return fmt.Errorf("cobj: %s: %s (%w)", op, ErrorMsg(), err)
}

// cstring returns a C copy of s, or NULL for "" (C's "no layout").
func cstring(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// Create calls pmemobj_create; layout "" passes NULL.
func Create(path, layout string, size int64, perm os.FileMode) (*Pool, error) {
	cpath, clayout := C.CString(path), cstring(layout)
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(clayout))
	p, err := C.pmemobj_create(cpath, clayout, C.size_t(size), C.mode_t(perm.Perm()))
	if p == nil {
		return nil, lastError("create "+path, err)
	}
	return &Pool{p}, nil
}

// Open calls pmemobj_open, which recovers what a crash interrupted;
// layout "" passes NULL (no check).
func Open(path, layout string) (*Pool, error) {
	cpath, clayout := C.CString(path), cstring(layout)
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(clayout))
	p, err := C.pmemobj_open(cpath, clayout)
	if p == nil {
		return nil, lastError("open "+path, err)
	}
	return &Pool{p}, nil
}

// Check calls pmemobj_check: 1 consistent, 0 not, -1 could not check
// (the error says why).
func Check(path, layout string) (int, error) {
	cpath, clayout := C.CString(path), cstring(layout)
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(clayout))
	r, err := C.pmemobj_check(cpath, clayout)
	if r < 0 {
		return int(r), lastError("check "+path, err)
	}
	return int(r), nil
}

// Close calls pmemobj_close. It is idempotent.
func (p *Pool) Close() error {
	if p.p != nil {
		C.pmemobj_close(p.p)
		p.p = nil
	}
	return nil
}

// Root calls pmemobj_root.
func (p *Pool) Root(size int) (OID, error) {
	o, err := C.pmemobj_root(p.p, C.size_t(size))
	if o.off == 0 {
		return OID{}, lastError("root", err)
	}
	return oidOf(o), nil
}

// RootSize calls pmemobj_root_size.
func (p *Pool) RootSize() int { return int(C.pmemobj_root_size(p.p)) }

// Alloc calls pmemobj_alloc with an oidp on C's stack and returns it.
func (p *Pool) Alloc(size int, typeNum uint64) (OID, error) { return p.Xalloc(size, typeNum, 0) }

// Zalloc is Alloc with POBJ_XALLOC_ZERO (pmemobj_zalloc).
func (p *Pool) Zalloc(size int, typeNum uint64) (OID, error) {
	return p.Xalloc(size, typeNum, FlagZero)
}

// Xalloc calls pmemobj_xalloc with flags (POBJ_XALLOC_ZERO, class and
// arena ids as obj.AllocFlags has them) and an oidp on C's stack.
func (p *Pool) Xalloc(size int, typeNum, flags uint64) (OID, error) {
	var out C.PMEMoid
	if r, err := C.gopmdk_alloc(p.p, C.size_t(size), C.uint64_t(typeNum), C.uint64_t(flags), &out); r != 0 {
		return OID{}, lastError("alloc", err)
	}
	return oidOf(out), nil
}

// AllocTo calls pmemobj_alloc with oidp dst: a field in the pool (in the
// bytes of [Bytes]) makes the store part of the allocation's redo log.
func (p *Pool) AllocTo(dst *OID, size int, typeNum uint64) error {
	return p.XallocTo(dst, size, typeNum, 0)
}

// XallocTo calls pmemobj_xalloc with oidp dst.
func (p *Pool) XallocTo(dst *OID, size int, typeNum, flags uint64) error {
	if r, err := C.pmemobj_xalloc(p.p, cOID(dst), C.size_t(size), C.uint64_t(typeNum), C.uint64_t(flags), nil, nil); r != 0 {
		return lastError("xalloc", err)
	}
	return nil
}

// StrdupTo calls pmemobj_strdup with oidp dst.
func (p *Pool) StrdupTo(dst *OID, s string, typeNum uint64) error {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	if r, err := C.pmemobj_strdup(p.p, cOID(dst), cs, C.uint64_t(typeNum)); r != 0 {
		return lastError("strdup", err)
	}
	return nil
}

// Realloc calls pmemobj_realloc (or pmemobj_zrealloc) on a copy of oid on
// C's stack and returns the result.
func (p *Pool) Realloc(oid OID, size int, typeNum uint64, zero bool) (OID, error) {
	var out C.PMEMoid
	z := C.int(0)
	if zero {
		z = 1
	}
	if r, err := C.gopmdk_realloc(p.p, oid.c(), C.size_t(size), C.uint64_t(typeNum), z, &out); r != 0 {
		return oid, lastError("realloc", err)
	}
	return oidOf(out), nil
}

// ReallocTo calls pmemobj_realloc with oidp dst.
func (p *Pool) ReallocTo(dst *OID, size int, typeNum uint64) error {
	if r, err := C.pmemobj_realloc(p.p, cOID(dst), C.size_t(size), C.uint64_t(typeNum)); r != 0 {
		return lastError("realloc", err)
	}
	return nil
}

// Free calls pmemobj_free on a copy of oid on C's stack.
func Free(oid OID) { C.gopmdk_free(oid.c()) }

// FreeOID calls pmemobj_free(dst): the object is freed and *dst nulled,
// in one redo log when dst is in the pool.
func FreeOID(dst *OID) { C.pmemobj_free(cOID(dst)) }

// Action is C's struct pobj_action, a reserved object, deferred free or
// value to set, until Publish or Cancel.
type Action struct{ a C.struct_pobj_action }

// Reserve calls pmemobj_reserve.
func (p *Pool) Reserve(size int, typeNum uint64) (OID, Action, error) {
	return p.Xreserve(size, typeNum, 0)
}

// Xreserve calls pmemobj_xreserve.
func (p *Pool) Xreserve(size int, typeNum, flags uint64) (OID, Action, error) {
	var a Action
	o, err := C.pmemobj_xreserve(p.p, &a.a, C.size_t(size), C.uint64_t(typeNum), C.uint64_t(flags))
	if o.off == 0 {
		return OID{}, a, lastError("reserve", err)
	}
	return oidOf(o), a, nil
}

// SetValue calls pmemobj_set_value. dst must be in the pool's mapping
// (a Go variable would be written by C after the call returned).
func (p *Pool) SetValue(dst *uint64, value uint64) Action {
	var a Action
	C.pmemobj_set_value(p.p, &a.a, (*C.uint64_t)(unsafe.Pointer(dst)), C.uint64_t(value))
	return a
}

// DeferFree calls pmemobj_defer_free.
func (p *Pool) DeferFree(oid OID) Action {
	var a Action
	C.pmemobj_defer_free(p.p, oid.c(), &a.a)
	return a
}

// Publish calls pmemobj_publish.
func (p *Pool) Publish(acts ...Action) error {
	if len(acts) == 0 {
		return nil
	}
	if r, err := C.pmemobj_publish(p.p, &acts[0].a, C.size_t(len(acts))); r != 0 {
		return lastError("publish", err)
	}
	return nil
}

// Cancel calls pmemobj_cancel.
func (p *Pool) Cancel(acts ...Action) {
	if len(acts) > 0 {
		C.pmemobj_cancel(p.p, &acts[0].a, C.size_t(len(acts)))
	}
}

// First calls pmemobj_first.
func (p *Pool) First() OID { return oidOf(C.pmemobj_first(p.p)) }

// Next calls pmemobj_next.
func Next(oid OID) OID { return oidOf(C.pmemobj_next(oid.c())) }

// TypeNum calls pmemobj_type_num.
func TypeNum(oid OID) uint64 { return uint64(C.pmemobj_type_num(oid.c())) }

// UsableSize calls pmemobj_alloc_usable_size.
func UsableSize(oid OID) int { return int(C.pmemobj_alloc_usable_size(oid.c())) }

// Bytes returns the usable bytes of oid in C's mapping (pmemobj_direct
// and pmemobj_alloc_usable_size), nil for the null OID. They are valid
// until the object is freed or the pool closed.
func Bytes(oid OID) []byte {
	ptr := C.pmemobj_direct(oid.c())
	if ptr == nil {
		return nil
	}
	return unsafe.Slice((*byte)(ptr), UsableSize(oid))
}

// Persist calls pmemobj_persist on b, a part of the pool's mapping.
func (p *Pool) Persist(b []byte) {
	if len(b) > 0 {
		C.pmemobj_persist(p.p, unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b)))
	}
}

// AllocFreeN allocates size bytes and frees them n times in a C loop: the
// benchmark peer of one alloc+free, without a cgo call per operation.
func (p *Pool) AllocFreeN(size int, typeNum uint64, n int) error {
	if r, err := C.gopmdk_alloc_free_n(p.p, C.size_t(size), C.uint64_t(typeNum), C.long(n)); r != 0 {
		return lastError("alloc", err)
	}
	return nil
}

// RootN looks the root object of size bytes up n times in a C loop
// (pmemobj_root): the benchmark peer of root access.
func (p *Pool) RootN(size, n int) error {
	if r, err := C.gopmdk_root_n(p.p, C.size_t(size), C.long(n)); r != 0 {
		return lastError("root", err)
	}
	return nil
}

// TxKind is a transaction of the benchmark loop TxN.
type TxKind int

const (
	TxEmpty     TxKind = iota // TX_BEGIN {} TX_END
	TxAllocFree               // pmemobj_tx_alloc then pmemobj_tx_free
	TxAddRange                // pmemobj_tx_add_range of size bytes of oid, then a memset of them
)

// TxN runs n transactions of kind in a C loop.
func (p *Pool) TxN(kind TxKind, size int, oid OID, n int) error {
	if r, err := C.gopmdk_tx_n(p.p, C.int(kind), C.size_t(size), oid.c(), C.long(n)); r != 0 {
		return lastError("tx", err)
	}
	return nil
}

// HeaderType is C's enum pobj_header_type.
type HeaderType int

const (
	HeaderLegacy  HeaderType = C.POBJ_HEADER_LEGACY
	HeaderCompact HeaderType = C.POBJ_HEADER_COMPACT
	HeaderNone    HeaderType = C.POBJ_HEADER_NONE
)

// ClassDesc is C's struct pobj_alloc_class_desc.
type ClassDesc struct {
	UnitSize      uint64
	Alignment     uint64
	UnitsPerBlock uint32
	HeaderType    HeaderType
	ClassID       uint32
}

// NewAllocClass registers an allocation class through ctl
// heap.alloc_class.new.desc (ClassID 0 lets C pick the id) and returns it
// as C completed it.
func (p *Pool) NewAllocClass(d ClassDesc) (ClassDesc, error) {
	name := C.CString("heap.alloc_class.new.desc")
	defer C.free(unsafe.Pointer(name))
	c := C.struct_pobj_alloc_class_desc{unit_size: C.size_t(d.UnitSize), alignment: C.size_t(d.Alignment),
		units_per_block: C.unsigned(d.UnitsPerBlock), header_type: C.enum_pobj_header_type(d.HeaderType),
		class_id: C.unsigned(d.ClassID)}
	if r, err := C.pmemobj_ctl_set(p.p, name, unsafe.Pointer(&c)); r != 0 {
		return ClassDesc{}, lastError("ctl heap.alloc_class.new.desc", err)
	}
	return ClassDesc{uint64(c.unit_size), uint64(c.alignment), uint32(c.units_per_block),
		HeaderType(c.header_type), uint32(c.class_id)}, nil
}

// AllocClass reads ctl heap.alloc_class.<id>.desc; ok is false when no
// class has that id.
func (p *Pool) AllocClass(id int) (d ClassDesc, ok bool) {
	name := C.CString(fmt.Sprintf("heap.alloc_class.%d.desc", id))
	defer C.free(unsafe.Pointer(name))
	var c C.struct_pobj_alloc_class_desc
	if C.pmemobj_ctl_get(p.p, name, unsafe.Pointer(&c)) != 0 {
		return ClassDesc{}, false
	}
	return ClassDesc{uint64(c.unit_size), uint64(c.alignment), uint32(c.units_per_block),
		HeaderType(c.header_type), uint32(c.class_id)}, true
}

// CtlGetInt64 reads a ctl name whose value is 8 bytes (size_t, ssize_t,
// uint64_t) with pmemobj_ctl_get.
func (p *Pool) CtlGetInt64(name string) (int64, error) {
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	var v C.longlong
	if r, err := C.pmemobj_ctl_get(p.p, n, unsafe.Pointer(&v)); r != 0 {
		return 0, lastError("ctl get "+name, err)
	}
	return int64(v), nil
}

// CtlSetInt sets a ctl name whose value is a C int (or enum) with
// pmemobj_ctl_set.
func (p *Pool) CtlSetInt(name string, v int) error {
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	c := C.int(v)
	if r, err := C.pmemobj_ctl_set(p.p, n, unsafe.Pointer(&c)); r != 0 {
		return lastError("ctl set "+name, err)
	}
	return nil
}
