//go:build !amd64 || !gc || purego

package hal

const sumsBlock = 32

func sums32Blocks(b []byte) (s, t uint32) { return sums32Generic(b) }
