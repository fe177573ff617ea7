//go:build !amd64 || !gc || purego

package bench

// Without assembly there is no non-temporal store loop: the limit column
// stays empty.
const haveNT = false

// No vector store loops either; the tests switch these where they exist.
var useAVX512, useAVX2 bool

func ntName() string { return "" }

func ntCopy(dst, src []byte)    { panic("bench: no non-temporal stores in this build") }
func ntFill(dst []byte, c byte) { panic("bench: no non-temporal stores in this build") }
func ntFence()                  {}
