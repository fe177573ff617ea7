package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/gopmdk/pmdk/obj"
)

// objPool creates an obj pool, links two objects from its root, one of
// them a typed struct, reopens the pool and walks what it holds.
func objPool(w io.Writer, dir string) error {
	path := filepath.Join(dir, "demo.obj")
	type point struct{ X, Y int64 }
	type root struct {
		Name  obj.OID
		Point obj.Ptr[point]
	}
	opts := &obj.Options{Layout: "gopmdk-demo"}
	p, err := obj.Create(path, obj.MinPoolSize, 0o600, opts)
	if err != nil {
		return err
	}
	rootOID, err := p.Root(64)
	if err != nil {
		p.Close()
		return err
	}
	r, err := obj.PtrTo[root](rootOID).Get(p)
	if err != nil {
		p.Close()
		return err
	}
	// StrdupTo stores the new object's OID into the root atomically with
	// the allocation: after a crash, both or neither.
	if err := p.StrdupTo(&r.Name, "a string in persistent memory", 1); err != nil {
		p.Close()
		return err
	}
	if err := obj.NewTo(p, &r.Point, 2, func(v *point) { v.X, v.Y = 3, 4 }); err != nil {
		p.Close()
		return err
	}
	fmt.Fprintf(w, "created %s (layout %q, heap %d bytes), root with a string and a point\n", path, p.Layout(), p.HeapSize())
	if err := p.Close(); err != nil {
		return err
	}
	if p, err = obj.Open(path, opts); err != nil {
		return err
	}
	defer p.Close()
	rootOID, _ = p.Root(0)
	r, _ = obj.PtrTo[root](rootOID).Get(p)
	v, err := r.Point.Get(p)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "reopened: name %q, point (%d, %d)\n", bytes.TrimRight(p.Bytes(r.Name), "\x00"), v.X, v.Y)
	for oid := range p.Objects() {
		n, _ := p.UsableSize(oid)
		t, _ := p.TypeNum(oid)
		fmt.Fprintf(w, "  object at %#x: type %d, %d usable bytes\n", oid.Off, t, n)
	}
	fmt.Fprintln(w, "obj round trip: ok")
	return nil
}
