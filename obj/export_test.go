package obj

import "unsafe"

// ptrAt returns a pointer to b[off].
func ptrAt(b []byte, off int) unsafe.Pointer { return unsafe.Pointer(&b[off]) }

// The interop helpers the external test package (tx_interop_test.go)
// shares.
var (
	WriteImage = writeImage
	CopyFile   = copyFile
)
