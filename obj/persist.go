package obj

import "github.com/gopmdk/pmdk/core"

// MemFlags tune Memcpy and Memset as PMEMOBJ_F_MEM_* do.
type MemFlags = core.MemFlags

// Persist makes b, a part of the pool, persistent (pmemobj_persist):
// flush and drain. It panics if b is not in the pool's mapping.
func (p *Pool) Persist(b []byte) { p.m.P.Persist(b) }

// Flush starts writing b back (pmemobj_flush); Drain waits for it.
func (p *Pool) Flush(b []byte) { p.m.P.Flush(b) }

// Drain waits for earlier flushes and non-temporal stores (pmemobj_drain).
func (p *Pool) Drain() { p.m.P.Drain() }

// MemcpyPersist copies src into dst, a part of the pool, and persists it
// (pmemobj_memcpy_persist).
func (p *Pool) MemcpyPersist(dst, src []byte) { p.m.P.Memmove(dst, src, 0) }

// MemsetPersist fills dst, a part of the pool, with c and persists it
// (pmemobj_memset_persist).
func (p *Pool) MemsetPersist(dst []byte, c byte) { p.m.P.Memset(dst, c, 0) }

// Memcpy copies src into dst with flags (pmemobj_memcpy): MemNoDrain,
// MemNoFlush, MemNonTemporal...
func (p *Pool) Memcpy(dst, src []byte, flags MemFlags) { p.m.P.Memmove(dst, src, flags) }

// Memset fills dst with c with flags (pmemobj_memset).
func (p *Pool) Memset(dst []byte, c byte, flags MemFlags) { p.m.P.Memset(dst, c, flags) }
