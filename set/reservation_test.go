package set_test

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/set"
)

// newReservation reserves size bytes, closed at the end of the test after
// the sets the test closes with defer; closing it checks they left it
// empty.
func newReservation(t *testing.T, size int) *core.Reservation {
	t.Helper()
	r, err := core.NewReservation(nil, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// reservedSet makes a source, a reservation of size bytes and a set with
// page granularity mapping into it, closed at the end of the test in
// the order they must be.
func reservedSet(t *testing.T, size int) (*set.Source, *core.Reservation, *set.Set) {
	t.Helper()
	src := tempSource(t)
	r := newReservation(t, size)
	cfg := pageGran
	cfg.Reservation = r
	s := set.New(cfg)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return src, r, s
}

// at returns the address off bytes into r.
func at(r *core.Reservation, off int) uintptr { return uintptr(unsafe.Add(r.Addr(), off)) }

// TestReservationPlacesParts: without coalescing each part goes to the
// lowest free offset of the set's reservation; a part that fits nowhere
// fails; a removed part's range is reused.
func TestReservationPlacesParts(t *testing.T) {
	src, r, s := reservedSet(t, 4*mib)
	mp := func(off, length int64) (*set.PartMap, error) {
		return s.Map(src, set.MapConfig{Offset: off, Length: length})
	}
	var pms []*set.PartMap
	for i, c := range []struct{ off, length int64 }{{0, mib}, {mib, mib}, {2 * mib, 2 * mib}} {
		pm, err := mp(c.off, c.length)
		if err != nil {
			t.Fatal(err)
		}
		if addr(pm.Bytes()) != at(r, int(c.off)) || len(pm.Bytes()) != int(c.length) {
			t.Fatalf("part %d at %#x, want %#x", i, addr(pm.Bytes()), at(r, int(c.off)))
		}
		pms = append(pms, pm)
	}
	if _, err := mp(4*mib, mib); !errors.Is(err, set.ErrCannotFitPartMap) {
		t.Fatalf("reservation full: %v", err)
	}
	if _, err := mp(0, 1000); !errors.Is(err, core.ErrLengthUnaligned) {
		t.Fatalf("unaligned part: %v", err)
	}
	if err := r.Close(); !errors.Is(err, core.ErrReservationNotEmpty) {
		t.Fatalf("reservation closed under the set: %v", err)
	}
	copy(pms[1].Bytes(), "second")
	if err := s.Persist(pms[1].Bytes()[:6]); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePartMap(pms[1]); err != nil {
		t.Fatal(err)
	}
	if _, _, found := r.Find(mib, mib); found {
		t.Fatal("removed part still holds its range")
	}
	// Too big for the hole: still nowhere.
	if _, err := mp(4*mib, 2*mib); !errors.Is(err, set.ErrCannotFitPartMap) {
		t.Fatalf("part bigger than the hole: %v", err)
	}
	pm, err := mp(mib, mib)
	if err != nil {
		t.Fatal(err)
	}
	if addr(pm.Bytes()) != at(r, mib) || string(pm.Bytes()[:6]) != "second" {
		t.Fatal("part not mapped again into the hole, or its data lost")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, found := r.Find(0, r.Size()); found {
		t.Fatal("set closed, reservation not empty")
	}
}

// TestReservationCoalescing: with coalescing a part goes right after its
// part map when that range of the reservation is free; a range held by
// another mapping (or beyond the reservation) cannot coalesce.
func TestReservationCoalescing(t *testing.T) {
	src, r, s := reservedSet(t, 3*mib)
	if err := s.SetCoalescing(set.CoalescingFull); err != nil {
		t.Fatal(err)
	}
	mp := func(off int64) (*set.PartMap, error) { return s.Map(src, set.MapConfig{Offset: off, Length: mib}) }
	pm, err := mp(0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mp(mib); err != nil || got != pm || pm.Parts() != 2 || addr(pm.Bytes()) != at(r, 0) {
		t.Fatalf("second part not coalesced: %v", err)
	}
	// Another mapping of the reservation holds the range after the part
	// map.
	other, err := core.NewPartsMapIn(r, 2*mib, []core.Part{{Src: src.Core(), Offset: 0, Length: mib}}, &core.Config{RequiredGranularity: core.GranularityPage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mp(2 * mib); !errors.Is(err, set.ErrCannotCoalesce) || !errors.Is(err, core.ErrAddressInUse) {
		t.Fatalf("full coalescing over another mapping: %v", err)
	}
	if err := s.SetCoalescing(set.CoalescingOpportunistic); err != nil {
		t.Fatal(err)
	}
	if _, err := mp(2 * mib); !errors.Is(err, set.ErrCannotFitPartMap) {
		t.Fatalf("opportunistic, reservation full: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := mp(2 * mib); err != nil || got != pm || pm.Parts() != 3 {
		t.Fatalf("range free again, not coalesced: %v", err)
	}
	// Beyond the reservation's end: no coalescing, and no room.
	if err := s.SetCoalescing(set.CoalescingFull); err != nil {
		t.Fatal(err)
	}
	if _, err := mp(3 * mib); !errors.Is(err, set.ErrCannotCoalesce) || strings.Contains(err.Error(), "%!") {
		t.Fatalf("full coalescing past the reservation: %v", err)
	}
	// Removing the middle part splits the part map; the first half stays
	// the previous part map, and the next part coalesces into the hole.
	b := pm.Bytes()
	if err := s.RemoveRange(b[mib : mib+1]); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCoalescing(set.CoalescingOpportunistic); err != nil {
		t.Fatal(err)
	}
	got, err := mp(mib)
	if err != nil {
		t.Fatal(err)
	}
	if got != pm || pm.Parts() != 2 || len(pm.Bytes()) != 2*mib || addr(pm.Bytes()) != at(r, 0) {
		t.Fatal("part not coalesced into the hole")
	}
}
