//go:build amd64 && gc && !purego

package hal

import (
	"encoding/binary"
	"unsafe"
)

// The amd64 kernels: flush loops, SFENCE and the non-temporal bodies are in
// flush_amd64.s, memmove_amd64.s and memset_amd64.s. This file splits each
// copy into an unaligned head and tail (temporal stores, then flushed) and a
// 64-byte-aligned body (non-temporal stores, which need no flush).

// cacheLine is the flush granule and the alignment of non-temporal bodies.
const cacheLine = 64

//go:noescape
func flushCLWB(p unsafe.Pointer, n uintptr)

//go:noescape
func flushCLFLUSHOPT(p unsafe.Pointer, n uintptr)

//go:noescape
func flushCLFLUSH(p unsafe.Pointer, n uintptr)

func sfence()

//go:noescape
func ntCopyFwdSSE2(dst, src unsafe.Pointer, n uintptr)

//go:noescape
func ntCopyBwdSSE2(dst, src unsafe.Pointer, n uintptr)

//go:noescape
func ntCopyFwdAVX(dst, src unsafe.Pointer, n uintptr)

//go:noescape
func ntCopyBwdAVX(dst, src unsafe.Pointer, n uintptr)

//go:noescape
func ntCopyFwdAVX512(dst, src unsafe.Pointer, n uintptr)

//go:noescape
func ntCopyBwdAVX512(dst, src unsafe.Pointer, n uintptr)

//go:noescape
func ntSetSSE2(dst unsafe.Pointer, n uintptr, pat uint64)

//go:noescape
func ntSetAVX(dst unsafe.Pointer, n uintptr, pat uint64)

//go:noescape
func ntSetAVX512(dst unsafe.Pointer, n uintptr, pat uint64)

//go:noescape
func tCopyFwdAVX(dst, src unsafe.Pointer, n uintptr)

//go:noescape
func tCopyFwdAVX512(dst, src unsafe.Pointer, n uintptr)

func flushRange(kind FlushKind, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	p, n := unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b))
	switch kind {
	case FlushCLWB:
		flushCLWB(p, n)
	case FlushCLFLUSHOPT:
		flushCLFLUSHOPT(p, n)
	case FlushCLFLUSH:
		flushCLFLUSH(p, n)
	case FlushMsync:
		return msyncRange(b)
	}
	return nil
}

func fence() { sfence() }

// split returns the lengths of the temporal head (up to dst's next cache
// line), the non-temporal body (whole lines) and the temporal tail of an
// n-byte store at dst.
func split(dst unsafe.Pointer, n int) (head, body, tail int) {
	head = min(int(-uintptr(dst)&(cacheLine-1)), n)
	body = (n - head) &^ (cacheLine - 1)
	return head, body, n - head - body
}

func memmove(k *Kernels, dst, src []byte, flags MemFlags) error {
	n := len(src)
	if n == 0 {
		return nil
	}
	if !k.useNonTemporal(n, flags) {
		copy(dst, src)
		if flags&MemNoFlush == 0 {
			return flushRange(k.flush, dst)
		}
		return nil
	}
	d, s := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	head, body, tail := split(d, n)
	// Walk backward when dst starts inside src, so no source byte is
	// overwritten before it is read; the pieces go in the same order.
	if uintptr(d) > uintptr(s) && uintptr(d)-uintptr(s) < uintptr(n) {
		copy(dst[head+body:n], src[head+body:])
		if body > 0 {
			ntCopyBwd(k.move, unsafe.Add(d, head), unsafe.Add(s, head), uintptr(body))
		}
		copy(dst[:head], src[:head])
	} else {
		copy(dst[:head], src[:head])
		if body > 0 {
			ntCopyFwd(k.move, unsafe.Add(d, head), unsafe.Add(s, head), uintptr(body))
		}
		copy(dst[head+body:n], src[head+body:])
	}
	if head+tail > 0 || k.flush == FlushMsync {
		return flushEdges(k.flush, dst[:n], head, body, tail)
	}
	return nil
}

// flushEdges flushes what the temporal stores of a split copy left in the
// cache. The msync path cannot tell non-temporal stores from dirty page
// cache, so it writes back the whole range.
func flushEdges(kind FlushKind, dst []byte, head, body, tail int) error {
	if kind == FlushMsync {
		return flushRange(kind, dst)
	}
	if head > 0 {
		flushRange(kind, dst[:head])
	}
	if tail > 0 {
		flushRange(kind, dst[head+body:])
	}
	return nil
}

// ntChunk bounds one assembly call: the runtime cannot preempt a goroutine
// inside assembly, so a huge copy goes in pieces of a few tens of
// microseconds each.
const ntChunk = 1 << 20

func ntCopyFwd(m MoveKind, dst, src unsafe.Pointer, n uintptr) {
	for n > 0 {
		c := min(n, ntChunk)
		switch m {
		case MoveAVX512F:
			ntCopyFwdAVX512(dst, src, c)
		case MoveAVX:
			ntCopyFwdAVX(dst, src, c)
		default:
			ntCopyFwdSSE2(dst, src, c)
		}
		if n -= c; n > 0 { // no pointer past the end: checkptr (-race) rejects it
			dst, src = unsafe.Add(dst, c), unsafe.Add(src, c)
		}
	}
}

func ntCopyBwd(m MoveKind, dst, src unsafe.Pointer, n uintptr) {
	for n > 0 {
		c := min(n, ntChunk)
		n -= c
		d, s := unsafe.Add(dst, n), unsafe.Add(src, n)
		switch m {
		case MoveAVX512F:
			ntCopyBwdAVX512(d, s, c)
		case MoveAVX:
			ntCopyBwdAVX(d, s, c)
		default:
			ntCopyBwdSSE2(d, s, c)
		}
	}
}

func ntSet(m MoveKind, dst unsafe.Pointer, n uintptr, pat uint64) {
	for n > 0 {
		c := min(n, ntChunk)
		switch m {
		case MoveAVX512F:
			ntSetAVX512(dst, c, pat)
		case MoveAVX:
			ntSetAVX(dst, c, pat)
		default:
			ntSetSSE2(dst, c, pat)
		}
		if n -= c; n > 0 { // no pointer past the end, as in ntCopyFwd
			dst = unsafe.Add(dst, c)
		}
	}
}

func memset(k *Kernels, dst []byte, c byte, flags MemFlags) error {
	n := len(dst)
	if n == 0 {
		return nil
	}
	if !k.useNonTemporal(n, flags) {
		fill(dst, c)
		if flags&MemNoFlush == 0 {
			return flushRange(k.flush, dst)
		}
		return nil
	}
	d := unsafe.Pointer(unsafe.SliceData(dst))
	head, body, tail := split(d, n)
	// The calls are guarded so that an aligned fill costs one call to the
	// assembly (tiny fills run at a few ns per call).
	if head > 0 {
		fill(dst[:head], c)
	}
	if body > 0 {
		ntSet(k.move, unsafe.Add(d, head), uintptr(body), uint64(c)*0x0101010101010101)
	}
	if tail > 0 {
		fill(dst[head+body:], c)
	}
	if head+tail > 0 || k.flush == FlushMsync {
		return flushEdges(k.flush, dst, head, body, tail)
	}
	return nil
}

// fill sets every byte of b to c with temporal stores: 8-byte stores for
// short ranges, else doubling the filled prefix with copy so long fills run
// at memmove speed.
func fill(b []byte, c byte) {
	if len(b) < 512 {
		pat := uint64(c) * 0x0101010101010101
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, pat)
			b = b[8:]
		}
		for i := range b {
			b[i] = c
		}
		return
	}
	b[0] = c
	for i := 1; i < len(b); i *= 2 {
		copy(b[i:], b[:i])
	}
}

// copyVectorMin is the shortest copy Kernels.Copy hands to a vector body:
// below it the builtin copy's straight-line code is as fast.
const copyVectorMin = 256

func tcopy(k *Kernels, dst, src []byte) int {
	n := min(len(dst), len(src))
	body := n &^ (cacheLine - 1)
	if body < copyVectorMin || k.move < MoveAVX {
		return copy(dst, src)
	}
	d, s := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	if uintptr(d) < uintptr(s)+uintptr(n) && uintptr(s) < uintptr(d)+uintptr(n) {
		return copy(dst, src) // overlapping: memmove's order matters
	}
	for left := uintptr(body); left > 0; {
		c := min(left, ntChunk)
		if k.move == MoveAVX512F {
			tCopyFwdAVX512(d, s, c)
		} else {
			tCopyFwdAVX(d, s, c)
		}
		if left -= c; left > 0 { // no pointer past the end: checkptr (-race) rejects it
			d, s = unsafe.Add(d, c), unsafe.Add(s, c)
		}
	}
	copy(dst[body:n], src[body:n])
	return n
}
