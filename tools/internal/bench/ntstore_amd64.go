//go:build amd64 && gc && !purego

package bench

import (
	"unsafe"

	"github.com/gopmdk/pmdk/hal"
)

//go:noescape
func ntCopyAVX2(dst, src *byte, n uintptr)

//go:noescape
func ntCopyAVX512(dst, src *byte, n uintptr)

//go:noescape
func ntFillAVX512(dst, pattern *byte, n uintptr)

//go:noescape
func ntCopySSE2(dst, src *byte, n uintptr)

//go:noescape
func ntFillAVX2(dst, pattern *byte, n uintptr)

//go:noescape
func ntFillSSE2(dst, pattern *byte, n uintptr)

func sfence()

// haveNT reports whether this build has the non-temporal store loops.
const haveNT = true

// The widest stores the CPU has, as the hal kernels use them.
var (
	useAVX512 = hal.CPU().AVX512F
	useAVX2   = hal.CPU().AVX2
)

// ntName names the store loop used for the limit.
func ntName() string {
	switch {
	case useAVX512:
		return "avx512 vmovntdq loop"
	case useAVX2:
		return "avx2 vmovntdq loop"
	}
	return "sse2 movntdq loop"
}

// ntCopy copies src into dst with non-temporal stores and no flush; the
// tail below 64 bytes is copied with ordinary stores. dst must be 64-byte
// aligned.
func ntCopy(dst, src []byte) {
	dst = dst[:len(src)]
	if uintptr(unsafe.Pointer(unsafe.SliceData(dst)))&63 != 0 {
		panic("bench: ntCopy: dst not 64-byte aligned")
	}
	n := len(src) &^ 63
	if n > 0 {
		if useAVX512 {
			ntCopyAVX512(unsafe.SliceData(dst), unsafe.SliceData(src), uintptr(n))
		} else if useAVX2 {
			ntCopyAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), uintptr(n))
		} else {
			ntCopySSE2(unsafe.SliceData(dst), unsafe.SliceData(src), uintptr(n))
		}
	}
	copy(dst[n:], src[n:])
}

// ntFill fills dst with c with non-temporal stores and no flush, under the
// same rules as ntCopy.
func ntFill(dst []byte, c byte) {
	if uintptr(unsafe.Pointer(unsafe.SliceData(dst)))&63 != 0 {
		panic("bench: ntFill: dst not 64-byte aligned")
	}
	var pat [64]byte
	for i := range pat {
		pat[i] = c
	}
	n := len(dst) &^ 63
	if n > 0 {
		if useAVX512 {
			ntFillAVX512(unsafe.SliceData(dst), &pat[0], uintptr(n))
		} else if useAVX2 {
			ntFillAVX2(unsafe.SliceData(dst), &pat[0], uintptr(n))
		} else {
			ntFillSSE2(unsafe.SliceData(dst), &pat[0], uintptr(n))
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = c
	}
}

// ntFence orders the non-temporal stores before the clock is read.
func ntFence() { sfence() }
