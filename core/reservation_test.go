package core_test

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// resPart makes a file of size bytes in dir and a part of all of it.
func resPart(t *testing.T, dir, name string, size int64) core.Part {
	t.Helper()
	f, err := os.OpenFile(dir+"/"+name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return core.Part{Src: src, Length: size}
}

// TestReservation: parts mapped into a reservation land where asked, the
// reservation's rules refuse what libpmem2 refuses, and a closed mapping
// leaves its range reserved, not free.
func TestReservation(t *testing.T) {
	dir := pmemtest.Dir(t)
	a, b := resPart(t, dir, "a", 1<<20), resPart(t, dir, "b", 1<<20)
	page := os.Getpagesize()

	if _, err := core.NewReservation(nil, 8<<20+1); !errors.Is(err, core.ErrLengthUnaligned) {
		t.Fatalf("unaligned size: %v", err)
	}
	if _, err := core.NewReservation(nil, 0); !errors.Is(err, core.ErrLengthUnaligned) {
		t.Fatalf("empty: %v", err)
	}
	r, err := core.NewReservation(nil, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	base := r.Addr()
	if uintptr(base)%(2<<20) != 0 || r.Size() != 8<<20 {
		t.Fatalf("reservation at %p of %d", base, r.Size())
	}
	if _, err := core.NewReservation(unsafe.Add(base, 1), page); !errors.Is(err, core.ErrOffsetUnaligned) {
		t.Fatalf("unaligned address: %v", err)
	}
	if _, err := core.NewReservation(unsafe.Add(base, page), page); !errors.Is(err, core.ErrAddressInUse) {
		t.Fatalf("inside another reservation: %v", err)
	}

	ma, err := core.NewPartsMapIn(r, 0, []core.Part{a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := core.NewPartsMapIn(r, 4<<20, []core.Part{b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.Pointer(&ma.Bytes()[0]) != base || unsafe.Pointer(&mb.Bytes()[0]) != unsafe.Add(base, 4<<20) {
		t.Fatal("parts not at their offsets")
	}
	copy(mb.Bytes()[100:], "in b")
	mb.Persist(mb.Bytes()[100:104])
	if got, _ := os.ReadFile(dir + "/b"); !bytes.Equal(got[100:104], []byte("in b")) {
		t.Fatal("store did not reach the file")
	}
	if s, e, ok := r.Find(512<<10, 4<<20); !ok || s != 0 || e != 1<<20 {
		t.Fatalf("find: %d %d %v", s, e, ok)
	}
	if _, _, ok := r.Find(1<<20, 3<<20); ok {
		t.Fatal("found a mapping in a free range")
	}

	for _, c := range []struct {
		name string
		off  int
		want error
	}{
		{"overlapping the first", 512 << 10, core.ErrAddressInUse},
		{"overlapping the second from below", 4<<20 - page, core.ErrAddressInUse},
		{"unaligned offset", 100, core.ErrOffsetUnaligned},
		{"negative offset", -page, core.ErrOffsetUnaligned},
		{"beyond the end", 8<<20 - page, core.ErrMapRange},
		{"past the end", 16 << 20, core.ErrMapRange},
	} {
		if m, err := core.NewPartsMapIn(r, c.off, []core.Part{a}, nil); !errors.Is(err, c.want) {
			if m != nil {
				m.Close()
			}
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := core.NewPartsMapIn(nil, 0, []core.Part{a}, nil); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("no reservation: %v", err)
	}
	// A mapping that fails after its range was claimed gives it back.
	if m, err := core.NewPartsMapIn(r, 2<<20, []core.Part{a}, &core.Config{RequiredGranularity: core.GranularityByte}); err == nil {
		m.Close() // the platform offers byte granularity for files
	} else if !errors.Is(err, core.ErrGranularityNotSupported) {
		t.Fatal(err)
	}
	if _, _, ok := r.Find(2<<20, 1<<20); ok {
		t.Fatal("failed mapping still holds its range")
	}

	if err := r.Close(); !errors.Is(err, core.ErrReservationNotEmpty) {
		t.Fatalf("close with mappings: %v", err)
	}
	if err := ma.Close(); err != nil {
		t.Fatal(err)
	}
	// The range is reserved again: nobody else may map there, the
	// reservation may.
	if m, err := core.NewPartsMapAt(base, []core.Part{a}, nil); !errors.Is(err, core.ErrAddressInUse) {
		if m != nil {
			m.Close()
		}
		t.Fatalf("range of a closed mapping not reserved: %v", err)
	}
	ma, err = core.NewPartsMapIn(r, 0, []core.Part{a, b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ma.Bytes()[1<<20+100 : 1<<20+104]; !bytes.Equal(got, []byte("in b")) {
		t.Fatalf("second part reads %q", got)
	}
	if _, err := core.NewPartsMapIn(r, 1<<20, []core.Part{a}, nil); !errors.Is(err, core.ErrAddressInUse) {
		t.Fatalf("over a two-part mapping: %v", err)
	}
	if err := errors.Join(ma.Close(), mb.Close()); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := core.NewPartsMapIn(r, 0, []core.Part{a}, nil); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("map into a closed reservation: %v", err)
	}
	// At a given address: the released range can be reserved again.
	r2, err := core.NewReservation(base, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Addr() != base {
		t.Fatalf("at %p, asked %p", r2.Addr(), base)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReservationConcurrent: goroutines map and close parts at
// overlapping offsets of one reservation (run with -race); two mappings
// never hold the same range at once, and the reservation ends empty.
func TestReservationConcurrent(t *testing.T) {
	dir := pmemtest.Dir(t)
	a := resPart(t, dir, "a", 2*int64(os.Getpagesize()))
	r, err := core.NewReservation(nil, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	page := os.Getpagesize()
	var held [8]atomic.Int32 // mappings holding each page
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				p := (g + i) % 7
				m, err := core.NewPartsMapIn(r, p*page, []core.Part{a}, nil)
				if errors.Is(err, core.ErrAddressInUse) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if held[p].Add(1) != 1 || held[p+1].Add(1) != 1 {
					t.Error("two mappings hold one page")
				}
				held[p].Add(-1)
				held[p+1].Add(-1)
				if err := m.Close(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if _, _, found := r.Find(0, r.Size()); found {
		t.Fatal("mappings left in the reservation")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
