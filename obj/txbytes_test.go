package obj

import (
	"errors"
	"testing"
)

// Tx.Bytes sees the objects the transaction allocated, which Pool.Bytes
// does not until the commit; a bad OID is an error that does not abort.
func TestTxBytes(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	var oid OID
	err := p.Tx(func(tx *Tx) error {
		var err error
		if oid, err = tx.Alloc(100, 1); err != nil {
			return err
		}
		if p.Bytes(oid) != nil {
			t.Error("Pool.Bytes sees an object before its commit")
		}
		b, err := tx.Bytes(oid)
		if err != nil || len(b) < 100 {
			t.Fatalf("Tx.Bytes: %d bytes, %v", len(b), err)
		}
		b[99] = 7
		if _, err := tx.Bytes(OID{p.UUIDLo(), oid.Off + 1}); !errors.Is(err, ErrInvalidOID) {
			t.Errorf("Tx.Bytes of a bad OID: %v", err)
		}
		return nil // the transaction goes on and commits
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Bytes(oid); len(b) < 100 || b[99] != 7 {
		t.Fatalf("after commit: %d bytes", len(b))
	}
}

func TestPointerFree(t *testing.T) {
	type ok struct {
		A [2]uint64
		P Ptr[int64]
	}
	type bad struct {
		A int
		S []byte
	}
	if err := PointerFree[ok](); err != nil {
		t.Error(err)
	}
	if err := PointerFree[bad](); !errors.Is(err, ErrNotPointerFree) {
		t.Errorf("%v, want ErrNotPointerFree", err)
	}
}
