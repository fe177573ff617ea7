//go:build cpeer

package log

import "github.com/gopmdk/pmdk/log/internal/clog"

// cPeerCreate creates a pool with C libpmemlog for the benchmarks.
var cPeerCreate = func(path string, size int64) (benchLog, error) {
	l, err := clog.Create(path, size, 0o600)
	if err != nil {
		return nil, err
	}
	return cBench{l}, nil
}

type cBench struct{ l *clog.Log }

func (c cBench) appendN(buf []byte, n int) error      { return c.l.AppendN(buf, n) }
func (c cBench) walkBytes(chunksize, times int) int64 { return c.l.WalkBytes(chunksize, times) }
func (c cBench) close()                               { c.l.Close() }
