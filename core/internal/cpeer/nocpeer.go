//go:build !cpeer

package cpeer

// Available reports whether the C peer is built in: not in this build.
func Available() bool { return false }

// Version panics: there is no C peer in this build.
func Version() (int, int) { panic(errNoPeer) }

// MemcpyLoop panics: there is no C peer in this build.
func MemcpyLoop(base []byte, stride, count int, src []byte, first, n uint64) { panic(errNoPeer) }

// PersistLoop panics: there is no C peer in this build.
func PersistLoop(base []byte, stride, count, size int, first, n uint64) { panic(errNoPeer) }

// HasAutoFlush panics: there is no C peer in this build.
func HasAutoFlush() int { panic(errNoPeer) }

// IsPmem panics: there is no C peer in this build.
func IsPmem(b []byte) bool { panic(errNoPeer) }

const errNoPeer = "cpeer: built without the cpeer tag (C PMDK headers missing)"
