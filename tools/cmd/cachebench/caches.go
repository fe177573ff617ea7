package main

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/allegro/bigcache/v3"
	"github.com/dgraph-io/ristretto/v2"

	"github.com/gopmdk/pmdk/vmem/vmemcache"
)

// cache is what the scenarios ask of each contender: the operations a
// user of a byte cache needs, each in that cache's cheapest correct way.
type cache interface {
	// get copies or returns the value of key; buf may be used for it.
	get(key string, buf []byte) bool
	// put stores value (owned by the caller afterwards) under key, which
	// the caller guarantees is not in the cache.
	put(key string, value []byte)
	close()
}

var cacheNames = []string{"vmemcache", "bigcache", "ristretto"}

// newCache builds the named cache of size bytes for entries of about
// entrySize bytes, its file (vmemcache) in dir.
func newCache(name, dir string, size int64, entrySize int) (cache, error) {
	entries := int(size) / entrySize
	switch name {
	case "vmemcache":
		c, err := vmemcache.New(dir, &vmemcache.Options{Size: size})
		if err != nil {
			return nil, err
		}
		return vmem{c}, nil
	case "bigcache":
		cfg := bigcache.DefaultConfig(time.Hour)
		cfg.CleanWindow = 0
		cfg.HardMaxCacheSize = int(size >> 20)
		cfg.MaxEntrySize = entrySize
		cfg.MaxEntriesInWindow = entries
		cfg.Verbose = false
		c, err := bigcache.New(context.Background(), cfg)
		if err != nil {
			return nil, err
		}
		return big{c}, nil
	case "ristretto":
		c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
			NumCounters: int64(entries) * 10,
			MaxCost:     size,
			BufferItems: 64,
		})
		if err != nil {
			return nil, err
		}
		return rist{c}, nil
	}
	return nil, fmt.Errorf("unknown cache %q", name)
}

// bytesOf views s without copying; vmemcache only reads keys.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

type vmem struct{ c *vmemcache.Cache }

func (v vmem) get(key string, buf []byte) bool {
	_, _, err := v.c.Get(bytesOf(key), buf, 0)
	return err == nil
}

func (v vmem) put(key string, value []byte) { v.c.Put(bytesOf(key), value) }
func (v vmem) close()                       { v.c.Close() }

type big struct{ c *bigcache.BigCache }

func (b big) get(key string, _ []byte) bool {
	_, err := b.c.Get(key)
	return err == nil
}

func (b big) put(key string, value []byte) { b.c.Set(key, value) }
func (b big) close()                       { b.c.Close() }

type rist struct {
	c *ristretto.Cache[string, []byte]
}

// get copies the value out: ristretto returns the slice it holds, and a
// get is only useful if the caller reads the bytes, which the copy does
// (bigcache's Get returns a new copy, vmemcache copies into buf).
func (r rist) get(key string, buf []byte) bool {
	v, ok := r.c.Get(key)
	copy(buf, v)
	return ok
}

// put gives ristretto a copy: it keeps the slice it is given.
func (r rist) put(key string, value []byte) {
	r.c.Set(key, append([]byte(nil), value...), int64(len(key)+len(value)))
}

func (r rist) close() { r.c.Close() }

// settle lets a cache with asynchronous sets (ristretto) apply them.
func settle(c cache) {
	if r, ok := c.(rist); ok {
		r.c.Wait()
	}
}
