// The map and flog words are stored with single atomic instructions in the
// host's byte order, which is the media's only on little-endian machines:
// other architectures do not build.

//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package btt

import "unsafe"

// word32 points at the 4-byte word at off of b, which the caller has
// checked to be in range and 4-aligned (relative to a page-aligned map).
func word32(b []byte, off uint64) *uint32 {
	w := b[off : off+4 : off+4]
	return (*uint32)(unsafe.Pointer(unsafe.SliceData(w)))
}

// word64 points at the 8-byte word at off of b (in range, 8-aligned).
func word64(b []byte, off uint64) *uint64 {
	w := b[off : off+8 : off+8]
	return (*uint64)(unsafe.Pointer(unsafe.SliceData(w)))
}
