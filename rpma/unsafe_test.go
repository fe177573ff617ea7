package rpma_test

import "unsafe"

// unsafeBytes views s as bytes (8-aligned memory for atomic writes).
func unsafeBytes(s []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*8)
}
