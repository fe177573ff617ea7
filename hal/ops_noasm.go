//go:build !amd64 || !gc || purego

package hal

import "sync/atomic"

func flushRange(kind FlushKind, b []byte) error {
	if kind == FlushNone {
		return nil
	}
	// Without assembly the only correct write-back is msync.
	return msyncRange(b)
}

var fenceWord atomic.Uint64

// fence orders earlier stores: an atomic read-modify-write is a full barrier
// on every architecture Go supports.
func fence() { fenceWord.Add(1) }

func memmove(k *Kernels, dst, src []byte, flags MemFlags) error {
	return memmoveGeneric(k, dst, src, flags)
}

func memset(k *Kernels, dst []byte, c byte, flags MemFlags) error {
	return memsetGeneric(k, dst, c, flags)
}

func tcopy(k *Kernels, dst, src []byte) int { return copy(dst, src) }
