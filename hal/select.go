package hal

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
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
	c := cpu()
	return flushSupported(flush, c) && moveSupported(move, c)
}

// Choice is the outcome of kernel selection: the kernel set and the reasons
// it was chosen, one per decision, in the order libpmem takes them.
type Choice struct {
	Flush          FlushKind
	Move           MoveKind
	MovntThreshold int      // bytes; 0 means non-temporal stores at every length
	Reasons        []string // e.g. "clwb: CPU has CLWB"
}

// Kernels returns the kernel set of c. It fails with ErrUnsupported when
// this CPU or build cannot run it (c was chosen for other features).
func (c Choice) Kernels() (*Kernels, error) {
	if !Supported(c.Flush, c.Move) {
		return nil, fmt.Errorf("%w: %s+%s", ErrUnsupported, c.Flush, c.Move)
	}
	return c.kernels(), nil
}

// kernels builds the set without the support check; unlike NewKernels it
// keeps a threshold of 0 (PMEM_MOVNT_THRESHOLD=0: always non-temporal).
func (c Choice) kernels() *Kernels {
	return &Kernels{flush: c.Flush, move: c.Move, threshold: c.MovntThreshold}
}

// Reason joins the reasons into one line.
func (c Choice) Reason() string { return strings.Join(c.Reasons, "; ") }

func (c Choice) String() string {
	return fmt.Sprintf("%s+%s (movnt threshold %d): %s", c.Flush, c.Move, c.MovntThreshold, c.Reason())
}

// selectedChoice makes the choice once, on first use rather than at init:
// it reads sysfs (eADR), and importing hal does no I/O.
var selectedChoice = sync.OnceValue(func() Choice { return Choose(cpu(), AutoFlush(nil), os.LookupEnv) })

// selected is the set of selectedChoice; Choose used the features of this
// CPU, so the set is supported.
var selected = sync.OnceValue(func() *Kernels { return selectedChoice().kernels() })

// Selected returns the kernel set chosen for this process: the best the
// CPU offers, as narrowed by the PMEM_* environment variables and eADR. It
// is chosen once, at the first call of Selected or [SelectedChoice]; the
// environment is read then.
func Selected() *Kernels { return selected() }

// SelectedChoice returns the choice behind [Selected], with its reasons.
func SelectedChoice() Choice {
	c := selectedChoice()
	c.Reasons = append([]string(nil), c.Reasons...)
	return c
}

// Choose picks the kernel set libpmem 1.12.1 would pick on a CPU with
// features f, for this build, with the environment seen through lookup.
// eADR says whether the platform's persistence domain includes the CPU
// caches (see [AutoFlush]). Choose is a pure function of its arguments; the
// rules are those of pmem_init and pmem2_arch_init:
//
//   - flush: CLWB, else CLFLUSHOPT, else CLFLUSH; PMEM_NO_CLWB=1 and
//     PMEM_NO_CLFLUSHOPT=1 skip one. PMEM_NO_FLUSH=1, or eADR without
//     PMEM_NO_FLUSH=0, gives FlushNone.
//   - move: AVX-512F, else AVX, else SSE2; PMEM_AVX512F=0 and PMEM_AVX=0
//     skip one; PMEM_NO_MOVNT=1 gives MoveGeneric.
//   - PMEM_MOVNT_THRESHOLD: the copy length from which non-temporal stores
//     are used, parsed like atoll; a negative value is ignored.
//
// A build without assembly gets FlushMsync and MoveGeneric (FlushNone under
// the same conditions as above).
func Choose(f Features, eADR bool, lookup LookupEnvFunc) Choice {
	return choose(f, hasAsm, eADR, lookup)
}

func choose(f Features, asm, eADR bool, lookup LookupEnvFunc) Choice {
	c := Choice{Flush: FlushMsync, Move: MoveGeneric, MovntThreshold: DefaultMovntThreshold}
	why := func(format string, args ...any) { c.Reasons = append(c.Reasons, fmt.Sprintf(format, args...)) }

	// Deep flush instruction.
	switch {
	case !asm:
		why("msync: no assembly kernels in this build")
	case f.CLWB && !envIs(lookup, EnvNoCLWB, "1"):
		c.Flush = FlushCLWB
		why("clwb: CPU has CLWB")
	case f.CLFLUSHOPT && !envIs(lookup, EnvNoCLFLUSHOPT, "1"):
		c.Flush = FlushCLFLUSHOPT
		if f.CLWB {
			why("clflushopt: %s=1", EnvNoCLWB)
		} else {
			why("clflushopt: CPU has no CLWB")
		}
	case f.CLFLUSH:
		c.Flush = FlushCLFLUSH
		var off []string
		if f.CLWB {
			off = append(off, EnvNoCLWB+"=1")
		}
		if f.CLFLUSHOPT {
			off = append(off, EnvNoCLFLUSHOPT+"=1")
		}
		if len(off) > 0 {
			why("clflush: %s", strings.Join(off, ", "))
		} else {
			why("clflush: CPU has neither CLWB nor CLFLUSHOPT")
		}
	default:
		why("msync: CPU reports no cache flush instruction")
	}

	// Whether to flush at all.
	switch {
	case envIs(lookup, EnvNoFlush, "1"):
		c.Flush = FlushNone
		why("none: %s=1", EnvNoFlush)
	case envIs(lookup, EnvNoFlush, "0"):
		if eADR {
			why("flushing despite eADR: %s=0", EnvNoFlush)
		}
	case eADR:
		c.Flush = FlushNone
		why("none: eADR, the CPU caches are in the persistence domain")
	}

	// Non-temporal store instruction set.
	switch {
	case envIs(lookup, EnvNoMovnt, "1"):
		why("generic: %s=1", EnvNoMovnt)
	case !asm:
		why("generic: no assembly kernels in this build")
	default:
		if f.SSE2 {
			c.Move = MoveSSE2
		}
		avxOff := envIs(lookup, EnvAVX, "0")
		if f.AVX && !avxOff {
			c.Move = MoveAVX
		}
		avx512Off := envIs(lookup, EnvAVX512F, "0")
		if f.AVX512F && !avx512Off {
			c.Move = MoveAVX512F
		}
		var notes []string
		if f.AVX && avxOff {
			notes = append(notes, EnvAVX+"=0")
		}
		if f.AVX512F && avx512Off {
			notes = append(notes, EnvAVX512F+"=0")
		}
		switch {
		case len(notes) > 0:
			why("%s: %s", c.Move, strings.Join(notes, ", "))
		case c.Move == MoveGeneric:
			why("generic: CPU has no SSE2")
		default:
			why("%s: best vector unit of the CPU", c.Move)
		}
	}
	if c.Move == MoveGeneric {
		if v, ok := lookup(EnvNoGenericMemcpy); ok && atoll(v) != 0 {
			// libpmem then calls libc memmove; copy is Go's equivalent,
			// and MoveGeneric already uses it.
			why("%s=%s: copy is already the runtime's memmove", EnvNoGenericMemcpy, v)
		}
	}

	// Threshold. libpmem parses it even when non-temporal stores are off.
	if v, ok := lookup(EnvMovntThreshold); ok {
		switch n := atoll(v); {
		case n < 0:
			why("threshold %d: %s=%q is negative, ignored", c.MovntThreshold, EnvMovntThreshold, v)
		default:
			c.MovntThreshold = int(min(n, int64(maxInt)))
			why("threshold %d: %s=%q", c.MovntThreshold, EnvMovntThreshold, v)
		}
	}
	return c
}

const maxInt = int(^uint(0) >> 1)

// flushSupported reports whether this build can run flush kind f on a CPU
// with features c.
func flushSupported(f FlushKind, c Features) bool { return flushSupportedOn(f, c, hasAsm) }

func flushSupportedOn(f FlushKind, c Features, asm bool) bool {
	switch f {
	case FlushNone, FlushMsync:
		return true
	case FlushCLFLUSH:
		return asm && c.CLFLUSH
	case FlushCLFLUSHOPT:
		return asm && c.CLFLUSHOPT
	case FlushCLWB:
		return asm && c.CLWB
	}
	return false
}

// moveSupported reports whether this build can run move kind m on a CPU
// with features c. The AVX and AVX-512F flags already include the OS
// support check (XGETBV).
func moveSupported(m MoveKind, c Features) bool { return moveSupportedOn(m, c, hasAsm) }

func moveSupportedOn(m MoveKind, c Features, asm bool) bool {
	switch m {
	case MoveGeneric:
		return true
	case MoveSSE2:
		return asm && c.SSE2
	case MoveAVX:
		return asm && c.AVX
	case MoveAVX512F:
		return asm && c.AVX512F
	}
	return false
}
