package kv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gopmdk/pmdk/obj"
)

// Config is pmemkv's config: where the engine keeps its data. The zero
// value is not usable: set Path (and Size to create), or Pool and Root.
//
// pmemkv's names: path, size, create_if_missing,
// create_or_error_if_exists, force_create (deprecated), oid.
type Config struct {
	// Path is the pool file of a persistent engine, or the directory of
	// a volatile engine's vmem pool (vsmap, vcmap).
	Path string
	// Size is the size in bytes of a pool to create (a persistent
	// engine's pool file; a volatile engine's pool always).
	Size int64
	// CreateIfMissing opens the pool file at Path, creating it with Size
	// bytes if there is none.
	CreateIfMissing bool
	// CreateOrErrorIfExists creates the pool file, failing with
	// [ErrExists] if the file is there.
	CreateOrErrorIfExists bool
	// ForceCreate is pmemkv's older name of CreateOrErrorIfExists.
	//
	// Deprecated: use CreateOrErrorIfExists.
	ForceCreate bool
	// Perm is the permission of a created pool file; 0 means 0600.
	Perm fs.FileMode
	// Pool and Root, if Pool is not nil, put the engine inside an open
	// obj pool, as pmemkv's oid: Root points at an OID field in the
	// pool's persistent memory (a field of the caller's root object,
	// say). If that OID is null, the engine makes its data and stores
	// its root there; if not, it opens the data the OID names. A nil
	// Root means the pool's root object, which then holds only that
	// OID, as in a pool file Open makes. Close leaves Pool open. Path
	// and Size are then not used.
	Pool *obj.Pool
	Root *obj.OID
	// Options are obj's options for the pool file (nil: defaults).
	// Their Layout is ignored: kv pools have layout [Layout].
	Options *obj.Options
}

// Layout is the obj layout name of pool files made by Open.
const Layout = "gopmdk-kv"

// openPool opens or creates the obj pool a persistent engine lives in,
// returning the pool and the OID field that holds the engine root, and
// whether Close must close the pool.
func (c *Config) openPool() (p *obj.Pool, root *obj.OID, own bool, err error) {
	if c.Pool != nil {
		if c.Root == nil {
			field, err := rootField(c.Pool)
			return c.Pool, field, false, err
		}
		if !inPool(c.Pool, c.Root) {
			return nil, nil, false, fmt.Errorf("%w: Root is not in Pool's memory", ErrConfig)
		}
		return c.Pool, c.Root, false, nil
	}
	if c.Path == "" {
		return nil, nil, false, fmt.Errorf("%w: no path", ErrConfig)
	}
	o := obj.Options{}
	if c.Options != nil {
		o = *c.Options
	}
	o.Layout = Layout
	perm := c.Perm
	if perm == 0 {
		perm = 0o600
	}
	create := func() (*obj.Pool, error) {
		if c.Size <= 0 {
			return nil, fmt.Errorf("%w: no size to create %s", ErrConfig, c.Path)
		}
		return obj.Create(c.Path, c.Size, perm, &o)
	}
	switch {
	case c.CreateOrErrorIfExists || c.ForceCreate:
		if _, serr := os.Stat(c.Path); serr == nil {
			return nil, nil, false, fmt.Errorf("%w: %s", ErrExists, c.Path)
		}
		p, err = create()
	case c.CreateIfMissing:
		if _, serr := os.Stat(c.Path); errors.Is(serr, fs.ErrNotExist) {
			p, err = create()
		} else {
			p, err = obj.Open(c.Path, &o)
		}
	default:
		p, err = obj.Open(c.Path, &o)
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("kv: %w", err)
	}
	field, err := rootField(p)
	if err != nil {
		p.Close()
		return nil, nil, false, err
	}
	return p, field, true, nil
}

// rootField is the OID field at the start of p's root object, which it
// makes if there is none.
func rootField(p *obj.Pool) (*obj.OID, error) {
	ro, err := p.Root(rootSize)
	if err != nil {
		return nil, fmt.Errorf("kv: pool root: %w", err)
	}
	return oidAt(p.Bytes(ro)), nil
}
