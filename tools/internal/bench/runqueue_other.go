//go:build !linux

package bench

func threadRunqueue() (ns int64, ok bool) { return 0, false }
