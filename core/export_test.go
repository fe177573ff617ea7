package core

import "unsafe"

// AddressOf returns the address of b's first byte, for alignment checks.
func AddressOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// FileExtents returns the extents of fd as (logical, physical, length).
func FileExtents(fd int) ([][3]int64, error) {
	exts, err := fileExtents(fd)
	var out [][3]int64
	for _, e := range exts {
		out = append(out, [3]int64{e.logical, e.physical, e.length})
	}
	return out, err
}

// DevString formats a device number as sysfs does.
func DevString(dev uint64) string { return devString(dev) }
