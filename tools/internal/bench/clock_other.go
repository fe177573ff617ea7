//go:build !unix

package bench

func threadCPU() (ns int64, ok bool) { return 0, false }
