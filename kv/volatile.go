package kv

import (
	"errors"
	"fmt"

	"github.com/gopmdk/pmdk/vmem"
)

// vpool is the vmem pool of a volatile engine (vsmap, vcmap): keys and
// values live in it, one allocation per pair, as pmemkv keeps them in a
// memkind PMEM kind. Nothing survives Close.
type vpool struct {
	p *vmem.Pool
}

func openVPool(cfg *Config) (vpool, error) {
	if cfg.Pool != nil {
		return vpool{}, fmt.Errorf("%w: a volatile engine takes a directory and a size, not an obj pool", ErrConfig)
	}
	if cfg.Path == "" || cfg.Size <= 0 {
		return vpool{}, fmt.Errorf("%w: a volatile engine needs path (a directory) and size", ErrConfig)
	}
	p, err := vmem.Create(cfg.Path, cfg.Size, nil)
	if err != nil {
		return vpool{}, fmt.Errorf("kv: %w", err)
	}
	return vpool{p: p}, nil
}

// ventry is one pair: key then value in one vmem allocation (nil for an
// empty key and value).
type ventry struct {
	b  []byte
	kl int
}

func (e ventry) key() []byte   { return e.b[:e.kl:e.kl] }
func (e ventry) value() []byte { return e.b[e.kl:] }

func (v vpool) alloc(k, val []byte) (ventry, error) {
	n := len(k) + len(val)
	if n < len(k) {
		return ventry{}, ErrInvalidArgument
	}
	if n == 0 {
		return ventry{}, nil
	}
	b, err := v.p.Malloc(n)
	if err != nil {
		if errors.Is(err, vmem.ErrNoMem) || errors.Is(err, vmem.ErrInvalid) {
			return ventry{}, fmt.Errorf("%w: %w", ErrOutOfMemory, err)
		}
		return ventry{}, err
	}
	copy(b, k)
	copy(b[len(k):], val)
	return ventry{b: b, kl: len(k)}, nil
}

func (v vpool) free(e ventry) {
	if e.b != nil {
		_ = v.p.Free(e.b)
	}
}

// allocBatch makes the entries of a batch's puts up front, so that a full
// pool fails the batch before it changes anything.
func (v vpool) allocBatch(ops []batchOp) ([]ventry, error) {
	es := make([]ventry, len(ops))
	for i, op := range ops {
		if op.del {
			continue
		}
		e, err := v.alloc(op.key, op.value)
		if err != nil {
			for _, e := range es[:i] {
				v.free(e)
			}
			return nil, err
		}
		es[i] = e
	}
	return es, nil
}

// copyOut is a volatile engine's getCopy once it looked key up under its
// read lock: it copies e's value into buf if found and returns the
// value's length, or ErrClosed if the engine is closed, or ErrNotFound.
func copyOut(e ventry, found, closed bool, buf []byte) (int, error) {
	switch {
	case closed:
		return 0, ErrClosed
	case !found:
		return 0, ErrNotFound
	}
	v := e.value()
	copy(buf, v)
	return len(v), nil
}
