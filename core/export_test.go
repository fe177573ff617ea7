package core

import "unsafe"

// AddressOf returns the address of b's first byte, for alignment checks.
func AddressOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
