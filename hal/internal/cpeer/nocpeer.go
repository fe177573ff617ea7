//go:build !cpeer || !cgo

package cpeer

// Available reports whether this build has the C peer.
const Available = false

// MemcpyPersistN needs the cpeer build tag; without it it panics.
func MemcpyPersistN(dst, src []byte, n int) { panic("cpeer: built without the cpeer tag") }

// MemsetPersistN needs the cpeer build tag; without it it panics.
func MemsetPersistN(dst []byte, c byte, n int) { panic("cpeer: built without the cpeer tag") }
