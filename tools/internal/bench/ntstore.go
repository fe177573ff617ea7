package bench

import "github.com/gopmdk/pmdk/hal"

// ntKernels is the kernel set of the limit loop: the widest non-temporal
// stores this CPU and build have, with no flush instruction (FlushNone).
// Asked for MemNonTemporal|MemNoDrain, its Memmove and Memset store a
// 64-byte aligned range with hal's non-temporal bodies alone, flush nothing
// and do not fence (see [hal.Kernels.Memmove]): the memory write bandwidth
// through the very instructions a persisting copy uses. Nil without
// assembly (purego, other GOARCH): the limit column stays empty.
var ntKernels = widestNT()

// haveNT reports whether the limit loop runs in this build.
var haveNT = ntKernels != nil

func widestNT() *hal.Kernels {
	for _, m := range []hal.MoveKind{hal.MoveAVX512F, hal.MoveAVX, hal.MoveSSE2} {
		if k, err := hal.NewKernels(hal.FlushNone, m, 0); err == nil {
			return k
		}
	}
	return nil
}

// ntName names the store loop of the limit.
func ntName() string { return "hal " + ntKernels.Move().String() + " non-temporal stores" }

const ntFlags = hal.MemNonTemporal | hal.MemNoDrain

// ntCopy copies src into dst with non-temporal stores, no flush and no
// fence; bytes before dst's first and after its last 64-byte boundary are
// stored with ordinary stores.
func ntCopy(dst, src []byte) { ntKernels.Memmove(dst, src, ntFlags) }

// ntFill fills dst with c under the same rules as ntCopy.
func ntFill(dst []byte, c byte) { ntKernels.Memset(dst, c, ntFlags) }

// ntFence orders the non-temporal stores before the clock is read.
func ntFence() { ntKernels.Fence() }
