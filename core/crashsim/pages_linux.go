package crashsim

import (
	"encoding/binary"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Large devices are mostly pages nobody ever touched. Reading such a page
// of an anonymous mapping costs a page fault, so the page-wise compares
// first ask /proc/self/pagemap which pages were ever mapped in (present or
// swapped): a page untouched on both sides is zero on both sides.

var pagemap = sync.OnceValue(func() *os.File {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil
	}
	return f
})

var pageSize = os.Getpagesize()

// touchedPages returns, for each page of b (which starts on a page
// boundary), whether it was ever faulted in; ok is false when the kernel
// does not say.
func touchedPages(b []byte, buf []byte) (touched []byte, ok bool) {
	f := pagemap()
	if f == nil || len(b) == 0 {
		return nil, false
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if addr%uintptr(pageSize) != 0 {
		return nil, false
	}
	n := (len(b) + pageSize - 1) / pageSize
	if cap(buf) < n*8 {
		buf = make([]byte, n*8)
	}
	buf = buf[:n*8]
	if _, err := f.ReadAt(buf, int64(addr/uintptr(pageSize))*8); err != nil {
		return nil, false
	}
	for i := range n {
		e := binary.LittleEndian.Uint64(buf[i*8:])
		buf[i] = byte(e >> 62) // bit 63 present, bit 62 swapped
	}
	return buf[:n], true
}

// dropPages discards the pages of b, whole pages of a private anonymous
// mapping: they read as zero afterwards and are untouched again.
func dropPages(b []byte) error { return unix.Madvise(b, unix.MADV_DONTNEED) }
