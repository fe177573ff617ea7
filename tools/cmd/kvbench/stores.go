package main

import (
	"errors"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/cockroachdb/pebble"
	"github.com/gopmdk/pmdk/kv"
	bolt "go.etcd.io/bbolt"
)

// store is one engine under test, kv's or a peer's.
type store interface {
	put(k, v []byte) error
	// get copies the value of k into buf and returns its length.
	get(k, buf []byte) (int, error)
	del(k []byte) error
	// scan reads every pair once (in key order where the store keeps one).
	scan(fn func(k, v []byte)) error
	close() error
}

// Engine names of the peers.
const (
	peerBolt   = "bbolt"
	peerPebble = "pebble"
	peerMap    = "gomap"
)

// durable says whether an engine keeps its data across a restart; its
// peers are bbolt and pebble, the volatile engines' is gomap.
func durable(name string) bool {
	switch name {
	case kv.CMap, kv.Radix, kv.STree, peerBolt, peerPebble:
		return true
	}
	return false
}

func isPeer(name string) bool { return name == peerBolt || name == peerPebble || name == peerMap }

// openStore makes engine name's store in the fresh directory dir.
func openStore(name, dir string, poolSize int64) (store, error) {
	switch name {
	case peerBolt:
		db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, &bolt.Options{NoSync: false})
		if err != nil {
			return nil, err
		}
		if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(boltBucket); return err }); err != nil {
			db.Close()
			return nil, err
		}
		return boltStore{db}, nil
	case peerPebble:
		db, err := pebble.Open(filepath.Join(dir, "pebble"), &pebble.Options{})
		if err != nil {
			return nil, err
		}
		return pebbleStore{db}, nil
	case peerMap:
		return &mapStore{m: make(map[string][]byte)}, nil
	}
	cfg := &kv.Config{Path: filepath.Join(dir, "kv.pool"), Size: poolSize, CreateOrErrorIfExists: true}
	if name == kv.VSMap || name == kv.VCMap {
		cfg = &kv.Config{Path: dir, Size: poolSize}
	}
	db, err := kv.Open(name, cfg)
	if err != nil {
		return nil, err
	}
	return kvStore{db}, nil
}

type kvStore struct{ db *kv.DB }

func (s kvStore) put(k, v []byte) error { return s.db.Put(k, v) }
func (s kvStore) get(k, buf []byte) (int, error) {
	return s.db.GetCopy(k, buf)
}
func (s kvStore) del(k []byte) error { return s.db.Remove(k) }
func (s kvStore) scan(fn func(k, v []byte)) error {
	return s.db.GetAll(func(k, v []byte) bool { fn(k, v); return true })
}
func (s kvStore) close() error { return s.db.Close() }

var boltBucket = []byte("kv")

// boltStore: one read-write transaction (with its fsync) per write, as
// durable as a kv put.
type boltStore struct{ db *bolt.DB }

func (s boltStore) put(k, v []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Put(k, v) })
}

func (s boltStore) get(k, buf []byte) (n int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(boltBucket).Get(k)
		if v == nil {
			return kv.ErrNotFound
		}
		n = copy(buf, v)
		return nil
	})
	return n, err
}

func (s boltStore) del(k []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Delete(k) })
}

func (s boltStore) scan(fn func(k, v []byte)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(boltBucket).ForEach(func(k, v []byte) error { fn(k, v); return nil })
	})
}

func (s boltStore) close() error { return s.db.Close() }

// pebbleStore: every write synced to its WAL (pebble.Sync).
type pebbleStore struct{ db *pebble.DB }

func (s pebbleStore) put(k, v []byte) error { return s.db.Set(k, v, pebble.Sync) }

func (s pebbleStore) get(k, buf []byte) (int, error) {
	v, c, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, kv.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	n := copy(buf, v)
	return n, c.Close()
}

func (s pebbleStore) del(k []byte) error { return s.db.Delete(k, pebble.Sync) }

func (s pebbleStore) scan(fn func(k, v []byte)) error {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		fn(it.Key(), it.Value())
	}
	return errors.Join(it.Error(), it.Close())
}

func (s pebbleStore) close() error { return s.db.Close() }

// mapStore is Go's map with a sync.RWMutex, the volatile engines' peer;
// a put copies the value, a get copies it out, as kv does.
type mapStore struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func (s *mapStore) put(k, v []byte) error {
	c := append([]byte(nil), v...)
	s.mu.Lock()
	s.m[string(k)] = c
	s.mu.Unlock()
	return nil
}

func (s *mapStore) get(k, buf []byte) (int, error) {
	s.mu.RLock()
	v, ok := s.m[string(k)]
	n := copy(buf, v)
	s.mu.RUnlock()
	if !ok {
		return 0, kv.ErrNotFound
	}
	return n, nil
}

func (s *mapStore) del(k []byte) error {
	s.mu.Lock()
	delete(s.m, string(k))
	s.mu.Unlock()
	return nil
}

func (s *mapStore) scan(fn func(k, v []byte)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, v := range s.m {
		fn(unsafe.Slice(unsafe.StringData(k), len(k)), v)
	}
	return nil
}

func (s *mapStore) close() error { return nil }
