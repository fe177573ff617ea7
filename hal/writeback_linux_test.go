package hal_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// TestWriteBackFailure breaks the write-back of one page of a file mapping
// and checks what each kernel set reports: with FlushMsync, FlushRange,
// Memmove and Memset return msync's error for ranges that touch the page
// (and nil for the others, and with MemNoFlush); the CPU flush
// instructions and FlushNone never fail. The stores land either way.
func TestWriteBackFailure(t *testing.T) {
	page := os.Getpagesize()
	haltest.ForEachKernel(t, func(t *testing.T, k *hal.Kernels) {
		m := haltest.MapFile(t, 3*page)
		haltest.BreakWriteBack(t, m[page:2*page])
		good, bad := m[:page], m[page+100:page+356]
		straddling := m[page-10 : page+10]
		msync := k.Flush() == hal.FlushMsync
		check := func(what string, err error, broken bool) {
			t.Helper()
			if broken && msync {
				if !errors.Is(err, unix.EINVAL) {
					t.Errorf("%s: %v, want EINVAL from msync", what, err)
				}
			} else if err != nil {
				t.Errorf("%s: %v, want nil", what, err)
			}
		}
		check("FlushRange(good)", k.FlushRange(good), false)
		check("FlushRange(broken)", k.FlushRange(bad), true)
		check("FlushRange(straddling)", k.FlushRange(straddling), true)
		src := bytes.Repeat([]byte{0xa5}, len(bad))
		for _, flags := range flagCases {
			broken := flags&hal.MemNoFlush == 0
			check(fmt.Sprintf("Memmove(broken, %#x)", flags), k.Memmove(bad, src, flags), broken)
			check(fmt.Sprintf("Memset(straddling, %#x)", flags), k.Memset(straddling, 0x5a, flags), broken)
			check(fmt.Sprintf("Memmove(good, %#x)", flags), k.Memmove(good[1:], src, flags), false)
		}
		k.Fence()
		if !bytes.Equal(bad, src) || !bytes.Equal(good[1:1+len(src)], src) ||
			!bytes.Equal(straddling, bytes.Repeat([]byte{0x5a}, len(straddling))) {
			t.Error("stores did not land")
		}
		if err := hal.Msync(bad); !errors.Is(err, unix.EINVAL) {
			t.Errorf("Msync(broken): %v, want EINVAL", err)
		}
		if err := hal.Msync(good); err != nil {
			t.Errorf("Msync(good): %v", err)
		}
	})
}
