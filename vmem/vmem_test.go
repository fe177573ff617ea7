package vmem

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"golang.org/x/sys/unix"
)

func TestCreateSizeLimits(t *testing.T) {
	dir := pmemtest.Dir(t)
	if _, err := Create(dir, MinPoolSize-1, nil); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("Create under MinPoolSize: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "missing"), MinPoolSize, nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Create in a missing directory: %v", err)
	}
	p, err := Create(dir, MinPoolSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The pool's file has no name in dir.
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("directory holds %v (%v)", ents, err)
	}
	if p.Size() != MinPoolSize {
		t.Fatalf("size %d", p.Size())
	}
	b, err := p.Malloc(MinPoolSize / 2)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 1
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Malloc(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Malloc after Close: %v", err)
	}
	if _, err := p.Check(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Check after Close: %v", err)
	}

	region := mmapAnon(t, MinPoolSize+pageSize)
	if _, err := CreateInRegion(region[:MinPoolSize-1], nil); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("CreateInRegion under MinPoolSize: %v", err)
	}
	if _, err := CreateInRegion(region[1:], nil); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("CreateInRegion unaligned: %v", err)
	}
}

func mmapAnon(t testing.TB, n int) []byte {
	m, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	return m
}

func TestRegionPools(t *testing.T) {
	// An anonymous private region, and a shared mapping of a file (where
	// releasing free extents works).
	f, err := os.CreateTemp(pmemtest.Dir(t), "region")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 16 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	shared, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(shared)
	for name, region := range map[string][]byte{"anonymous": mmapAnon(t, size), "file": shared} {
		p, err := CreateInRegion(region, &Options{RetainFree: -1})
		if err != nil {
			t.Fatal(err)
		}
		lives := exercise(t, p, rand.New(rand.NewPCG(7, 7)), 3000, 200, 1<<20)
		lo, hi := addr(region), addr(region)+uintptr(len(region))
		for _, l := range lives {
			if a := addr(l.b); a < lo || a+uintptr(cap(l.b)) > hi {
				t.Fatalf("%s: allocation at %#x outside the region", name, a)
			}
		}
		noOverlap(t, lives)
		checkPool(t, p)
		for _, l := range lives {
			p.Free(l.b)
		}
		checkPool(t, p)
		st, _ := p.Stats()
		t.Logf("%s region: released %d of %d free bytes", name, st.Released, st.Free)
		if st.Resident != -1 {
			t.Fatalf("%s: resident %d for a region pool", name, st.Resident)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		region[len(region)-1] = 1 // still mapped
	}
}

func TestReleaseToFile(t *testing.T) {
	p := newTestPool(t, 32<<20, &Options{RetainFree: 1 << 20})
	st0, _ := p.Stats()
	var bs [][]byte
	for range 4 {
		b, err := p.Malloc(4 << 20)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			b[i] = 0xa5
		}
		bs = append(bs, b)
	}
	for _, b := range bs {
		if err := p.Free(b); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := p.Stats()
	t.Logf("resident before %d, after freeing 16 MiB %d; released %d of %d free", st0.Resident, st.Resident, st.Released, st.Free)
	if st.Released < st.Free-int64(p.heap.dirtyLimit+minRelease)*pageSize {
		t.Fatalf("released %d of %d free bytes", st.Released, st.Free)
	}
	if st.Resident > st0.Resident-12<<20 {
		t.Fatalf("file holds %d bytes after freeing 16 MiB (%d before)", st.Resident, st0.Resident)
	}
	// Released pages come back zeroed and usable.
	b, err := p.Malloc(8 << 20)
	if err != nil {
		t.Fatal(err)
	}
	b[0], b[len(b)-1] = 1, 1
	checkPool(t, p)
}

func TestOutOfMemory(t *testing.T) {
	// One P, so that draining the caller's cache drains them all.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := newTestPool(t, MinPoolSize, nil)
	var bs [][]byte
	for _, n := range []int{64, 4096, 100 << 10} {
		for {
			b, err := p.Malloc(n)
			if err != nil {
				if !errors.Is(err, ErrNoMem) {
					t.Fatal(err)
				}
				break
			}
			bs = append(bs, b)
		}
	}
	if _, err := p.Malloc(MinPoolSize + 1); !errors.Is(err, ErrNoMem) {
		t.Fatalf("Malloc over the pool: %v", err)
	}
	if _, err := p.Calloc(1<<40, 1<<40); !errors.Is(err, ErrNoMem) {
		t.Fatalf("Calloc overflowing: %v", err)
	}
	if _, err := p.AlignedAlloc(3, 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("AlignedAlloc at 3: %v", err)
	}
	st, _ := p.Stats()
	t.Logf("full pool: %d allocations, %d bytes allocated of %d", st.Allocations, st.Allocated, st.Size)
	if st.Allocated < st.Size*9/10 {
		t.Fatalf("pool full at %d of %d bytes", st.Allocated, st.Size)
	}
	checkPool(t, p)
	for _, b := range bs {
		if err := p.Free(b); err != nil {
			t.Fatal(err)
		}
	}
	// Everything freed: one allocation of nearly the whole pool fits
	// again (the caches and empty slabs are given back on the way).
	b, err := p.Malloc(MinPoolSize - 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	p.Free(b)
	checkPool(t, p)
}

func TestFreeErrors(t *testing.T) {
	p := newTestPool(t, 16<<20, nil)
	if err := p.Free(make([]byte, 10)); !errors.Is(err, ErrNotAllocated) {
		t.Fatalf("Free of Go memory: %v", err)
	}
	if err := p.Free(nil); err != nil {
		t.Fatalf("Free(nil): %v", err)
	}
	small, _ := p.Malloc(100)
	large, _ := p.Malloc(100 << 10)
	for _, b := range [][]byte{small[1:], large[4096:], large[1:]} {
		if err := p.Free(b); !errors.Is(err, ErrNotAllocated) {
			t.Fatalf("Free inside an allocation: %v", err)
		}
		if _, err := p.UsableSize(b); !errors.Is(err, ErrNotAllocated) {
			t.Fatalf("UsableSize inside an allocation: %v", err)
		}
	}
	if err := p.Free(large); err != nil {
		t.Fatal(err)
	}
	if err := p.Free(large); !errors.Is(err, ErrNotAllocated) {
		t.Fatalf("double Free of a large allocation: %v", err)
	}
	if _, err := p.Realloc(large, 10); !errors.Is(err, ErrNotAllocated) {
		t.Fatalf("Realloc of a freed allocation: %v", err)
	}
	// A small double free reaches the slab when the cache drains; Check
	// reports it.
	if err := p.Free(small[:0]); err != nil {
		t.Fatal(err)
	}
	p.Free(small)
	p.drainCache()
	problems, err := p.Check()
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].Error(), "freed twice") {
		t.Fatalf("Check after a double free: %v, %v", problems, err)
	}
}

func TestZeroSizeAndRealloc(t *testing.T) {
	p := newTestPool(t, 16<<20, nil)
	a, _ := p.Malloc(0)
	b, _ := p.Malloc(0)
	if len(a) != 0 || cap(a) == 0 || addr(a) == addr(b) {
		t.Fatalf("zero-size allocations: %#x cap %d, %#x", addr(a), cap(a), addr(b))
	}
	c, err := p.Realloc(nil, 50)
	if err != nil || len(c) != 50 {
		t.Fatal(c, err)
	}
	copy(c, "hello")
	// Same class: in place.
	d, _ := p.Realloc(c, 60)
	if addr(d) != addr(c) || string(d[:5]) != "hello" {
		t.Fatal("realloc within the class moved")
	}
	// Large: shrink and grow in place when the neighbour is free.
	l, _ := p.Malloc(1 << 20)
	l[0] = 7
	l2, _ := p.Realloc(l, 512<<10)
	l3, _ := p.Realloc(l2, 2<<20)
	if addr(l2) != addr(l) || addr(l3) != addr(l) || l3[0] != 7 || cap(l3) != 2<<20 {
		t.Fatalf("large realloc: %#x %#x %#x cap %d", addr(l), addr(l2), addr(l3), cap(l3))
	}
	if r, err := p.Realloc(l3, 0); r != nil || err != nil {
		t.Fatal(r, err)
	}
	for _, x := range [][]byte{a, b, d} {
		if err := p.Free(x); err != nil {
			t.Fatal(err)
		}
	}
	checkPool(t, p)
	statsMatch(t, p, nil)
}

func TestStrdup(t *testing.T) {
	p := newTestPool(t, 16<<20, nil)
	s, err := p.Strdup("hello, world")
	if err != nil {
		t.Fatal(err)
	}
	if string(s) != "hello, world" || s[:len(s)+1][len(s)] != 0 {
		t.Fatalf("Strdup: %q", s[:len(s)+1])
	}
	if err := p.Free(s); err != nil {
		t.Fatal(err)
	}
}

type point struct {
	X, Y int64
	Tag  [3]uint16
}

type aligned64 struct {
	_ [0]uint64
	V [64]byte
}

func TestTyped(t *testing.T) {
	p := newTestPool(t, 16<<20, nil)
	pt, err := New[point](p)
	if err != nil || *pt != (point{}) {
		t.Fatal(pt, err)
	}
	pt.X = 3
	ps, err := NewSlice[point](p, 1000)
	if err != nil || len(ps) != 1000 || ps[999] != (point{}) {
		t.Fatal(err)
	}
	ps[999].Y = 4
	if _, err := New[aligned64](p); err != nil {
		t.Fatal(err)
	}
	type withPtr struct {
		A int
		B struct{ C []int }
	}
	for _, err := range []error{
		func() error { _, err := New[withPtr](p); return err }(),
		func() error { _, err := New[string](p); return err }(),
		func() error { _, err := NewSlice[*int](p, 2); return err }(),
		func() error { _, err := New[[2]uintptr](p); return err }(),
		func() error { _, err := New[unsafe.Pointer](p); return err }(),
	} {
		if !errors.Is(err, ErrNotPointerFree) {
			t.Fatalf("pointerful type: %v", err)
		}
	}
	_, err = New[withPtr](p)
	if !strings.Contains(err.Error(), ".B.C slice") {
		t.Fatalf("error does not name the field: %v", err)
	}
	empty, err := NewSlice[point](p, 0)
	if err != nil || len(empty) != 0 || FreeSlice(p, empty) != nil {
		t.Fatalf("NewSlice of 0: %v", err)
	}
	if err := FreeValue(p, pt); err != nil {
		t.Fatal(err)
	}
	if err := FreeSlice(p, ps); err != nil {
		t.Fatal(err)
	}
	checkPool(t, p)
}

func TestWriteStats(t *testing.T) {
	p := newTestPool(t, 16<<20, nil)
	b, _ := p.Malloc(100)
	l, _ := p.Malloc(1 << 20)
	var full, brief bytes.Buffer
	if err := p.WriteStats(&full, ""); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteStats(&brief, "gbl"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pool size: 16777216", "allocated: 1048688 bytes in 2 allocations", "     112 ", "large: 1 allocs"} {
		if !strings.Contains(full.String(), want) {
			t.Errorf("stats lack %q:\n%s", want, full.String())
		}
	}
	for _, absent := range []string{"pool size", "     112 ", "large:"} {
		if strings.Contains(brief.String(), absent) {
			t.Errorf("stats with gbl hold %q:\n%s", absent, brief.String())
		}
	}
	p.Free(b)
	p.Free(l)
}
