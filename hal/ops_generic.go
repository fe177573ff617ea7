package hal

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The portable kernels. They are the reference the assembly kernels are
// tested against, and the whole implementation where there is no assembly.

// memmoveGeneric copies with temporal stores, then flushes dst.
func memmoveGeneric(k *Kernels, dst, src []byte, flags MemFlags) error {
	copy(dst, src)
	if flags&MemNoFlush == 0 {
		return flushRange(k.flush, dst)
	}
	return nil
}

// memsetGeneric fills with temporal stores, then flushes dst.
func memsetGeneric(k *Kernels, dst []byte, c byte, flags MemFlags) error {
	for i := range dst {
		dst[i] = c
	}
	if flags&MemNoFlush == 0 {
		return flushRange(k.flush, dst)
	}
	return nil
}

var pageSize = uintptr(os.Getpagesize())

// msyncRange writes back the pages covering b. On anonymous memory msync
// succeeds and does nothing, which is the right answer there too. It fails
// with ENOMEM when part of the range is not mapped, and with the file
// system's error (EIO, ENOSPC...) when the pages could not be written back.
func msyncRange(b []byte) error {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	aligned := start &^ (pageSize - 1)
	n := uintptr(len(b)) + (start - aligned)
	_, _, errno := unix.Syscall(unix.SYS_MSYNC, aligned, n, unix.MS_SYNC)
	if errno != 0 {
		return errno
	}
	return nil
}

// Msync writes back the pages of a file mapping that cover b (msync(2) with
// MS_SYNC). It is the persist path of a page-cache mapping. An error means
// the data of b may not have reached the file. Linux reports a write-back
// error once per open file and marks the pages clean, so a later Msync of
// the same pages can succeed although the data is lost: callers that need
// to know must keep the first error.
func Msync(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return msyncRange(b)
}
