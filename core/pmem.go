package core

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gopmdk/pmdk/hal"
)

// The libpmem facade: package-level functions that take any slice, as
// pmem_persist and friends take any address. libpmem flushes with CPU
// instructions whatever the address; here the facade looks the slice up
// among the mappings [MapFile] made and uses that mapping's persist path, so
// a page-cache mapping gets msync (durable) rather than a CPU flush (not
// durable there). A slice in no registered mapping (memory from NewMap,
// from another library, or forced with PMEM_IS_PMEM_FORCE=1) gets the CPU
// path of [hal.Selected]: flush and fence. As in libpmem the persist
// functions return nothing: a failed msync of a MapFile mapping is kept on
// that mapping and reported by its [Map.Err] and [Map.Close]; [Msync]
// returns its error directly.

// registry holds the MapFile mappings sorted by address. Readers load it
// without locking; writers copy it under mu.
var (
	registry   atomic.Pointer[[]*Map]
	registryMu sync.Mutex
)

func mapStart(m *Map) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(m.data))) }

func register(m *Map) {
	registryMu.Lock()
	defer registryMu.Unlock()
	var maps []*Map
	if p := registry.Load(); p != nil {
		maps = slices.Clone(*p)
	}
	i, _ := slices.BinarySearchFunc(maps, mapStart(m), func(x *Map, a uintptr) int {
		return cmpUintptr(mapStart(x), a)
	})
	maps = slices.Insert(maps, i, m)
	registry.Store(&maps)
	unmap := m.close
	m.close = func() error {
		unregister(m)
		return unmap()
	}
}

func unregister(m *Map) {
	registryMu.Lock()
	defer registryMu.Unlock()
	p := registry.Load()
	if p == nil {
		return
	}
	maps := slices.DeleteFunc(slices.Clone(*p), func(x *Map) bool { return x == m })
	registry.Store(&maps)
}

func cmpUintptr(a, b uintptr) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lookup returns the registered mapping holding all of b, or nil.
func lookup(b []byte) *Map {
	p := registry.Load()
	if p == nil || len(b) == 0 {
		return nil
	}
	maps := *p
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	// The last mapping starting at or before addr is the only candidate.
	i, found := slices.BinarySearchFunc(maps, addr, func(x *Map, a uintptr) int {
		return cmpUintptr(mapStart(x), a)
	})
	if !found {
		i--
	}
	if i < 0 || !maps[i].contains(b) {
		return nil
	}
	return maps[i]
}

// persisterFor returns the persist path for b.
func persisterFor(b []byte) Persister {
	if m := lookup(b); m != nil {
		return m.persist
	}
	return cpuPersister{hal.Selected()}
}

// IsPmem reports whether all of b is persistent memory (pmem_is_pmem): it
// lies in one mapping made by [MapFile] that is DAX or forced to act as
// pmem. PMEM_IS_PMEM_FORCE=1 makes every non-empty slice pmem, =0 none.
func IsPmem(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if force, set := pmemForceEnv(); set {
		return force
	}
	m := lookup(b)
	return m != nil && m.IsPmem()
}

// Persist makes b durable: flush, then drain (pmem_persist).
func Persist(b []byte) { persisterFor(b).Persist(b) }

// Flush starts writing b back (pmem_flush); [Drain] waits for it.
func Flush(b []byte) { persisterFor(b).Flush(b) }

// Drain waits for earlier flushes and non-temporal stores (pmem_drain).
func Drain() { hal.Selected().Fence() }

// Msync writes back the pages covering b with msync(2), for any mapping
// (pmem_msync). Unlike Persist it returns the system call's error (and
// does not record it on b's mapping).
func Msync(b []byte) error { return msyncPages(b) }

// Memmove copies src into dst[:len(src)] (they may overlap) and persists
// it as flags say (pmem_memmove): MemNoDrain skips the final drain,
// MemNoFlush the flush, MemNonTemporal/MemTemporal/MemWC/MemWB choose the
// stores. It panics if dst is shorter than src.
func Memmove(dst, src []byte, flags MemFlags) { persisterFor(dst).Memmove(dst, src, flags) }

// Memcpy is Memmove for slices that do not overlap (pmem_memcpy).
func Memcpy(dst, src []byte, flags MemFlags) { persisterFor(dst).Memmove(dst, src, flags) }

// Memset fills dst with c and persists it as flags say (pmem_memset).
func Memset(dst []byte, c byte, flags MemFlags) { persisterFor(dst).Memset(dst, c, flags) }

// MemmovePersist is Memmove with no flags: copied and durable on return
// (pmem_memmove_persist).
func MemmovePersist(dst, src []byte) { Memmove(dst, src, 0) }

// MemcpyPersist is Memcpy with no flags (pmem_memcpy_persist).
func MemcpyPersist(dst, src []byte) { Memcpy(dst, src, 0) }

// MemsetPersist is Memset with no flags (pmem_memset_persist).
func MemsetPersist(dst []byte, c byte) { Memset(dst, c, 0) }

// MemmoveNoDrain copies and flushes but does not drain: call [Drain]
// before relying on the data (pmem_memmove_nodrain).
func MemmoveNoDrain(dst, src []byte) { Memmove(dst, src, MemNoDrain) }

// MemcpyNoDrain is MemmoveNoDrain for slices that do not overlap
// (pmem_memcpy_nodrain).
func MemcpyNoDrain(dst, src []byte) { Memcpy(dst, src, MemNoDrain) }

// MemsetNoDrain fills and flushes dst without draining (pmem_memset_nodrain).
func MemsetNoDrain(dst []byte, c byte) { Memset(dst, c, MemNoDrain) }

// HasAutoFlush reports whether the platform flushes the CPU caches on
// power loss (eADR) for all its persistent memory (pmem_has_auto_flush).
func HasAutoFlush() bool { return hal.AutoFlush(nil) }

// DeepPersist makes b durable even across a failure of the platform's
// power-fail protection (pmem_deep_persist): for a slice in a [MapFile]
// mapping it is that mapping's [Map.DeepFlush]; other memory is persisted
// and msynced (the msync error, for memory that is no file mapping, is
// not reported).
func DeepPersist(b []byte) error {
	if m := lookup(b); m != nil {
		return m.DeepFlush(b)
	}
	Persist(b)
	_ = msyncPages(b)
	return nil
}
