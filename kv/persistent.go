package kv

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/gopmdk/pmdk/obj"
)

// Type numbers of kv's objects in the obj pool.
const (
	typeHeader = 0x6b76_0001 + iota
	typeEngineRoot
	typeEntry
	typeNode
	typeKey
)

// rootSize is the pool root object of a pool file Open makes: the OID of
// the kv header.
const rootSize = int(unsafe.Sizeof(obj.OID{}))

var headerMagic = [8]byte{'G', 'O', 'P', 'M', 'D', 'K', 'K', 'V'}

// header is the first object of a persistent engine, named by the
// config's OID field: which engine, and its root object.
type header struct {
	Magic   [8]byte  // 0: headerMagic
	Engine  [16]byte // 8: the engine's name, NUL-padded
	Root    uint64   // 24: offset of the engine's root object
	Version uint64   // 32: 1
}

// store is a persistent engine's pool and mapping.
type store struct {
	p    *obj.Pool
	m    mem
	own  bool // Close closes p
	root uint64
}

func engineName(name string) (b [16]byte) {
	copy(b[:], name)
	return b
}

// openStore opens or creates the pool of cfg and the engine's root object
// of rootLen bytes; init fills a new root in the creating transaction.
func openStore(cfg *Config, name string, rootLen int, init func(tx *obj.Tx, s *store, root uint64) error) (*store, error) {
	p, field, own, err := cfg.openPool()
	if err != nil {
		return nil, err
	}
	s := &store{p: p, own: own}
	fail := func(err error) (*store, error) {
		if own {
			p.Close()
		}
		return nil, err
	}
	if s.m, err = poolMem(p); err != nil {
		return fail(err)
	}
	if field.IsNull() {
		err := p.Tx(func(tx *obj.Tx) error {
			h, err := tx.Zalloc(int(unsafe.Sizeof(header{})), typeHeader)
			if err != nil {
				return err
			}
			r, err := tx.Zalloc(rootLen, typeEngineRoot)
			if err != nil {
				return err
			}
			hv, err := view[header](s.m, h.Off)
			if err != nil {
				return err
			}
			*hv = header{Magic: headerMagic, Engine: engineName(name), Root: r.Off, Version: 1}
			if err := init(tx, s, r.Off); err != nil {
				return err
			}
			if err := tx.AddRangeDirect(bytesOf(field)); err != nil {
				return err
			}
			*field = h
			return nil
		})
		if err != nil {
			return fail(mapErr(fmt.Errorf("creating the engine: %w", err)))
		}
	}
	if field.PoolUUIDLo != s.m.uuid {
		return fail(fmt.Errorf("%w: engine root %v is not in this pool", ErrCorrupt, *field))
	}
	hv, err := view[header](s.m, field.Off)
	if err != nil {
		return fail(err)
	}
	if hv.Magic != headerMagic {
		return fail(fmt.Errorf("%w: no kv header at %#x", ErrCorrupt, field.Off))
	}
	if hv.Engine != engineName(name) {
		return fail(fmt.Errorf("%w: the pool holds engine %q", ErrWrongEngine, cstr(hv.Engine[:])))
	}
	if _, err := s.m.at(hv.Root, uint64(rootLen)); err != nil || hv.Root%8 != 0 {
		return fail(fmt.Errorf("%w: engine root at %#x", ErrCorrupt, hv.Root))
	}
	s.root = hv.Root
	return s, nil
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func (s *store) close() error {
	if s.own {
		return s.p.Close()
	}
	return nil
}

// mapErr turns obj's allocation failures into ErrOutOfMemory.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, obj.ErrOutOfMemory) || errors.Is(err, obj.ErrSize) {
		return fmt.Errorf("%w: %w", ErrOutOfMemory, err)
	}
	return err
}

// Entries (a key and its value) and separator keys are objects of
// [klen uint32][vlen uint32][key][value].
const entryHdr = 8

// newEntry allocates an entry holding k and v in tx.
func (s *store) newEntry(tx *obj.Tx, k, v []byte, typ uint64) (uint64, error) {
	size, err := entrySize(k, v)
	if err != nil {
		return 0, err
	}
	oid, err := tx.Alloc(size, typ)
	if err != nil {
		return 0, err
	}
	b, err := s.m.at(oid.Off, uint64(size))
	if err != nil {
		return 0, err
	}
	fillEntry(b, k, v)
	return oid.Off, nil
}

// reserveEntry reserves an entry holding k and v, flushed, for the caller
// to publish (or cancel) with its action.
func (s *store) reserveEntry(k, v []byte, typ uint64) (uint64, obj.Action, error) {
	size, err := entrySize(k, v)
	if err != nil {
		return 0, obj.Action{}, err
	}
	oid, a, err := s.p.Reserve(size, typ)
	if err != nil {
		return 0, obj.Action{}, err
	}
	b, err := s.m.at(oid.Off, uint64(size))
	if err != nil {
		s.p.Cancel(a)
		return 0, obj.Action{}, err
	}
	fillEntry(b, k, v)
	s.p.Flush(b)
	return oid.Off, a, nil
}

// entrySize is the size of the entry object of k and v.
func entrySize(k, v []byte) (int, error) {
	if uint64(len(k)) > 1<<32-1 || uint64(len(v)) > 1<<32-1 {
		return 0, fmt.Errorf("%w: key or value over 4 GiB", ErrInvalidArgument)
	}
	return entryHdr + len(k) + len(v), nil
}

// fillEntry writes the entry of k and v into b.
func fillEntry(b, k, v []byte) {
	putU32(b[0:], uint32(len(k)))
	putU32(b[4:], uint32(len(v)))
	copy(b[entryHdr:], k)
	copy(b[entryHdr+len(k):], v)
}

// entry reads the key and value of the entry at off.
func (s *store) entry(off uint64) (k, v []byte, err error) {
	h, err := s.m.at(off, entryHdr)
	if err != nil {
		return nil, nil, err
	}
	kl, vl := uint64(getU32(h[0:])), uint64(getU32(h[4:]))
	b, err := s.m.at(off+entryHdr, kl+vl)
	if err != nil {
		return nil, nil, err
	}
	return b[:kl:kl], b[kl:], nil
}

func (s *store) oid(off uint64) obj.OID { return obj.OID{PoolUUIDLo: s.m.uuid, Off: off} }

func putU32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func getU32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
