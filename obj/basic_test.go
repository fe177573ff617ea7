package obj

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestBasicAllocFreeReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pool")
	p, err := Create(path, 16<<20, 0o600, &Options{Layout: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	root, err := p.Root(64)
	if err != nil {
		t.Fatal(err)
	}
	var oids []OID
	for i, size := range []int{1, 64, 100, 4096, 300000, 1 << 20, 3 << 20} {
		oid, err := p.Alloc(size, uint64(i+1), func(b []byte) error {
			for j := range b {
				b[j] = byte(i)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("alloc %d: %v", size, err)
		}
		us, _ := p.UsableSize(oid)
		if us < size {
			t.Fatalf("usable %d < %d", us, size)
		}
		oids = append(oids, oid)
	}
	if err := p.Free(oids[2]); err != nil {
		t.Fatal(err)
	}
	if err := p.Free(oids[2]); !errors.Is(err, ErrInvalidOID) {
		t.Fatalf("double free: %v", err)
	}
	var n int
	for range p.Objects() {
		n++
	}
	if n != 6 {
		t.Fatalf("objects %d", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p, err = Open(path, &Options{Layout: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r2, err := p.Root(0)
	if err != nil || r2 != root {
		t.Fatalf("root %v %v", r2, err)
	}
	var got []OID
	for o := range p.Objects() {
		got = append(got, o)
		tn, _ := p.TypeNum(o)
		b := p.Bytes(o)
		if !bytes.Equal(b, bytes.Repeat([]byte{byte(tn - 1)}, len(b))) {
			t.Fatalf("object %v type %d contents differ", o, tn)
		}
	}
	if len(got) != 6 {
		t.Fatalf("after reopen %d objects", len(got))
	}
	if _, err := Open(path, &Options{Layout: "other"}); err == nil {
		t.Fatal("second open succeeded")
	}
}
