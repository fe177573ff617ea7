package hal

import (
	"errors"
	"fmt"
)

// ErrUnsupported is returned for a kernel set this CPU or build cannot run.
var ErrUnsupported = errors.New("hal: kernel set not supported here")

// NewKernels returns the kernel set with the given flush instruction, store
// instruction set and non-temporal threshold in bytes (0 means
// [DefaultMovntThreshold]). It fails with ErrUnsupported when the CPU or the
// build (purego, another GOARCH) lacks an instruction the set needs.
func NewKernels(flush FlushKind, move MoveKind, threshold int) (*Kernels, error) {
	if threshold <= 0 {
		threshold = DefaultMovntThreshold
	}
	if !Supported(flush, move) {
		return nil, fmt.Errorf("%w: %s+%s", ErrUnsupported, flush, move)
	}
	return &Kernels{flush: flush, move: move, threshold: threshold}, nil
}

// Supported reports whether this CPU and build can run the given kernels.
func Supported(flush FlushKind, move MoveKind) bool {
	return flushSupported(flush, cpu) && moveSupported(move, cpu)
}

var selected = selectKernels()

// Selected returns the kernel set chosen at init: the best the CPU offers,
// as narrowed by the PMEM_* environment variables.
func Selected() *Kernels { return selected }

func selectKernels() *Kernels {
	flush := FlushMsync
	move := MoveGeneric
	k, err := NewKernels(flush, move, 0)
	if err != nil {
		panic(err) // the portable set is always supported
	}
	return k
}

func flushSupported(f FlushKind, c Features) bool {
	switch f {
	case FlushNone, FlushMsync:
		return true
	}
	return false
}

func moveSupported(m MoveKind, c Features) bool { return m == MoveGeneric }
