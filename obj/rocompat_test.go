package obj_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj"
)

// An unknown ro_compat feature allows reading the pool only: Open refuses
// it read-write, as C's pmemobj_open does, and opens it read-only.
func TestOpenUnknownROCompat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pool")
	p, err := obj.Create(path, obj.MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, pool.HeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	h, _ := pool.DecodeHeader(b)
	h.ROCompat |= 0x10
	h.Encode(b)
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if p, err := obj.Open(path, nil); !errors.Is(err, obj.ErrReadOnly) {
		if err == nil {
			p.Close()
		}
		t.Fatalf("Open read-write: %v, want ErrReadOnly", err)
	}
	o := obj.Options{}
	o.ReadOnly = true
	p, err = obj.Open(path, &o)
	if err != nil {
		t.Fatalf("Open read-only: %v", err)
	}
	if !p.ReadOnly() {
		t.Error("pool not read-only")
	}
	p.Close()
}
