package kv

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// engine is what every engine does; the DB adds argument checks, the
// closed state and the sorted operations on top.
type engine interface {
	// get calls fn with the value of key (valid during fn only).
	get(key []byte, fn func(v []byte)) error
	put(key, value []byte) error
	remove(key []byte) error
	countAll() (int, error)
	// getAll calls fn for every pair until fn returns false
	// (ErrStoppedByCallback).
	getAll(fn func(k, v []byte) bool) error
	// apply makes ops, in order, one atomic update (one transaction for
	// the persistent engines).
	apply(ops []batchOp) error
	close() error
}

// copier is what an engine with a cheaper point read than get adds: it
// copies the value of key into buf (as much as fits) and returns the
// value's length, with no callback to allocate. The DB calls it without
// its own lock: the engine's close takes the engine's locks, after which
// getCopy returns [ErrClosed].
type copier interface {
	getCopy(key, buf []byte) (int, error)
}

// sorted is what the sorted engines (stree, radix, vsmap) add: walks of
// key ranges in order, and neighbour lookups for iterators.
type sorted interface {
	engine
	// ascend calls fn for the pairs with keys in r, in key order, until
	// fn returns false (ErrStoppedByCallback).
	ascend(r keyRange, fn func(k, v []byte) bool) error
	// seek finds the pair nearest to key in direction d and calls fn
	// with it; found is false if there is none.
	seek(key []byte, d seekDir, fn func(k, v []byte)) (found bool, err error)
}

// seekDir says which neighbour of a key seek finds.
type seekDir uint8

const (
	seekGE    seekDir = iota // smallest key >= key
	seekGT                   // smallest key > key
	seekLE                   // largest key <= key
	seekLT                   // largest key < key
	seekFirst                // smallest key (key ignored)
	seekLast                 // largest key (key ignored)
)

// keyRange is a range of keys: above lo (if hasLo) and below hi (if
// hasHi), both exclusive, as pmemkv's count_above/below/between.
type keyRange struct {
	lo, hi       []byte
	hasLo, hasHi bool
}

func (r keyRange) contains(k []byte) bool {
	return (!r.hasLo || bytes.Compare(k, r.lo) > 0) && (!r.hasHi || bytes.Compare(k, r.hi) < 0)
}

// batchOp is one write of a batch: a put, or a remove if del.
type batchOp struct {
	key, value []byte
	del        bool
}

// Engines by pmemkv's names.
const (
	CMap      = "cmap"      // persistent concurrent hash map
	Radix     = "radix"     // persistent sorted radix tree
	STree     = "stree"     // persistent sorted B+ tree
	VSMap     = "vsmap"     // volatile sorted map in a vmem pool
	VCMap     = "vcmap"     // volatile concurrent hash map in a vmem pool
	Blackhole = "blackhole" // accepts everything, keeps nothing
)

// DB is an open engine (pmemkv_db). Its methods may be called from many
// goroutines at once; the engines lock as they need.
type DB struct {
	name   string
	e      engine
	closed atomic.Bool
	// mu makes Close wait for the calls in progress: they hold it for
	// reading.
	mu sync.RWMutex
}

// Open opens engine name (one of [CMap], [Radix], [STree], [VSMap],
// [VCMap], [Blackhole]) with cfg, as pmemkv_open.
func Open(name string, cfg *Config) (*DB, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	var e engine
	var err error
	switch name {
	case Blackhole:
		e = blackhole{}
	case STree:
		e, err = openSTree(cfg)
	case CMap:
		e, err = openCMap(cfg)
	case Radix:
		e, err = openRadix(cfg)
	case VSMap:
		e, err = openVSMap(cfg)
	case VCMap:
		e, err = openVCMap(cfg)
	default:
		return nil, fmt.Errorf("%w: %q", ErrWrongEngine, name)
	}
	if err != nil {
		return nil, fmt.Errorf("kv: open %s: %w", name, err)
	}
	return &DB{name: name, e: e}, nil
}

// Engine returns the engine's name.
func (db *DB) Engine() string { return db.name }

// Close closes the engine and, if Open opened it, its pool. Closing twice
// is no error.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed.Swap(true) {
		return nil
	}
	return db.e.close()
}

func (db *DB) enter() error {
	db.mu.RLock()
	if db.closed.Load() {
		db.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (db *DB) leave() { db.mu.RUnlock() }

func (db *DB) sorted() (sorted, error) {
	s, ok := db.e.(sorted)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not sorted", ErrNotSupported, db.name)
	}
	return s, nil
}

// GetFunc calls fn with the value of key, in the engine's memory (no
// copy): the slice is valid only during fn, which must not call the DB.
// It is pmemkv_get.
func (db *DB) GetFunc(key []byte, fn func(value []byte)) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	return db.e.get(key, fn)
}

// Get returns a copy of the value of key, or [ErrNotFound].
func (db *DB) Get(key []byte) ([]byte, error) {
	var out []byte
	err := db.GetFunc(key, func(v []byte) { out = append(make([]byte, 0, len(v)), v...) })
	return out, err
}

// GetCopy copies the value of key into buf and returns its length, as
// pmemkv_get_copy: a buf too small for it is [ErrOutOfMemory], with the
// length still returned.
func (db *DB) GetCopy(key, buf []byte) (n int, err error) {
	if c, ok := db.e.(copier); ok {
		if db.closed.Load() {
			return 0, ErrClosed
		}
		n, err = c.getCopy(key, buf)
	} else {
		n, err = db.getCopyFunc(key, buf)
	}
	if err == nil && n > len(buf) {
		return n, fmt.Errorf("%w: value of %d bytes, buffer of %d", ErrOutOfMemory, n, len(buf))
	}
	return n, err
}

// getCopyFunc is GetCopy through GetFunc, apart so that the closure's
// captures do not move GetCopy's variables to the heap on the copier path.
func (db *DB) getCopyFunc(key, buf []byte) (int, error) {
	n := 0
	err := db.GetFunc(key, func(v []byte) { n = len(v); copy(buf, v) })
	return n, err
}

// Exists reports whether key is there (pmemkv_exists).
func (db *DB) Exists(key []byte) (bool, error) {
	err := db.GetFunc(key, func([]byte) {})
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Put sets key to a copy of value (pmemkv_put). In a persistent engine
// the pair is durable when Put returns.
func (db *DB) Put(key, value []byte) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	return db.e.put(key, value)
}

// Remove deletes key; [ErrNotFound] if it is not there (pmemkv_remove).
func (db *DB) Remove(key []byte) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	return db.e.remove(key)
}

// CountAll returns the number of pairs.
func (db *DB) CountAll() (int, error) {
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.leave()
	return db.e.countAll()
}

// GetAll calls fn for every pair (in key order in a sorted engine) until
// fn returns false, which makes GetAll return [ErrStoppedByCallback]. k
// and v are in the engine's memory, valid only during fn, which must not
// call the DB.
func (db *DB) GetAll(fn func(k, v []byte) bool) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	return db.e.getAll(fn)
}

func (db *DB) count(r keyRange) (int, error) {
	n := 0
	err := db.walk(r, func(_, _ []byte) bool { n++; return true })
	return n, err
}

func (db *DB) walk(r keyRange, fn func(k, v []byte) bool) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	s, err := db.sorted()
	if err != nil {
		return err
	}
	if r.hasLo && r.hasHi && bytes.Compare(r.lo, r.hi) >= 0 {
		return nil
	}
	return s.ascend(r, fn)
}

// CountAbove counts the keys greater than key (sorted engines).
func (db *DB) CountAbove(key []byte) (int, error) {
	return db.count(keyRange{lo: key, hasLo: true})
}

// CountBelow counts the keys less than key (sorted engines).
func (db *DB) CountBelow(key []byte) (int, error) {
	return db.count(keyRange{hi: key, hasHi: true})
}

// CountBetween counts the keys greater than lo and less than hi (sorted
// engines).
func (db *DB) CountBetween(lo, hi []byte) (int, error) {
	return db.count(keyRange{lo: lo, hi: hi, hasLo: true, hasHi: true})
}

// GetAbove calls fn, in key order, for the pairs with keys greater than
// key (sorted engines), as GetAll.
func (db *DB) GetAbove(key []byte, fn func(k, v []byte) bool) error {
	return db.walk(keyRange{lo: key, hasLo: true}, fn)
}

// GetBelow calls fn, in key order, for the pairs with keys less than key.
func (db *DB) GetBelow(key []byte, fn func(k, v []byte) bool) error {
	return db.walk(keyRange{hi: key, hasHi: true}, fn)
}

// GetBetween calls fn, in key order, for the pairs with keys greater than
// lo and less than hi.
func (db *DB) GetBetween(lo, hi []byte, fn func(k, v []byte) bool) error {
	return db.walk(keyRange{lo: lo, hi: hi, hasLo: true, hasHi: true}, fn)
}
