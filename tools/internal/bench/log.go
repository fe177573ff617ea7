package bench

import (
	"errors"
	"path/filepath"

	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/tools/internal/cpeer"
)

var logSizes = []int{64, 4 << 10}

// logPoolSize is the size of the log pools: the memory scenarios' region
// per thread, at least the smallest log pool.
func logPoolSize(e *env) int64 {
	return max(int64(e.threads)*int64(e.region), pmemlog.MinPoolSize)
}

// logAppend appends size bytes per operation; a full log is rewound and the
// append retried, on both sides, so rewinds are part of the cost.
func logAppend(e *env, r *row) error {
	size := logPoolSize(e)
	l, err := pmemlog.Create(filepath.Join(e.dir, e.name+".go.pool"), size, 0o600, nil)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, l.Close)
	// Fill and rewind once, so no first-touch page fault lands in the
	// measurement.
	records, err := fillLog(l, e.src)
	if err != nil {
		return err
	}
	if err := l.Rewind(); err != nil {
		return err
	}
	for range e.threads {
		r.goW = append(r.goW, func(first, n uint64) (uint64, error) {
			for range n {
				err := l.Append(e.src)
				if errors.Is(err, pmemlog.ErrNoSpace) {
					if err = l.Rewind(); err == nil {
						err = l.Append(e.src)
					}
				}
				if err != nil {
					return 0, err
				}
			}
			return n, nil
		})
	}
	if !e.peer {
		return nil
	}
	cl, err := cpeer.CreateLog(filepath.Join(e.dir, e.name+".c.pool"), size)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, cl.Close)
	// records+1 appends fill the log and rewind it once.
	if err := cl.Append(e.src, records+1); err != nil {
		return err
	}
	for range e.threads {
		r.cW = append(r.cW, func(first, n uint64) (uint64, error) { return n, cl.Append(e.src, n) })
	}
	return nil
}

// logWalk fills the log with size-byte records, then an operation is one
// chunk of size bytes handed to the callback by a walk of the whole log.
func logWalk(e *env, r *row) error {
	size := logPoolSize(e)
	l, err := pmemlog.Create(filepath.Join(e.dir, e.name+".go.pool"), size, 0o600, nil)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, l.Close)
	records, err := fillLog(l, e.src)
	if err != nil {
		return err
	}
	for range e.threads {
		r.goW = append(r.goW, func(first, n uint64) (uint64, error) {
			var count uint64
			for count < n {
				err := l.Walk(e.size, func([]byte) bool { count++; return true })
				if err != nil {
					return 0, err
				}
			}
			return count, nil
		})
	}
	if !e.peer {
		return nil
	}
	cl, err := cpeer.CreateLog(filepath.Join(e.dir, e.name+".c.pool"), size)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, cl.Close)
	// Fill exactly as far as the Go log: same number of records.
	if err := cl.Append(e.src, records); err != nil {
		return err
	}
	for range e.threads {
		r.cW = append(r.cW, func(first, n uint64) (uint64, error) { return cl.Walk(e.size, n), nil })
	}
	return nil
}

// fillLog appends rec until the log is full and returns how many fit.
func fillLog(l *pmemlog.Log, rec []byte) (uint64, error) {
	var n uint64
	for {
		err := l.Append(rec)
		if errors.Is(err, pmemlog.ErrNoSpace) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
