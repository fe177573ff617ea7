package kv

import (
	"bytes"
	"math/rand/v2"
	"sync"
)

// vsmap is pmemkv's vsmap: a volatile sorted map whose keys and values
// live in a vmem pool. The index is a skip list on the Go heap (its nodes
// hold slices into the pool), beside a Go map of the same nodes for the
// point reads (a hash lookup instead of a walk of the list); one lock,
// shared by readers. A map key is a string over the node's key bytes in
// the pool, so it leaves the map before its entry is freed.
type vsmap struct {
	mu    sync.RWMutex
	v     vpool
	head  vsNode
	idx   map[string]vsRef
	level int
	n     int
	rnd   *rand.PCG
}

const vsMaxLevel = 24

// vsRef is a pair in vsmap's map: its entry (so that a read does not go
// through the node) and its node.
type vsRef struct {
	e ventry
	n *vsNode
}

type vsNode struct {
	pfx  uint64 // prefix(key): most comparisons stop here
	e    ventry
	next []*vsNode
}

// less reports whether x's key is less than key (whose prefix is kp).
func (x *vsNode) less(key []byte, kp uint64) bool {
	if x.pfx != kp {
		return x.pfx < kp
	}
	return bytes.Compare(x.e.key(), key) < 0
}

var (
	_ sorted = (*vsmap)(nil)
	_ copier = (*vsmap)(nil)
)

func openVSMap(cfg *Config) (engine, error) {
	v, err := openVPool(cfg)
	if err != nil {
		return nil, err
	}
	s := &vsmap{v: v, level: 1, rnd: rand.NewPCG(1, 2), idx: make(map[string]vsRef)}
	s.head.next = make([]*vsNode, vsMaxLevel)
	return s, nil
}

// findGE fills prev (if not nil) with the last node before key at each
// level and returns the first node with a key >= key.
func (s *vsmap) findGE(key []byte, prev *[vsMaxLevel]*vsNode) *vsNode {
	x := &s.head
	kp := prefix(key)
	for l := s.level - 1; l >= 0; l-- {
		for y := x.next[l]; y != nil && y.less(key, kp); y = x.next[l] {
			x = y
		}
		if prev != nil {
			prev[l] = x
		}
	}
	return x.next[0]
}

func (s *vsmap) get(key []byte, fn func([]byte)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.idx[str(key)]
	if !ok {
		return ErrNotFound
	}
	fn(r.e.value())
	return nil
}

func (s *vsmap) getCopy(key, buf []byte) (int, error) {
	s.mu.RLock()
	r, ok := s.idx[str(key)]
	n, err := copyOut(r.e, ok, s.idx == nil, buf)
	s.mu.RUnlock()
	return n, err
}

func (s *vsmap) put(key, value []byte) error {
	e, err := s.v.alloc(key, value)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.setLocked(e)
	s.mu.Unlock()
	return nil
}

func (s *vsmap) setLocked(e ventry) {
	if r, ok := s.idx[str(e.key())]; ok {
		x := r.n
		// The map key is over the old entry's bytes: it goes first.
		delete(s.idx, str(e.key()))
		old := x.e
		x.e = e
		s.idx[str(e.key())] = vsRef{e: e, n: x}
		s.v.free(old)
		return
	}
	var prev [vsMaxLevel]*vsNode
	s.findGE(e.key(), &prev)
	lvl := 1
	for lvl < vsMaxLevel && s.rnd.Uint64()&3 == 0 {
		lvl++
	}
	for ; s.level < lvl; s.level++ {
		prev[s.level] = &s.head
	}
	nd := &vsNode{pfx: prefix(e.key()), e: e, next: make([]*vsNode, lvl)}
	for l := range lvl {
		nd.next[l] = prev[l].next[l]
		prev[l].next[l] = nd
	}
	s.idx[str(e.key())] = vsRef{e: e, n: nd}
	s.n++
}

func (s *vsmap) removeLocked(key []byte) bool {
	if _, ok := s.idx[str(key)]; !ok {
		return false
	}
	delete(s.idx, str(key))
	var prev [vsMaxLevel]*vsNode
	x := s.findGE(key, &prev)
	for l := range x.next {
		prev[l].next[l] = x.next[l]
	}
	s.v.free(x.e)
	x.e = ventry{}
	s.n--
	return true
}

func (s *vsmap) remove(key []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.removeLocked(key) {
		return ErrNotFound
	}
	return nil
}

func (s *vsmap) countAll() (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n, nil
}

func (s *vsmap) getAll(fn func(k, v []byte) bool) error {
	return s.ascend(keyRange{}, fn)
}

func (s *vsmap) ascend(r keyRange, fn func(k, v []byte) bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := s.head.next[0]
	if r.hasLo {
		x = s.findGE(r.lo, nil)
		if x != nil && bytes.Equal(x.e.key(), r.lo) {
			x = x.next[0]
		}
	}
	for ; x != nil; x = x.next[0] {
		if r.hasHi && bytes.Compare(x.e.key(), r.hi) >= 0 {
			return nil
		}
		if !fn(x.e.key(), x.e.value()) {
			return ErrStoppedByCallback
		}
	}
	return nil
}

func (s *vsmap) seek(key []byte, d seekDir, fn func(k, v []byte)) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var x *vsNode
	switch d {
	case seekFirst:
		x = s.head.next[0]
	case seekLast:
		x = &s.head
		for l := s.level - 1; l >= 0; l-- {
			for x.next[l] != nil {
				x = x.next[l]
			}
		}
	case seekGE, seekGT:
		x = s.findGE(key, nil)
		if d == seekGT && x != nil && bytes.Equal(x.e.key(), key) {
			x = x.next[0]
		}
	case seekLE, seekLT:
		var prev [vsMaxLevel]*vsNode
		ge := s.findGE(key, &prev)
		x = prev[0]
		if d == seekLE && ge != nil && bytes.Equal(ge.e.key(), key) {
			x = ge
		}
	}
	if x == nil || x == &s.head {
		return false, nil
	}
	fn(x.e.key(), x.e.value())
	return true, nil
}

func (s *vsmap) apply(ops []batchOp) error {
	es, err := s.v.allocBatch(ops)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, op := range ops {
		if op.del {
			s.removeLocked(op.key)
		} else {
			s.setLocked(es[i])
		}
	}
	return nil
}

// close empties s under its lock: a getCopy in progress (which the DB
// does not hold off) ends first, a later one sees the nil index.
func (s *vsmap) close() error {
	s.mu.Lock()
	s.head.next = make([]*vsNode, vsMaxLevel)
	s.idx = nil
	s.mu.Unlock()
	return s.v.p.Close()
}
