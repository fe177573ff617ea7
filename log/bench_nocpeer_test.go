//go:build !cpeer

package log

// cPeerCreate is nil without the cpeer tag: benchmarks run Go only.
var cPeerCreate func(path string, size int64) (benchLog, error)
