package kv

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/containers"
)

// openContainer opens the engine of cfg whose root object holds the OID
// of a container of obj/containers, making it with mk on creation.
func openContainer[C any](cfg *Config, name string, mk func(*obj.Tx, *obj.Pool) (C, error),
	oidOf func(C) obj.OID, open func(*obj.Pool, obj.OID) (C, error)) (*store, C, error) {
	var c C
	s, err := openStore(cfg, name, int(unsafe.Sizeof(obj.OID{})), func(tx *obj.Tx, s *store, root uint64) error {
		made, err := mk(tx, s.p)
		if err != nil {
			return err
		}
		b, err := s.m.at(root, uint64(unsafe.Sizeof(obj.OID{})))
		if err != nil {
			return err
		}
		*oidAt(b) = oidOf(made)
		return nil
	})
	if err != nil {
		return nil, c, err
	}
	b, _ := s.m.at(s.root, uint64(unsafe.Sizeof(obj.OID{})))
	if c, err = open(s.p, *oidAt(b)); err != nil {
		// The OID is the engine's own: a container it does not open is
		// damage, whatever the container calls it.
		s.close()
		if err = ctrErr(err); !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("%w: %s's container: %w", ErrCorrupt, name, err)
		}
		return nil, c, err
	}
	return s, c, nil
}

// ctrErr maps the containers' errors to kv's.
func ctrErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, containers.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, containers.ErrDamaged), errors.Is(err, containers.ErrWrongKind):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case errors.Is(err, containers.ErrKeySize):
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return mapErr(err)
}

// cmap is pmemkv's cmap: a persistent concurrent hash map, the
// containers package's BytesHashMap (linear hashing, striped locks). Its
// writes are each a transaction of their own; like pmemkv's cmap it has
// no batches ([ErrNotSupported]).
type cmap struct {
	s *store
	m *containers.BytesHashMap
}

var _ engine = (*cmap)(nil)

func openCMap(cfg *Config) (engine, error) {
	s, m, err := openContainer(cfg, CMap, containers.NewBytesHashMap, (*containers.BytesHashMap).OID, containers.OpenBytesHashMap)
	if err != nil {
		return nil, err
	}
	return &cmap{s: s, m: m}, nil
}

func (c *cmap) get(key []byte, fn func([]byte)) error { return ctrErr(c.m.View(key, fn)) }
func (c *cmap) put(key, value []byte) error           { return ctrErr(c.m.Put(key, value)) }
func (c *cmap) countAll() (int, error)                { return c.m.Len(), nil }
func (c *cmap) close() error                          { return c.s.close() }

func (c *cmap) remove(key []byte) error {
	found, err := c.m.Delete(key)
	if err == nil && !found {
		err = ErrNotFound
	}
	return ctrErr(err)
}

func (c *cmap) getAll(fn func(k, v []byte) bool) error {
	for k, v := range c.m.All() {
		if !fn(k, v) {
			return ErrStoppedByCallback
		}
	}
	return nil
}

func (c *cmap) apply([]batchOp) error {
	return fmt.Errorf("%w: cmap has no transactions (pmemkv's tx is radix's)", ErrNotSupported)
}
