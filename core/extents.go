package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// extent is one run of a file's blocks on its block device (FIEMAP).
type extent struct {
	logical  int64 // offset in the file, bytes
	physical int64 // offset on the device, bytes
	length   int64
	blksize  int64 // file-system block size, for rounding bad blocks
}

const (
	fsIocFiemap      = 0xC020660B // _IOWR('f', 11, struct fiemap)
	fiemapHeaderSize = 32
	fiemapExtentSize = 56
	fiemapFlagSync   = 0x1
	fiemapBatch      = 256
	maxExtents       = 1 << 20
)

// fileExtents lists the extents of the open file fd with FIEMAP. A file
// system without FIEMAP (tmpfs) gives an error wrapping ErrNotSupported.
func fileExtents(fd int) ([]extent, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("core: extents: %w", err)
	}
	blk := int64(st.Blksize)
	if blk <= 0 || blk&(blk-1) != 0 {
		blk = 4096
	}
	buf := make([]uint64, (fiemapHeaderSize+fiemapBatch*fiemapExtentSize)/8)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
	var out []extent
	start := uint64(0)
	for {
		clear(raw)
		binary.NativeEndian.PutUint64(raw[0:], start)            // fm_start
		binary.NativeEndian.PutUint64(raw[8:], ^uint64(0)-start) // fm_length
		binary.NativeEndian.PutUint32(raw[16:], fiemapFlagSync)  // fm_flags
		binary.NativeEndian.PutUint32(raw[24:], fiemapBatch)     // fm_extent_count
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
			if errors.Is(errno, unix.EOPNOTSUPP) || errors.Is(errno, unix.ENOTTY) {
				return nil, fmt.Errorf("core: extents: FIEMAP: %w", ErrNotSupported)
			}
			return nil, fmt.Errorf("core: extents: FIEMAP: %w", errno)
		}
		n := binary.NativeEndian.Uint32(raw[20:]) // fm_mapped_extents
		if n == 0 {
			return out, nil
		}
		if n > fiemapBatch {
			return nil, fmt.Errorf("core: extents: kernel returned %d extents for %d slots: %w", n, fiemapBatch, ErrInvalidArgument)
		}
		last := false
		for i := range int(n) {
			e := raw[fiemapHeaderSize+i*fiemapExtentSize:]
			x := extent{
				logical:  int64(binary.NativeEndian.Uint64(e[0:])),
				physical: int64(binary.NativeEndian.Uint64(e[8:])),
				length:   int64(binary.NativeEndian.Uint64(e[16:])),
				blksize:  blk,
			}
			flags := binary.NativeEndian.Uint32(e[40:])
			if x.logical < 0 || x.physical < 0 || x.length <= 0 {
				return nil, fmt.Errorf("core: extents: bad extent %+v", x)
			}
			out = append(out, x)
			if flags&0x1 != 0 { // FIEMAP_EXTENT_LAST
				last = true
			}
			start = uint64(x.logical) + uint64(x.length)
		}
		if last || len(out) >= maxExtents {
			return out, nil
		}
	}
}

// captureExtents returns the extents of a file on an NVDIMM namespace at
// mapping time, so a Map can report its bad blocks after the caller closed
// the file; nil when the file is on no namespace, with the error when
// FIEMAP fails for one that is.
func captureExtents(src *Source) ([]extent, error) {
	if l, err := locateND(src); err != nil || l == nil {
		return nil, nil
	}
	return fileExtents(src.fd)
}

// mapToFile turns bad blocks given in device offsets into the file ranges
// they hit, rounded out to whole file-system blocks
// (the extent walk of pmem2_badblock_next).
func mapToFile(dev []BadBlock, exts []extent) []BadBlock {
	var out []BadBlock
	for _, b := range dev {
		bBeg, bEnd := b.Offset, b.Offset+b.Length
		for _, e := range exts {
			eBeg, eEnd := e.physical, e.physical+e.length
			if bEnd <= eBeg || eEnd <= bBeg {
				continue
			}
			beg, end := max(bBeg, eBeg), min(bEnd, eEnd)
			off := beg - eBeg + e.logical
			n := end - beg
			if r := off & (e.blksize - 1); r != 0 {
				off -= r
				n += r
			}
			n = (n + e.blksize - 1) &^ (e.blksize - 1)
			out = append(out, BadBlock{Offset: off, Length: n})
		}
	}
	return out
}
