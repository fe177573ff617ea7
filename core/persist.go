package core

import "github.com/gopmdk/pmdk/hal"

// MemFlags tune one Memcpy, Memmove or Memset on a [Map], with the meaning
// of libpmem2's PMEM2_F_MEM_* flags.
type MemFlags = hal.MemFlags

// The MemFlags values.
const (
	MemNoDrain     = hal.MemNoDrain     // PMEM2_F_MEM_NODRAIN
	MemNoFlush     = hal.MemNoFlush     // PMEM2_F_MEM_NOFLUSH
	MemNonTemporal = hal.MemNonTemporal // PMEM2_F_MEM_NONTEMPORAL
	MemTemporal    = hal.MemTemporal    // PMEM2_F_MEM_TEMPORAL
	MemWC          = hal.MemWC          // PMEM2_F_MEM_WC
	MemWB          = hal.MemWB          // PMEM2_F_MEM_WB
)

// Persister is the persist path of one mapping: how stores to it reach the
// persistence domain. Every slice argument lies inside the mapping the
// Persister was made for. Implementations: CPU flush + fence, fence only
// (eADR), msync (page cache), replicated, and the crash simulator.
//
// Flush starts the write-back of b, Drain waits for every earlier Flush and
// non-temporal store; Persist is Flush then Drain. Memmove and Memset store
// and then persist their destination as [hal.Kernels.Memmove] describes.
//
// The persist methods return nothing, so the CPU paths, which cannot fail,
// cost no error handling. A path that can fail (msync: the file system may
// be unable to write the pages back) keeps its first failure and reports
// it from Err from then on, even when later write-backs succeed: the data
// of the failed one may be lost, and Linux reports a failed write-back only
// once. Err returns nil until a failure, always for paths that cannot
// fail; the error wraps [ErrPersist]. Err may be called concurrently with
// the other methods.
type Persister interface {
	Flush(b []byte)
	Drain()
	Persist(b []byte)
	Memmove(dst, src []byte, flags MemFlags)
	Memset(dst []byte, c byte, flags MemFlags)
	Err() error
}
