package hal

// FlushRange writes back the cache lines covering b with k's flush
// instruction. It does not fence: call [Kernels.Fence] before relying on the
// data being persistent.
//
// The flush instructions cannot fail and FlushNone does nothing: for them
// the error is always nil. With FlushMsync it is msync(2)'s error, such as
// EIO when the file system could not write the pages back; the data of b
// may then never reach the file, although it still reads back from the
// mapping.
func (k *Kernels) FlushRange(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return flushRange(k.flush, b)
}

// Fence waits until all earlier flushes and non-temporal stores of this
// goroutine's thread have reached the persistence domain (SFENCE).
func (k *Kernels) Fence() { fence() }

// Memmove copies src into dst[:len(src)] with memmove semantics (the two may
// overlap) and makes the copy persistent: non-temporal stores from
// [Kernels.MovntThreshold] bytes on (or as flags ask), temporal stores and a
// flush below it. MemNoFlush skips the flush, MemNoDrain the final fence.
// The error is the flush's, as for [Kernels.FlushRange]: only FlushMsync
// can fail. It panics if dst is shorter than src.
//
// A set with [FlushNone] and non-temporal stores (not [MoveGeneric]), asked
// for MemNonTemporal|MemNoDrain, stores the cache lines dst covers whole
// with non-temporal stores alone and the partial lines at its ends with
// ordinary stores, and neither flushes nor fences: the bare store bandwidth
// of the kernels, which benchmarks (such as pmembench's limit) compare a
// persisting copy against. [Kernels.Memset] does the same.
func (k *Kernels) Memmove(dst, src []byte, flags MemFlags) error {
	if len(dst) < len(src) {
		panic("hal: Memmove: dst shorter than src")
	}
	err := memmove(k, dst[:len(src)], src, flags)
	if flags&MemNoDrain == 0 {
		fence()
	}
	return err
}

// Copy copies src into dst as the builtin copy does (memmove semantics,
// the shorter length, which it returns), with ordinary stores and no flush
// or fence: a copy out of a mapping into memory the caller reads next. The
// whole 64-byte chunks of a copy of at least 256 bytes between ranges that
// do not overlap are moved with the kernels' vector width (AVX: 32-byte,
// AVX-512F: 64-byte loads and stores), the rest by the builtin copy. The
// builtin's size dispatch and head and tail handling cost it about a
// quarter more time on a random 512-byte block of a 16 MiB mapping (AMD
// EPYC, AVX-512F: 22 ns against 29); blk reads blocks with it.
func (k *Kernels) Copy(dst, src []byte) int { return tcopy(k, dst, src) }

// Memset fills dst with c and makes it persistent, with the same rules
// (and errors) as [Kernels.Memmove].
func (k *Kernels) Memset(dst []byte, c byte, flags MemFlags) error {
	err := memset(k, dst, c, flags)
	if flags&MemNoDrain == 0 {
		fence()
	}
	return err
}

// useNonTemporal reports whether a copy of n bytes uses non-temporal stores.
func (k *Kernels) useNonTemporal(n int, flags MemFlags) bool {
	if k.move == MoveGeneric || flags&MemNoFlush != 0 {
		return false
	}
	if k.flush == FlushNone {
		// eADR (or PMEM_NO_FLUSH=1): the caches are persistent, so ordinary
		// stores win; as libpmem, only an explicit MemNonTemporal asks for NT.
		return flags&MemNonTemporal != 0
	}
	switch {
	case flags&(MemNonTemporal|MemWC) != 0:
		return true
	case flags&(MemTemporal|MemWB) != 0:
		return false
	}
	return n >= k.threshold
}
