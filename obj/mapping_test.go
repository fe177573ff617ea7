package obj

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestMapping(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	oid, err := p.Strdup("mapped", 1)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Mapping()
	if int64(len(m)) != p.Size() || cap(m) != len(m) {
		t.Fatalf("mapping of %d bytes (cap %d), pool of %d", len(m), cap(m), p.Size())
	}
	if !bytes.HasPrefix(m, []byte("PMEMOBJ")) {
		t.Errorf("mapping does not start with the pool header: %q", m[:8])
	}
	b := p.Bytes(oid)
	if unsafe.SliceData(b) != &m[oid.Off] {
		t.Errorf("object %v is not at its offset in the mapping", oid)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Mapping() != nil {
		t.Error("mapping after Close is not nil")
	}
}
