//go:build !amd64 || !gc || purego

package hal

// hasAsm reports whether this build has the assembly kernels. Without them
// only FlushNone, FlushMsync and MoveGeneric run.
const hasAsm = false
