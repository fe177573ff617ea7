//go:build amd64 && gc && !purego

package hal

import "sync/atomic"

// Placeholder until the assembly kernels land: same as ops_noasm.go.

func flushRange(kind FlushKind, b []byte) {
	if kind == FlushNone {
		return
	}
	_ = msyncRange(b)
}

var fenceWord atomic.Uint64

func fence() { fenceWord.Add(1) }

func memmove(k *Kernels, dst, src []byte, flags MemFlags) { memmoveGeneric(k, dst, src, flags) }

func memset(k *Kernels, dst []byte, c byte, flags MemFlags) { memsetGeneric(k, dst, c, flags) }
