package bench

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestNTStoresCopyAndFill(t *testing.T) {
	if !haveNT {
		t.Skip("no non-temporal store loop in this build")
	}
	// Every store loop this CPU runs, widest first.
	defer func(a, b bool) { useAVX512, useAVX2 = a, b }(useAVX512, useAVX2)
	for _, set := range [][2]bool{{useAVX512, useAVX2}, {false, useAVX2}, {false, false}} {
		useAVX512, useAVX2 = set[0], set[1]
		checkNTStores(t)
	}
}

func checkNTStores(t *testing.T) {
	buf := make([]byte, 8192+128)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(buf))) & 63) // first 64-byte aligned byte
	for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 4096, 4100, 8192} {
		src := bytes.Repeat([]byte{byte(n + 1)}, n)
		dst := buf[off : off+n+64]
		clear(dst)
		ntCopy(dst, src)
		ntFence()
		if !bytes.Equal(dst[:n], src) || dst[n] != 0 {
			t.Fatalf("%s: ntCopy %d bytes: wrong content", ntName(), n)
		}
		ntFill(dst[:n], 0xa5)
		ntFence()
		if !bytes.Equal(dst[:n], bytes.Repeat([]byte{0xa5}, n)) || dst[n] != 0 {
			t.Fatalf("%s: ntFill %d bytes: wrong content", ntName(), n)
		}
	}
}
