package set_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/set"
)

// TestPartMapReferences: FirstPartMap, NextPartMap and PartMapAt take
// references; a part map referenced by others is not removed (and a
// RemoveRange over it removes nothing), Drop gives references back, Close
// removes referenced part maps too.
func TestPartMapReferences(t *testing.T) {
	src := tempSource(t)
	s := set.New(pageGran)
	defer s.Close()
	pm1, err := s.Map(src, set.MapConfig{Offset: 0, Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	pm2, err := s.Map(src, set.MapConfig{Offset: mib, Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if pm1.Refs() != 0 || pm2.Refs() != 0 {
		t.Fatal("Map took a reference")
	}
	lo, hi := pm1, pm2
	if addr(hi.Bytes()) < addr(lo.Bytes()) {
		lo, hi = hi, lo
	}
	first := s.FirstPartMap()
	next := s.NextPartMap(first)
	if first != lo || next != hi || s.NextPartMap(next) != nil || lo.Refs() != 1 || hi.Refs() != 1 {
		t.Fatalf("walk: refs %d %d", lo.Refs(), hi.Refs())
	}
	byAddr, err := s.PartMapAt(&lo.Bytes()[5])
	if err != nil || byAddr != lo || lo.Refs() != 2 {
		t.Fatalf("by address: %v, refs %d", err, lo.Refs())
	}
	if err := s.RemovePartMap(lo); !errors.Is(err, set.ErrPartMapInUse) {
		t.Fatalf("remove with two references: %v", err)
	}
	for _, b := range [][]byte{lo.Bytes()[:1], hi.Bytes()[:1]} {
		if err := s.RemoveRange(b); !errors.Is(err, set.ErrPartMapInUse) {
			t.Fatalf("remove range over a referenced part map: %v", err)
		}
	}
	if f := s.FirstPartMap(); f != lo || s.NextPartMap(f) != hi {
		t.Fatal("referenced part maps removed")
	}
	lo.Drop()
	hi.Drop()
	byAddr.Drop()
	// The caller's own reference does not keep the part map.
	if lo.Refs() != 1 {
		t.Fatalf("refs %d", lo.Refs())
	}
	if err := s.RemovePartMap(lo); err != nil {
		t.Fatal(err)
	}
	first.Drop() // removed with the part map: nothing to give back
	if lo.Refs() != 0 {
		t.Fatal("removed part map keeps references")
	}
	// A removed part map still leads to the next one.
	if n := s.NextPartMap(lo); n != hi || hi.Refs() != 2 {
		t.Fatalf("next after a removed part map: refs %d", hi.Refs())
	}
	hi.Drop()
	next.Drop()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Drop without a reference did not panic")
			}
		}()
		hi.Drop()
	}()
	if hi.Refs() != 0 {
		t.Fatalf("refs %d after a refused Drop", hi.Refs())
	}
	if err := s.RemoveRange(hi.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Close removes part maps whatever their references.
	if _, err := s.Map(src, set.MapConfig{Length: mib}); err != nil {
		t.Fatal(err)
	}
	s.FirstPartMap()
	s.FirstPartMap()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.FirstPartMap() != nil {
		t.Fatal("Close left a referenced part map")
	}
}

// TestPartMapReferencesConcurrent: goroutines walk the set taking and
// dropping references while parts are mapped and removed (run with
// -race); removal refused for references is retried.
func TestPartMapReferencesConcurrent(t *testing.T) {
	src := tempSource(t)
	s := set.New(pageGran)
	defer s.Close()
	if _, err := s.Map(src, set.MapConfig{Length: mib}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for pm := s.FirstPartMap(); pm != nil; {
					n := s.NextPartMap(pm)
					_ = pm.Parts()
					pm.Drop()
					pm = n
				}
			}
		}()
	}
	for i := range 50 {
		pm, err := s.Map(src, set.MapConfig{Offset: int64(1+i%3) * mib, Length: mib})
		if err != nil {
			t.Fatal(err)
		}
		for {
			err := s.RemovePartMap(pm)
			if err == nil {
				break
			}
			if !errors.Is(err, set.ErrPartMapInUse) {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
}
