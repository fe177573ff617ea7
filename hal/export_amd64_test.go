//go:build amd64 && gc && !purego

package hal

import "unsafe"

// NTStoreLoop copies src to dst with the non-temporal body of move kind m
// alone: no head or tail, no flush, no fence. It is the memory write
// bandwidth reference of the benchmarks. dst must be 64-byte aligned and
// len(src) a multiple of 64.
func NTStoreLoop(m MoveKind, dst, src []byte) {
	d := unsafe.Pointer(unsafe.SliceData(dst))
	if uintptr(d)%cacheLine != 0 || len(src)%cacheLine != 0 || len(dst) < len(src) {
		panic("NTStoreLoop: misaligned")
	}
	ntCopyFwd(m, d, unsafe.Pointer(unsafe.SliceData(src)), uintptr(len(src)))
}
