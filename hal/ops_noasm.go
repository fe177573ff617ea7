//go:build !amd64 || !gc || purego

package hal

import "sync/atomic"

func flushRange(kind FlushKind, b []byte) {
	if kind == FlushNone {
		return
	}
	// Without assembly the only correct write-back is msync. An error here
	// means b is not a mapping: nothing to write back.
	_ = msyncRange(b)
}

var fenceWord atomic.Uint64

// fence orders earlier stores: an atomic read-modify-write is a full barrier
// on every architecture Go supports.
func fence() { fenceWord.Add(1) }

func memmove(k *Kernels, dst, src []byte, flags MemFlags) { memmoveGeneric(k, dst, src, flags) }

func memset(k *Kernels, dst []byte, c byte, flags MemFlags) { memsetGeneric(k, dst, c, flags) }

func tcopy(k *Kernels, dst, src []byte) int { return copy(dst, src) }
