package haltest

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BreakWriteBack makes the write-back of the pages under b fail, so tests
// can see how a failed msync(2) is reported. b must lie in a shared file
// mapping (one from [MapFile], a core.Map, a pool's). The pages are
// replaced, at the same addresses, by pages of a memfd_secret(2) file
// holding the same bytes: loads and stores work as before but no longer
// reach the file, and msync of any range that covers them fails with
// EINVAL, since secret memory has no write-back, as msync fails with EIO
// when the file system cannot write the pages. The failure is real: it
// comes from the kernel, through the code under test, on every later msync.
//
// The test is skipped where the kernel offers no memfd_secret (before
// Linux 5.14, or switched off) or the memory-lock limit forbids it. The
// replacement lasts until the range is unmapped, as unmapping the whole
// mapping does. No other goroutine may use those pages during the call.
func BreakWriteBack(tb testing.TB, b []byte) {
	tb.Helper()
	if len(b) == 0 {
		tb.Fatal("haltest: BreakWriteBack of an empty range")
	}
	page := uintptr(os.Getpagesize())
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lead := addr & (page - 1)
	n := (lead + uintptr(len(b)) + page - 1) &^ (page - 1)
	// The pages under b, from the first one's start.
	pages := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), -int(lead))), int(n))

	fd, _, errno := unix.Syscall(unix.SYS_MEMFD_SECRET, unix.O_CLOEXEC, 0, 0)
	if errno != 0 {
		tb.Skipf("haltest: no secret memory to break write-back with: memfd_secret: %v", errno)
	}
	defer unix.Close(int(fd))
	if err := unix.Ftruncate(int(fd), int64(n)); err != nil {
		tb.Fatalf("haltest: size secret memory: %v", err)
	}
	// Map the secret pages elsewhere first, so that a refusal (the
	// memory-lock limit) leaves b's mapping as it was, then move them over
	// b in one step: mremap to a fixed address replaces what was there.
	secret, err := unix.MmapPtr(int(fd), 0, nil, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.EPERM) {
			tb.Skipf("haltest: no secret memory to break write-back with: mmap: %v", err)
		}
		tb.Fatalf("haltest: map secret memory: %v", err)
	}
	copy(unsafe.Slice((*byte)(secret), int(n)), pages)
	_, err = unix.MremapPtr(secret, n, unsafe.Pointer(unsafe.SliceData(pages)), n, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED)
	if err != nil {
		_ = unix.MunmapPtr(secret, n)
		tb.Fatalf("haltest: move secret memory over %d bytes: %v", n, err)
	}
}
