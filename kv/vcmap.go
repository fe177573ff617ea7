package kv

import (
	"hash/maphash"
	"sync"
	"unsafe"
)

// vcmap is pmemkv's vcmap: a volatile concurrent hash map whose keys and
// values live in a vmem pool. The index is Go maps in shards, each with
// its own lock; a map key is a string over the key bytes in the pool
// (the garbage collector does not look into the pool, and the entry is
// freed only after its key left the map).
type vcmap struct {
	v      vpool
	seed   maphash.Seed
	shards [vcShards]vcShard
}

const vcShards = 64

type vcShard struct {
	mu sync.RWMutex
	m  map[string]ventry
	_  [40]byte // own cache line
}

var (
	_ engine = (*vcmap)(nil)
	_ copier = (*vcmap)(nil)
)

func openVCMap(cfg *Config) (engine, error) {
	v, err := openVPool(cfg)
	if err != nil {
		return nil, err
	}
	c := &vcmap{v: v, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]ventry)
	}
	return c, nil
}

func (c *vcmap) shard(key []byte) *vcShard {
	return &c.shards[maphash.Bytes(c.seed, key)%vcShards]
}

// str is the string over b's bytes, without a copy.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (c *vcmap) get(key []byte, fn func([]byte)) error {
	s := c.shard(key)
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.m[str(key)]
	if !ok {
		return ErrNotFound
	}
	fn(e.value())
	return nil
}

func (c *vcmap) getCopy(key, buf []byte) (int, error) {
	s := c.shard(key)
	s.mu.RLock()
	e, ok := s.m[str(key)]
	n, err := copyOut(e, ok, s.m == nil, buf)
	s.mu.RUnlock()
	return n, err
}

func (c *vcmap) put(key, value []byte) error {
	e, err := c.v.alloc(key, value)
	if err != nil {
		return err
	}
	s := c.shard(key)
	s.mu.Lock()
	c.setLocked(s, e)
	s.mu.Unlock()
	return nil
}

// setLocked puts e in s, freeing the entry it replaces: the old map key
// points into the old entry, so it goes before the new one comes in.
func (c *vcmap) setLocked(s *vcShard, e ventry) {
	k := str(e.key())
	if old, ok := s.m[k]; ok {
		delete(s.m, k)
		c.v.free(old)
	}
	s.m[k] = e
}

func (c *vcmap) removeLocked(s *vcShard, key []byte) bool {
	old, ok := s.m[str(key)]
	if ok {
		delete(s.m, str(key))
		c.v.free(old)
	}
	return ok
}

func (c *vcmap) remove(key []byte) error {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.removeLocked(s, key) {
		return ErrNotFound
	}
	return nil
}

func (c *vcmap) countAll() (int, error) {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n, nil
}

func (c *vcmap) getAll(fn func(k, v []byte) bool) error {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		for _, e := range s.m {
			if !fn(e.key(), e.value()) {
				s.mu.RUnlock()
				return ErrStoppedByCallback
			}
		}
		s.mu.RUnlock()
	}
	return nil
}

// apply holds every shard's lock while it writes, so no reader sees part
// of the batch.
func (c *vcmap) apply(ops []batchOp) error {
	es, err := c.v.allocBatch(ops)
	if err != nil {
		return err
	}
	for i := range c.shards {
		c.shards[i].mu.Lock()
	}
	for i, op := range ops {
		s := c.shard(op.key)
		if op.del {
			c.removeLocked(s, op.key)
		} else {
			c.setLocked(s, es[i])
		}
	}
	for i := range c.shards {
		c.shards[i].mu.Unlock()
	}
	return nil
}

// close takes every shard's lock to empty it: a getCopy in progress
// (which the DB does not hold off) ends first, a later one sees the nil
// map.
func (c *vcmap) close() error {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.m = nil
		s.mu.Unlock()
	}
	return c.v.p.Close()
}
