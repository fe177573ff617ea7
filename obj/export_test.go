package obj

import "unsafe"

// ptrAt returns a pointer to b[off].
func ptrAt(b []byte, off int) unsafe.Pointer { return unsafe.Pointer(&b[off]) }
