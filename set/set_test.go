package set_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/set"
)

const mib = 1 << 20

var pageGran = set.Config{RequiredGranularity: core.GranularityPage}

// recorder keeps the events a set sends, in order.
type recorder struct{ evs []set.Event }

func (r *recorder) on(_ *set.Set, e set.Event) { r.evs = append(r.evs, e) }

func (r *recorder) types() []set.EventType {
	var ts []set.EventType
	for _, e := range r.evs {
		ts = append(ts, e.Type)
	}
	return ts
}

// tempSource makes a source of a nameless file, closed at the end of the
// test (after the sets the test closes with defer).
func tempSource(t *testing.T) *set.Source {
	t.Helper()
	src, err := set.FromTemporary(pmemtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := src.Close(); err != nil {
			t.Error(err)
		}
	})
	return src
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// TestPartsFromFilesAndFDs: parts of a path source (grown to fit) and of
// an open file at an offset; stores across the parts land in both files.
func TestPartsFromFilesAndFDs(t *testing.T) {
	dir := pmemtest.Dir(t)
	a, err := set.FromPath(filepath.Join(dir, "a"), set.FileCreateIfNeeded, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	f, err := os.Create(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(2 * mib); err != nil {
		t.Fatal(err)
	}
	b, err := set.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	s := set.New(pageGran)
	if _, err := s.Granularity(); !errors.Is(err, set.ErrNoPartMapped) {
		t.Fatalf("granularity of an empty set: %v", err)
	}
	if err := s.SetCoalescing(set.CoalescingFull); err != nil {
		t.Fatal(err)
	}
	pm, err := s.Map(a, set.MapConfig{Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "a")); st.Size() != mib {
		t.Fatalf("path source not grown: %d", st.Size())
	}
	pm2, err := s.Map(b, set.MapConfig{Offset: mib, Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if pm2 != pm || pm.Parts() != 2 || len(pm.Bytes()) != 2*mib {
		t.Fatalf("not coalesced: %p %p parts %d len %d", pm, pm2, pm.Parts(), len(pm.Bytes()))
	}
	// A descriptor source never grows.
	if _, err := s.Map(b, set.MapConfig{Offset: 2 * mib, Length: mib}); !errors.Is(err, set.ErrSourceTooSmall) {
		t.Fatalf("fd source beyond its end: %v", err)
	}
	// Nor one opened with FileDoNotGrow.
	c, err := set.FromPath(filepath.Join(dir, "a"), set.FileDoNotGrow, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := s.Map(c, set.MapConfig{Offset: mib, Length: mib}); !errors.Is(err, set.ErrSourceTooSmall) {
		t.Fatalf("do-not-grow source beyond its end: %v", err)
	}
	if _, err := s.Map(c, set.MapConfig{Offset: 100, Length: 4096}); !errors.Is(err, core.ErrLengthUnaligned) {
		t.Fatalf("unaligned offset: %v", err)
	}
	if _, err := set.FromPath(filepath.Join(dir, "x"), set.FileCreateAlways|set.FileCreateIfNeeded, 0o600); !errors.Is(err, set.ErrInvalidFlags) {
		t.Fatalf("both create flags: %v", err)
	}

	msg := []byte("one store across two files")
	dst := pm.Bytes()[mib-7 : mib-7+len(msg)]
	if err := s.Memcpy(dst, msg, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeepFlush(dst); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PartMapAt(&pm.Bytes()[mib+5]); err != nil || got != pm {
		t.Fatalf("part map by address: %v", err)
	}
	if _, err := s.PartMapAt(&msg[0]); !errors.Is(err, set.ErrPartNotFound) {
		t.Fatalf("address outside: %v", err)
	}
	if err := s.Persist(msg); !errors.Is(err, set.ErrOutsideSet) {
		t.Fatalf("persist outside: %v", err)
	}
	if err := a.Close(); !errors.Is(err, set.ErrPartInUse) {
		t.Fatalf("closing a mapped source: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.FirstPartMap() != nil {
		t.Fatal("part maps left after Close")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Reads and writes of a source see the parts' stores.
	got := make([]byte, len(msg)-7)
	if _, err := b.ReadAt(got, mib); err != nil || !bytes.Equal(got, msg[7:]) {
		t.Fatalf("source read %q %v", got, err)
	}
	if _, err := b.WriteAt([]byte("X"), mib); err != nil {
		t.Fatal(err)
	}
	msg[7] = 'X'
	// CreateAlways truncates.
	if err := os.WriteFile(filepath.Join(dir, "c"), msg, 0o600); err != nil {
		t.Fatal(err)
	}
	tr, err := set.FromPath(filepath.Join(dir, "c"), set.FileCreateAlways, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if st, _ := os.Stat(filepath.Join(dir, "c")); st.Size() != 0 {
		t.Fatal("FileCreateAlways kept the content")
	}
	fa, _ := os.ReadFile(filepath.Join(dir, "a"))
	fb, _ := os.ReadFile(filepath.Join(dir, "b"))
	if !bytes.Equal(fa[mib-7:], msg[:7]) || !bytes.Equal(fb[mib:mib+len(msg)-7], msg[7:]) {
		t.Fatal("stores did not reach the files")
	}
}

// TestCoalescing: without coalescing each part is a part map; with it,
// when the addresses after the previous part map are taken, Full fails
// and Opportunistic starts a new part map.
func TestCoalescing(t *testing.T) {
	src := tempSource(t)

	s := set.New(pageGran)
	defer s.Close()
	p1, err := s.Map(src, set.MapConfig{Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Map(src, set.MapConfig{Offset: mib, Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if p1 == p2 || p1.Parts() != 1 || p2.Parts() != 1 {
		t.Fatal("parts coalesced with CoalescingNone")
	}
	if first := s.FirstPartMap(); first == nil || s.NextPartMap(s.NextPartMap(first)) != nil ||
		addr(first.Bytes()) > addr(s.NextPartMap(first).Bytes()) {
		t.Fatal("part maps not listed in address order")
	}

	s2 := set.New(pageGran)
	defer s2.Close()
	if err := s2.SetCoalescing(set.CoalescingFull); err != nil {
		t.Fatal(err)
	}
	q1, err := s2.Map(src, set.MapConfig{Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	// Take the page right after it.
	end := unsafe.Add(unsafe.Pointer(unsafe.SliceData(q1.Bytes())), len(q1.Bytes()))
	blocker, err := unix.MmapPtr(-1, 0, end, 4096, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE)
	if err != nil || blocker != end {
		t.Skipf("cannot take the page after the part map: %v", err)
	}
	defer unix.MunmapPtr(blocker, 4096)
	if _, err := s2.Map(src, set.MapConfig{Offset: mib, Length: mib}); !errors.Is(err, set.ErrCannotCoalesce) {
		t.Fatalf("full coalescing into a taken range: %v", err)
	}
	if err := s2.SetCoalescing(set.CoalescingOpportunistic); err != nil {
		t.Fatal(err)
	}
	q2, err := s2.Map(src, set.MapConfig{Offset: mib, Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if q2 == q1 || q1.Parts() != 1 {
		t.Fatal("opportunistic coalescing into a taken range")
	}
	// The next part extends the new part map, the previous one now.
	q3, err := s2.Map(src, set.MapConfig{Offset: 2 * mib, Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if q3 != q2 || q2.Parts() != 2 {
		t.Fatalf("third part: same part map %v, parts %d", q3 == q2, q2.Parts())
	}
	// A persist inside a part map, across its parts.
	if err := s2.Persist(q2.Bytes()[mib-64 : mib+64]); err != nil {
		t.Fatal(err)
	}
	if err := s2.SetCoalescing(3); err == nil {
		t.Fatal("invalid coalescing value accepted")
	}
}

// TestEventsInOrder: the callback sees every operation, in order, with
// its ranges.
func TestEventsInOrder(t *testing.T) {
	src := tempSource(t)
	var r recorder
	cfg := pageGran
	cfg.OnEvent = r.on
	s := set.New(cfg)
	if err := s.SetCoalescing(set.CoalescingOpportunistic); err != nil {
		t.Fatal(err)
	}
	pm, err := s.Map(src, set.MapConfig{Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Map(src, set.MapConfig{Offset: mib, Length: mib}); err != nil {
		t.Fatal(err)
	}
	b := pm.Bytes()
	if err := s.Memcpy(b[10:20], []byte("0123456789"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Memmove(b[12:22], b[10:20], core.MemNoDrain); err != nil {
		t.Fatal(err)
	}
	if err := s.Memset(b[mib-3:mib+3], 'x', 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(b[:64]); err != nil {
		t.Fatal(err)
	}
	s.Drain()
	if err := s.Persist(b[:64]); err != nil {
		t.Fatal(err)
	}
	if string(b[12:22]) != "0123456789" {
		t.Fatalf("memmove result %q", b[10:22])
	}
	whole := pm.Bytes()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := []set.EventType{set.EventPartAdd, set.EventPartAdd,
		set.EventCopy, set.EventDrain, set.EventMove, set.EventSet, set.EventDrain,
		set.EventFlush, set.EventDrain, set.EventFlush, set.EventDrain, set.EventPartRemove}
	got := r.types()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d is %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
	if e := r.evs[1]; len(e.Dst) != 2*mib || e.Source != src {
		t.Fatalf("second part add: %d bytes, source %p", len(e.Dst), e.Source)
	}
	if e := r.evs[4]; addr(e.Dst) != addr(b[12:]) || addr(e.Src) != addr(b[10:]) || e.Flags != core.MemNoDrain {
		t.Fatal("move event ranges or flags")
	}
	if e := r.evs[5]; e.Value != 'x' || len(e.Dst) != 6 {
		t.Fatal("set event")
	}
	if e := r.evs[11]; addr(e.Dst) != addr(whole) || len(e.Dst) != len(whole) {
		t.Fatal("part remove event range")
	}
}

// TestGranularityRules: a part coarser than required is refused, and all
// parts must share the first one's granularity.
func TestGranularityRules(t *testing.T) {
	src := tempSource(t)
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE")
	strict := set.New(set.Config{RequiredGranularity: core.GranularityCacheLine})
	if _, err := strict.Map(src, set.MapConfig{Length: mib}); !errors.Is(err, set.ErrGranularityNotSupported) {
		t.Fatalf("page part in a cache-line set: %v", err)
	}
	s := set.New(pageGran)
	defer s.Close()
	if _, err := s.Map(src, set.MapConfig{Length: mib}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Granularity(); err != nil || g != core.GranularityPage {
		t.Fatalf("granularity %v %v", g, err)
	}
	t.Setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE")
	if _, err := s.Map(src, set.MapConfig{Offset: mib, Length: mib}); !errors.Is(err, set.ErrGranularityMismatch) {
		t.Fatalf("cache-line part in a page set: %v", err)
	}
	if pm := s.FirstPartMap(); pm == nil || s.NextPartMap(pm) != nil {
		t.Fatal("the refused part stayed mapped")
	}
}

// TestCallbackUsesTheSet: the callback runs unlocked, so it may store
// through the set, as an application persisting its SDS in the set does.
func TestCallbackUsesTheSet(t *testing.T) {
	src := tempSource(t)
	var calls int
	cfg := pageGran
	cfg.OnEvent = func(s *set.Set, e set.Event) {
		if e.Type == set.EventPartAdd {
			calls++
			if err := s.Memcpy(e.Dst[:5], []byte("added"), 0); err != nil {
				t.Error(err)
			}
		}
	}
	s := set.New(cfg)
	defer s.Close()
	pm, err := s.Map(src, set.MapConfig{Length: mib})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || string(pm.Bytes()[:5]) != "added" {
		t.Fatalf("%d calls, %q", calls, pm.Bytes()[:5])
	}
}

// TestRemoveRange: parts overlapping the range go whole; a part map that
// loses its middle splits in two.
func TestRemoveRange(t *testing.T) {
	src := tempSource(t)
	var r recorder
	cfg := pageGran
	cfg.OnEvent = r.on
	s := set.New(cfg)
	defer s.Close()
	if err := s.SetCoalescing(set.CoalescingFull); err != nil {
		t.Fatal(err)
	}
	var pm *set.PartMap
	var err error
	for i := range 3 {
		if pm, err = s.Map(src, set.MapConfig{Offset: int64(i) * mib, Length: mib}); err != nil {
			t.Fatal(err)
		}
	}
	b := pm.Bytes()
	copy(b[2*mib:], "third")
	r.evs = nil
	if err := s.RemoveRange(b[mib+10 : mib+20]); err != nil {
		t.Fatal(err)
	}
	if got := r.types(); len(got) != 1 || got[0] != set.EventRemoveRange {
		t.Fatalf("events %v", got)
	}
	first := s.FirstPartMap()
	second := s.NextPartMap(first)
	if first != pm || first.Parts() != 1 || second == nil || second.Parts() != 1 || s.NextPartMap(second) != nil {
		t.Fatal("part map not split around the removed part")
	}
	if addr(second.Bytes()) != addr(b[2*mib:]) || string(second.Bytes()[:5]) != "third" {
		t.Fatal("second half moved or lost its data")
	}
	if _, err := s.PartMapAt(&b[mib]); !errors.Is(err, set.ErrPartNotFound) {
		t.Fatalf("removed part still found: %v", err)
	}
	if err := s.Persist(b[mib-1 : mib+1]); !errors.Is(err, set.ErrOutsideSet) {
		t.Fatalf("persist into the hole: %v", err)
	}
	first.Drop()
	second.Drop()
	// The hole is mapped again by coalescing onto the first part map.
	if pm2, err := s.Map(src, set.MapConfig{Offset: mib, Length: mib}); err != nil || pm2 != first || first.Parts() != 2 {
		t.Fatalf("refill: %v", err)
	}
	if err := s.RemoveRange(b); err != nil {
		t.Fatal(err)
	}
	if s.FirstPartMap() != nil {
		t.Fatal("parts left after removing the whole range")
	}
}

// TestMapMemory: a caller's maps join the previous part map only where
// they are adjacent, and obey the granularity rules.
func TestMapMemory(t *testing.T) {
	mem, err := unix.Mmap(-1, 0, 4*4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	part := func(from, to int, g core.Granularity) *core.Map {
		return core.NewMemoryMap(mem[from*4096:to*4096], g, core.NewPersister(g, nil), nil)
	}
	s := set.New(set.Config{RequiredGranularity: core.GranularityCacheLine})
	defer s.Close()
	if _, err := s.MapMemory(part(0, 1, core.GranularityPage)); !errors.Is(err, set.ErrGranularityNotSupported) {
		t.Fatalf("page memory in a cache-line set: %v", err)
	}
	if err := s.SetCoalescing(set.CoalescingFull); err != nil {
		t.Fatal(err)
	}
	pm, err := s.MapMemory(part(0, 1, core.GranularityCacheLine))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MapMemory(part(1, 2, core.GranularityByte)); !errors.Is(err, set.ErrGranularityMismatch) {
		t.Fatalf("byte memory after cache-line memory: %v", err)
	}
	if _, err := s.MapMemory(part(2, 3, core.GranularityCacheLine)); !errors.Is(err, set.ErrCannotCoalesce) {
		t.Fatalf("a gap with full coalescing: %v", err)
	}
	if got, err := s.MapMemory(part(1, 2, core.GranularityCacheLine)); err != nil || got != pm || len(pm.Bytes()) != 2*4096 {
		t.Fatalf("adjacent memory: %v", err)
	}
	if err := s.SetCoalescing(set.CoalescingOpportunistic); err != nil {
		t.Fatal(err)
	}
	if got, err := s.MapMemory(part(3, 4, core.GranularityCacheLine)); err != nil || got == pm {
		t.Fatalf("a gap with opportunistic coalescing: %v", err)
	}
}
