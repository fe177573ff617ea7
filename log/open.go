package log

import (
	"errors"
	"fmt"
	"os"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/log/layout"
)

// Options tune Create, Open, CreateOnMap, OpenOnMap and Check; nil means
// C's defaults. A log pool has no options of its own: the common ones
// (ReadOnly, IgnoreSDS, IgnoreBadBlocks, Logger) are pool.Options',
// promoted.
type Options struct {
	pool.Options
}

// poolOptions returns the pool options of opts (nil for nil).
func (opts *Options) poolOptions() *pool.Options {
	if opts == nil {
		return nil
	}
	return &opts.Options
}

// Create creates a log pool at path (pmemlog_create): a new file of
// poolsize bytes with permissions perm or, with poolsize 0, the existing
// file at path, whose header area must be zero. The pool must be at least
// [MinPoolSize] bytes; its usable size is rounded down to whole pages. It
// returns the empty log, open. opts may be nil; ReadOnly is an error.
//
// With poolsize 0, path may name a poolset file (man 5 poolset): the pool
// is created on its parts and replicas, as C does (see package core/pool;
// local replicas are allowed here although C refuses them for log pools).
func Create(path string, poolsize int64, perm os.FileMode, opts *Options) (*Log, error) {
	if poolsize < 0 {
		return nil, fmt.Errorf("log: create %s: pool size %d: %w", path, poolsize, ErrInvalidArgument)
	}
	p, err := pool.Create(path, poolsize, perm, pool.Log, opts.poolOptions())
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l, err := formatPool(p)
	if err != nil {
		if poolsize > 0 {
			// C deletes the parts it created when the create fails.
			os.Remove(path)
		}
		return nil, fmt.Errorf("log: create %s: %w", path, err)
	}
	return l, nil
}

// Open opens the log pool at path (pmemlog_open). It validates the pool
// header and the log descriptor: an inconsistent one gives an error that
// wraps core.ErrCorrupt and names the field. opts may be nil. The pool file
// is locked until Close.
//
// path may name a poolset file, as in C: every part and replica is opened
// and checked (see package core/pool).
func Open(path string, opts *Options) (*Log, error) {
	p, err := pool.Open(path, pool.Log, opts.poolOptions())
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l, err := attachPool(p)
	if err != nil {
		return nil, fmt.Errorf("log: open %s: %w", path, err)
	}
	return l, nil
}

// CreateOnMap creates an empty log pool on m, whose first page must be
// zero: for the crash simulator and other callers that bring their own
// mapping. Close closes m.
func CreateOnMap(m *core.Map, opts *Options) (*Log, error) {
	p, err := pool.CreateOnMap(m, pool.Log, opts.poolOptions())
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l, err := formatPool(p)
	if err != nil {
		return nil, fmt.Errorf("log: create on map: %w", err)
	}
	return l, nil
}

// OpenOnMap opens the log pool on m, as Open does a file. Close closes m.
func OpenOnMap(m *core.Map, opts *Options) (*Log, error) {
	p, err := pool.OpenOnMap(m, pool.Log, opts.poolOptions())
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l, err := attachPool(p)
	if err != nil {
		return nil, fmt.Errorf("log: open on map: %w", err)
	}
	return l, nil
}

// formatPool writes the descriptor of an empty log into the new pool p
// (after its header, as C does) and attaches to it.
func formatPool(p *pool.Pool) (*Log, error) {
	if err := format(p.Map()); err != nil {
		p.Close()
		return nil, err
	}
	return attachPool(p)
}

func attachPool(p *pool.Pool) (*Log, error) {
	l, err := attach(p.Map(), p.ReadOnly(), p.Close)
	if err != nil {
		p.Close()
		return nil, err
	}
	return l, nil
}

// Check checks the consistency of the log pool at path without changing it
// (pmemlog_check): it opens the pool read-only (whatever opts says) and
// compares the pool header and the log descriptor with what C libpmemlog
// accepts. As every package's Check: problems lists what is wrong with the
// pool (each wrapping core.ErrCorrupt; none means consistent, C's 1), err
// says that the file could not be checked as a log pool at all: missing,
// a directory, locked (ErrLocked), too small (ErrPoolTooSmall), a pool of
// another type or version (ErrWrongType, ErrVersion). C returns -1 for a
// damaged header or descriptor too, as its check goes through its open;
// Check lists those problems instead.
func Check(path string, opts *Options) (problems []error, err error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.ReadOnly = true
	p, err := pool.Open(path, pool.Log, &o.Options)
	if errors.Is(err, core.ErrCorrupt) {
		return []error{fmt.Errorf("log: %w", err)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("log: check: %w", err)
	}
	defer p.Close()
	b := p.Map().Bytes()
	d, err := layout.Decode(b)
	if err != nil {
		return []error{err}, nil
	}
	return d.Problems(layout.UsableSize(len(b))), nil
}
