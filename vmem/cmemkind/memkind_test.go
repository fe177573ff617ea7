package cmemkind

import (
	"errors"
	"os"
	"testing"
)

func TestKind(t *testing.T) {
	dir := t.TempDir()
	k, err := Create(dir, MinSize)
	if !Available {
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Create without the peer: %v", err)
		}
		t.Skip("built without the cpeer tag")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer k.Destroy()
	a := k.Malloc(100)
	if a == 0 {
		t.Fatal("memkind_malloc failed")
	}
	k.Free(a)
	if err := k.MallocFreeN(64, 1000); err != nil {
		t.Fatal(err)
	}
	if err := k.MixedN([]uint32{16, 4096, 100 << 10}, 16, 1000); err != nil {
		t.Fatal(err)
	}
	// Far more than the kind holds: an error, not a crash.
	if err := k.MallocFreeN(2*MinSize, 1); err == nil {
		t.Fatal("allocation over the kind's size succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("memkind left %d names in its directory", len(ents))
	}
}
