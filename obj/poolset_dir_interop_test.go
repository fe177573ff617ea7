package obj

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj/cobj"
)

// TestInteropDirPoolset: an obj pool on a directory poolset that C grew
// (libpmemobj creates an 8 MiB part file, then its heap adds part files
// as allocations need them) opens in Go with every object C allocated
// across the parts; Go allocates in the space C's growth made, and C
// opens the pool again and sees Go's objects. Go grows the pool further
// (TestDirPoolsetGrows) until the directories' sizes are used up.
func TestInteropDirPoolset(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	set := pmemtest.Poolset(t, dir, "d.set", "OPTION SINGLEHDR", "16M {dir}/a", "16M {dir}/b")
	const layoutName = "dir-set"
	c, err := cobj.Create(set, layoutName, 0, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	const cObjs = 12 // 12 MiB: more than the first 8 MiB part holds
	for i := range cObjs {
		if _, err := c.Alloc(1<<20, 7); err != nil {
			t.Fatalf("C alloc %d: %v", i, err)
		}
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(dir, "b", "000001.pmem")); err != nil {
		t.Fatalf("C did not grow the pool into a second part: %v", err)
	}
	p, err := Open(set, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for oid := range p.Objects() {
		if tn, err := p.TypeNum(oid); err == nil && tn == 7 {
			n++
		}
	}
	if n != cObjs {
		t.Fatalf("Go sees %d of C's %d objects", n, cObjs)
	}
	goObjs := 0
	for {
		_, err := p.Alloc(256<<10, 8, nil)
		if errors.Is(err, ErrOutOfMemory) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		goObjs++
	}
	if goObjs == 0 {
		t.Fatal("Go allocated nothing in the grown pool")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if seen := cCountType(t, set, layoutName, 8); seen != goObjs {
		t.Fatalf("C sees %d of Go's %d objects", seen, goObjs)
	}
}

// TestInteropGoDirPoolsetGrownByC: an obj pool Go creates on a directory
// poolset (one 8 MiB part file) opens in C, which grows it into a new
// part file as it allocates; Go opens the grown pool with C's objects.
func TestInteropGoDirPoolsetGrownByC(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	if err := os.Mkdir(filepath.Join(dir, "a"), 0o700); err != nil {
		t.Fatal(err)
	}
	set := pmemtest.Poolset(t, dir, "d.set", "OPTION SINGLEHDR", "24M {dir}/a")
	const layoutName = "go-dir-set"
	p, err := Create(set, 0, 0o600, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := cobj.Open(set, layoutName)
	if err != nil {
		t.Fatal(err)
	}
	const cObjs = 10
	for i := range cObjs {
		if _, err := c.Alloc(1<<20, 9); err != nil {
			t.Fatalf("C alloc %d: %v", i, err)
		}
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(dir, "a", "000001.pmem")); err != nil {
		t.Fatalf("C did not grow Go's pool: %v", err)
	}
	p, err = Open(set, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	n := 0
	for oid := range p.Objects() {
		if tn, err := p.TypeNum(oid); err == nil && tn == 9 {
			n++
		}
	}
	if n != cObjs {
		t.Fatalf("Go sees %d of C's %d objects", n, cObjs)
	}
}
