//go:build amd64 && gc && !purego

package hal

import "unsafe"

// sumsBlock is the granule of the SSE2 kernel.
const sumsBlock = 64

// sumLanesSSE2 runs the sums over n bytes at p (a nonzero multiple of 64)
// in four 32-bit lanes: lanes[0:4] = A, the per-lane word sums, and
// lanes[4:8] = B, the sums of A after each 16-byte block.
//
//go:noescape
func sumLanesSSE2(p unsafe.Pointer, n uintptr, lanes *[8]uint32)

// sums32Blocks: with M blocks of four words, word k = 4i+j sits in lane j
// of block i, and B_j counts it M-i times, so Σ (n-k)·w_k = 4·ΣB - Σ j·A_j.
func sums32Blocks(b []byte) (s, t uint32) {
	var l [8]uint32
	sumLanesSSE2(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)), &l)
	s = l[0] + l[1] + l[2] + l[3]
	t = 4*(l[4]+l[5]+l[6]+l[7]) - (l[1] + 2*l[2] + 3*l[3])
	return s, t
}
