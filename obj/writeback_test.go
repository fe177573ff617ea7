package obj_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
)

// TestWriteBackFailure breaks, one at a time, the write-back of each page
// an allocation into a pool-resident OID writes (the run's bitmap, the
// object's header, the root holding the OID, the lane's log), on a
// page-cache pool: msync fails for real. The allocation returns
// core.ErrPersist, every later change is refused with it, Close returns
// it, and the reopened file holds the pool as before the allocation or as
// after it, whole, and passes the checker.
func TestWriteBackFailure(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE")
	page := os.Getpagesize()
	path := pmemtest.Path(t, "image")
	p, err := obj.Create(path, obj.MinPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Root(64); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	image, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T) (*obj.Pool, *core.Map, string, *[2]obj.OID) {
		m, path := pmemtest.MapImage(t, image)
		p, err := obj.OpenOnMap(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		r, _ := p.Root(0)
		slots, err := obj.PtrTo[[2]obj.OID](r).Get(p)
		if err != nil {
			t.Fatal(err)
		}
		return p, m, path, slots
	}
	p, m, _, slots := open(t)
	pages := pmemtest.PagesWritten(t, m.Bytes(), func() error { return p.AllocTo(&slots[0], 100, 1, nil) })
	if len(pages) < 2 {
		t.Fatalf("an allocation changed pages %v, want the log's and the heap's (bitmap, header, root)", pages)
	}
	for _, pg := range pages {
		t.Run(fmt.Sprintf("page%d", pg), func(t *testing.T) {
			p, m, path, slots := open(t)
			pmemtest.BreakWriteBack(t, m.Bytes()[pg*page:(pg+1)*page])
			if err := p.AllocTo(&slots[0], 100, 1, nil); !errors.Is(err, core.ErrPersist) {
				t.Fatalf("AllocTo: %v, want core.ErrPersist", err)
			}
			_, errAlloc := p.Alloc(8, 1, nil)
			_, errZalloc := p.Zalloc(5000, 1)
			_, errRoot := p.Root(4096)
			for name, err := range map[string]error{"Alloc": errAlloc, "Zalloc": errZalloc, "Root": errRoot} {
				if !errors.Is(err, core.ErrPersist) {
					t.Errorf("%s after the failure: %v, want core.ErrPersist", name, err)
				}
			}
			if err := p.Close(); !errors.Is(err, core.ErrPersist) {
				t.Fatalf("Close: %v, want core.ErrPersist", err)
			}
			p, err := obj.Open(path, nil)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer p.Close()
			if probs := p.Check(); len(probs) > 0 {
				t.Fatal(errors.Join(probs...))
			}
			r, _ := p.Root(0)
			s, _ := obj.PtrTo[[2]obj.OID](r).Get(p)
			objs := slices.Collect(p.Objects())
			switch {
			case s[0].IsNull() && len(objs) == 0: // before
			case !s[0].IsNull() && len(objs) == 1 && objs[0] == s[0]: // after
			default:
				t.Fatalf("slot %v, objects %v: neither before nor after the allocation", s[0], objs)
			}
		})
	}
}
