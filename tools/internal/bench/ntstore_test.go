package bench

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/hal"
)

// TestNTStoresCopyAndFill runs the limit loop's stores on every
// non-temporal store set this CPU has, and checks they store what they
// should and nothing past it.
func TestNTStoresCopyAndFill(t *testing.T) {
	if !haveNT {
		t.Skip("no non-temporal stores in this build")
	}
	defer func(k *hal.Kernels) { ntKernels = k }(ntKernels)
	for _, m := range []hal.MoveKind{hal.MoveAVX512F, hal.MoveAVX, hal.MoveSSE2} {
		t.Run(m.String(), func(t *testing.T) {
			k, err := hal.NewKernels(hal.FlushNone, m, 0)
			if err != nil {
				t.Skipf("%s: %v", m, err)
			}
			ntKernels = k
			checkNTStores(t)
		})
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
