package hal

import (
	"fmt"
	"strings"
)

// FlushKind is the instruction used to write cache lines back to memory.
type FlushKind uint8

const (
	// FlushNone does not flush: the persistence domain includes the CPU
	// caches (eADR), or the caller flushes another way. Only the fence runs.
	FlushNone FlushKind = iota
	// FlushCLFLUSH uses CLFLUSH (serialising, evicts the line).
	FlushCLFLUSH
	// FlushCLFLUSHOPT uses CLFLUSHOPT (weakly ordered, evicts the line).
	FlushCLFLUSHOPT
	// FlushCLWB uses CLWB (weakly ordered, may keep the line cached).
	FlushCLWB
	// FlushMsync writes back the covering pages with msync(2). It is the
	// portable fallback of builds without assembly (purego, other GOARCH).
	FlushMsync
)

var flushNames = [...]string{"none", "clflush", "clflushopt", "clwb", "msync"}

func (k FlushKind) String() string {
	if int(k) < len(flushNames) {
		return flushNames[k]
	}
	return fmt.Sprintf("FlushKind(%d)", k)
}

// MoveKind is the instruction set the memmove/memset kernels use for
// non-temporal stores.
type MoveKind uint8

const (
	// MoveGeneric copies with ordinary (temporal) stores and flushes after.
	MoveGeneric MoveKind = iota
	// MoveSSE2 uses 16-byte MOVNTDQ stores above the threshold.
	MoveSSE2
	// MoveAVX uses 32-byte VMOVNTDQ stores above the threshold.
	MoveAVX
	// MoveAVX512F uses 64-byte VMOVNTDQ stores above the threshold.
	MoveAVX512F
)

var moveNames = [...]string{"generic", "sse2", "avx", "avx512f"}

func (k MoveKind) String() string {
	if int(k) < len(moveNames) {
		return moveNames[k]
	}
	return fmt.Sprintf("MoveKind(%d)", k)
}

// MemFlags tune one memmove or memset, with the meaning of libpmem2's
// PMEM2_F_MEM_* flags.
type MemFlags uint32

const (
	// MemNoDrain skips the final fence; the caller drains later.
	MemNoDrain MemFlags = 1 << iota
	// MemNoFlush skips flushing (the data may stay in the CPU caches).
	MemNoFlush
	// MemNonTemporal asks for non-temporal stores at any length.
	MemNonTemporal
	// MemTemporal asks for temporal stores (and a flush) at any length.
	MemTemporal
	// MemWC is a hint that write-combining (non-temporal) stores fit best.
	MemWC
	// MemWB is a hint that write-back (temporal) stores fit best.
	MemWB
)

// DefaultMovntThreshold is the copy length, in bytes, from which the kernels
// switch to non-temporal stores when no flag or environment says otherwise.
// It is libpmem's default.
const DefaultMovntThreshold = 256

// Kernels is one set of persistence kernels. The zero value is not usable;
// get one from [Selected] or [NewKernels]. A Kernels value is immutable and
// safe for concurrent use.
type Kernels struct {
	flush     FlushKind
	move      MoveKind
	threshold int
}

// Flush returns the flush instruction of k.
func (k *Kernels) Flush() FlushKind { return k.flush }

// Move returns the non-temporal store instruction set of k.
func (k *Kernels) Move() MoveKind { return k.move }

// MovntThreshold returns the length in bytes from which k uses
// non-temporal stores.
func (k *Kernels) MovntThreshold() int { return k.threshold }

// Name returns a short name such as "clwb+avx512f".
func (k *Kernels) Name() string { return k.flush.String() + "+" + k.move.String() }

func (k *Kernels) String() string {
	return fmt.Sprintf("%s (movnt threshold %d)", k.Name(), k.threshold)
}

// ParseKernels is the inverse of [Kernels.Name]: it splits "clwb+avx" into
// its parts.
func ParseKernels(name string) (FlushKind, MoveKind, error) {
	f, m, ok := strings.Cut(name, "+")
	if !ok {
		return 0, 0, fmt.Errorf("hal: kernel set %q: want flush+move", name)
	}
	fi, mi := -1, -1
	for i, n := range flushNames {
		if n == f {
			fi = i
		}
	}
	for i, n := range moveNames {
		if n == m {
			mi = i
		}
	}
	if fi < 0 || mi < 0 {
		return 0, 0, fmt.Errorf("hal: unknown kernel set %q", name)
	}
	return FlushKind(fi), MoveKind(mi), nil
}
