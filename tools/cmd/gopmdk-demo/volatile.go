package main

import (
	"fmt"
	"io"

	"github.com/gopmdk/pmdk/vmem"
	"github.com/gopmdk/pmdk/vmem/vmemcache"
)

// volatileMemory makes a vmem pool and a vmemcache on files in dir (both
// unlinked at once: volatile memory backed by the file system, off the Go
// heap), allocates and caches a little, and reads it back.
func volatileMemory(w io.Writer, dir string) error {
	p, err := vmem.Create(dir, vmem.MinPoolSize, nil)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := p.Strdup("a string in a vmem pool")
	if err != nil {
		return err
	}
	type pair struct{ A, B int64 }
	v, err := vmem.New[pair](p)
	if err != nil {
		return err
	}
	v.A, v.B = 6, 7
	st, err := p.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "vmem pool of %d bytes: %q and a pair (%d, %d); %d allocations, %d bytes\n",
		p.Size(), s, v.A, v.B, st.Allocations, st.Allocated)
	if err := p.Free(s); err != nil {
		return err
	}

	c, err := vmemcache.New(dir, &vmemcache.Options{Size: vmemcache.MinSize})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Put([]byte("key"), []byte("a value cached off the Go heap")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, size, err := c.Get([]byte("key"), buf, 0)
	if err != nil {
		return err
	}
	_, _, missErr := c.Get([]byte("other"), buf, 0)
	cs := c.Stats()
	fmt.Fprintf(w, "vmemcache of %d bytes: %q (%d bytes); a missing key: %v; %d hit, %d miss\n",
		c.Size(), buf[:n], size, missErr, cs.Hits, cs.Misses)
	return nil
}
