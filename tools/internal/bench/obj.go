package bench

import (
	"path/filepath"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/cobj"
)

var objSizes = []int{64, 256, 4 << 10}

// objPoolSize is the size of the obj pools: room for every thread's runs.
const objPoolSize = 64 << 20

// objAllocFree allocates size bytes and frees them, per operation, into an
// OID outside the pool (C: on the stack), as pmemobj_alloc/pmemobj_free.
func objAllocFree(e *env, r *row) error {
	p, err := obj.Create(filepath.Join(e.dir, e.name+".go.pool"), objPoolSize, 0o600, nil)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, p.Close)
	for range e.threads {
		r.goW = append(r.goW, func(first, n uint64) (uint64, error) {
			var oid obj.OID
			for range n {
				if err := p.AllocTo(&oid, e.size, 1, nil); err != nil {
					return 0, err
				}
				if err := p.FreeOID(&oid); err != nil {
					return 0, err
				}
			}
			return n, nil
		})
	}
	if !e.peer {
		return nil
	}
	c, err := cobj.Create(filepath.Join(e.dir, e.name+".c.pool"), "", objPoolSize, 0o600)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, c.Close)
	for range e.threads {
		r.cW = append(r.cW, func(first, n uint64) (uint64, error) { return n, c.AllocFreeN(e.size, 1, int(n)) })
	}
	return nil
}

// objRoot looks up the root object of size bytes (pmemobj_root of a root
// that exists).
func objRoot(e *env, r *row) error {
	p, err := obj.Create(filepath.Join(e.dir, e.name+".go.pool"), objPoolSize, 0o600, nil)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, p.Close)
	if _, err := p.Root(e.size); err != nil {
		return err
	}
	for range e.threads {
		r.goW = append(r.goW, func(first, n uint64) (uint64, error) {
			for range n {
				if _, err := p.Root(e.size); err != nil {
					return 0, err
				}
			}
			return n, nil
		})
	}
	if !e.peer {
		return nil
	}
	c, err := cobj.Create(filepath.Join(e.dir, e.name+".c.pool"), "", objPoolSize, 0o600)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, c.Close)
	if _, err := c.Root(e.size); err != nil {
		return err
	}
	for range e.threads {
		r.cW = append(r.cW, func(first, n uint64) (uint64, error) { return n, c.RootN(e.size, int(n)) })
	}
	return nil
}

// objTx runs one transaction per operation: empty, a transactional alloc
// and free of size bytes, or a snapshot of size bytes of an object and a
// write of them (pmembench's obj_tx family).
func objTx(kind cobj.TxKind) func(e *env, r *row) error {
	return func(e *env, r *row) error {
		p, err := obj.Create(filepath.Join(e.dir, e.name+".go.pool"), objPoolSize, 0o600, nil)
		if err != nil {
			return err
		}
		r.closers = append(r.closers, p.Close)
		for range e.threads {
			target, err := p.Zalloc(max(e.size, 64), 1)
			if err != nil {
				return err
			}
			b := p.Bytes(target)[:e.size]
			var body func(tx *obj.Tx) error
			switch kind {
			case cobj.TxEmpty:
				body = func(*obj.Tx) error { return nil }
			case cobj.TxAllocFree:
				body = func(tx *obj.Tx) error {
					o, err := tx.Alloc(e.size, 1)
					if err != nil {
						return err
					}
					return tx.Free(o)
				}
			case cobj.TxAddRange:
				var c byte
				body = func(tx *obj.Tx) error {
					if err := tx.AddRangeDirect(b); err != nil {
						return err
					}
					c++
					memset(b, c)
					return nil
				}
			}
			r.goW = append(r.goW, func(first, n uint64) (uint64, error) {
				for range n {
					if err := p.Tx(body); err != nil {
						return 0, err
					}
				}
				return n, nil
			})
		}
		if !e.peer {
			return nil
		}
		c, err := cobj.Create(filepath.Join(e.dir, e.name+".c.pool"), "", objPoolSize, 0o600)
		if err != nil {
			return err
		}
		r.closers = append(r.closers, c.Close)
		for range e.threads {
			target, err := c.Zalloc(max(e.size, 64), 1)
			if err != nil {
				return err
			}
			r.cW = append(r.cW, func(first, n uint64) (uint64, error) { return n, c.TxN(kind, e.size, target, int(n)) })
		}
		return nil
	}
}

// memset fills b with c as C's memset does: doubling the filled prefix
// with copy runs at memmove speed, where a byte loop would not be
// vectorised and would time the loop rather than the transaction.
func memset(b []byte, c byte) {
	if len(b) == 0 {
		return
	}
	b[0] = c
	for i := 1; i < len(b); i *= 2 {
		copy(b[i:], b[:i])
	}
}
