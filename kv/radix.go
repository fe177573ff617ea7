package kv

import (
	"bytes"
	"sync"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// radix is pmemkv's radix: a persistent radix tree sorted by key bytes,
// the containers package's BytesRadix. Batches are one transaction
// (pmemkv's tx). One lock, shared by readers.
type radix struct {
	mu sync.RWMutex
	s  *store
	t  *containers.BytesRadix
}

var _ sorted = (*radix)(nil)

func openRadix(cfg *Config) (engine, error) {
	s, t, err := openContainer(cfg, Radix, containers.NewBytesRadix, (*containers.BytesRadix).OID, containers.OpenBytesRadix)
	if err != nil {
		return nil, err
	}
	return &radix{s: s, t: t}, nil
}

func (r *radix) get(key []byte, fn func([]byte)) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return ctrErr(r.t.View(key, fn))
}

func (r *radix) put(key, value []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ctrErr(r.t.Put(nil, key, value))
}

func (r *radix) remove(key []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	found, err := r.t.Delete(nil, key)
	if err == nil && !found {
		err = ErrNotFound
	}
	return ctrErr(err)
}

func (r *radix) countAll() (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.t.Len(), nil
}

func (r *radix) close() error { return r.s.close() }

func (r *radix) apply(ops []batchOp) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ctrErr(r.s.p.Tx(func(tx *obj.Tx) error {
		for _, op := range ops {
			var err error
			if op.del {
				_, err = r.t.Delete(tx, op.key)
			} else {
				err = r.t.Put(tx, op.key, op.value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}))
}

func (r *radix) getAll(fn func(k, v []byte) bool) error { return r.ascend(keyRange{}, fn) }

func (r *radix) ascend(kr keyRange, fn func(k, v []byte) bool) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var lo, hi []byte
	if kr.hasLo {
		lo = kr.lo
		if lo == nil {
			lo = []byte{}
		}
	}
	if kr.hasHi {
		hi = kr.hi
		if hi == nil {
			hi = []byte{}
		}
	}
	for k, v := range r.t.Range(lo, hi) {
		if kr.hasLo && bytes.Equal(k, kr.lo) {
			continue // pmemkv's ranges leave their ends out
		}
		if kr.hasHi && bytes.Compare(k, kr.hi) >= 0 {
			break
		}
		if !fn(k, v) {
			return ErrStoppedByCallback
		}
	}
	return nil
}

// seek walks forward from key for the upward directions; the tree has no
// reverse walk, so the downward ones scan from the start (linear in the
// keys below key).
func (r *radix) seek(key []byte, d seekDir, fn func(k, v []byte)) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var lo []byte
	if d == seekGE || d == seekGT {
		lo = key
		if lo == nil {
			lo = []byte{}
		}
	}
	var bk, bv []byte
	found := false
walk:
	for k, v := range r.t.Range(lo, nil) {
		switch d {
		case seekGT:
			if bytes.Equal(k, key) {
				continue
			}
		case seekLE, seekLT:
			if c := bytes.Compare(k, key); c > 0 || c == 0 && d == seekLT {
				break walk
			}
			bk, bv, found = k, v, true
			continue
		case seekLast:
			bk, bv, found = k, v, true
			continue
		}
		bk, bv, found = k, v, true
		break
	}
	if found {
		fn(bk, bv)
	}
	return found, nil
}
