package vmem

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// A live allocation of the model: its slice, and the byte it is filled
// with.
type live struct {
	b    []byte
	fill byte
	size int
}

// randomSize draws a size from a mix: mostly small, some page-sized, a few
// large ones.
func randomSize(r *rand.Rand, maxLarge int) int {
	switch x := r.IntN(100); {
	case x < 60:
		return r.IntN(257)
	case x < 85:
		return 256 + r.IntN(8<<10)
	case x < 97:
		return 8<<10 + r.IntN(56<<10)
	default:
		return 64<<10 + r.IntN(maxLarge)
	}
}

// exercise runs ops random malloc/calloc/aligned/realloc/free calls
// against a model, checking contents, alignment and usable sizes; it
// returns the allocations still live.
func exercise(t testing.TB, p *Pool, r *rand.Rand, ops, maxLive, maxLarge int) []live {
	var lives []live
	verify := func(l live) {
		for i, c := range l.b[:l.size] {
			if c != l.fill {
				t.Fatalf("allocation at %#x (%d bytes): byte %d is %#x, want %#x", addr(l.b), l.size, i, c, l.fill)
			}
		}
	}
	fill := func(b []byte, c byte) {
		for i := range b {
			b[i] = c
		}
	}
	for op := range ops {
		switch x := r.IntN(10); {
		case len(lives) > 0 && (x < 3 || len(lives) >= maxLive):
			i := r.IntN(len(lives))
			verify(lives[i])
			if err := p.Free(lives[i].b); err != nil {
				t.Fatal(err)
			}
			lives[i] = lives[len(lives)-1]
			lives = lives[:len(lives)-1]
		case len(lives) > 0 && x < 5:
			i := r.IntN(len(lives))
			l := lives[i]
			n := randomSize(r, maxLarge)
			nb, err := p.Realloc(l.b, n)
			if errors.Is(err, ErrNoMem) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			keep := min(l.size, n)
			for j, c := range nb[:keep] {
				if c != l.fill {
					t.Fatalf("realloc %d→%d bytes: byte %d is %#x, want %#x", l.size, n, j, c, l.fill)
				}
			}
			if n == 0 {
				lives[i] = lives[len(lives)-1]
				lives = lives[:len(lives)-1]
				continue
			}
			c := byte(op)
			fill(nb, c)
			lives[i] = live{nb, c, n}
		default:
			n := randomSize(r, maxLarge)
			var b []byte
			var err error
			align := 16
			switch r.IntN(4) {
			case 0:
				b, err = p.Calloc(1+r.IntN(4), n/4)
				if err == nil {
					n = len(b)
					for j, c := range b {
						if c != 0 {
							t.Fatalf("calloc %d bytes: byte %d is %#x", n, j, c)
						}
					}
				}
			case 1:
				align = 1 << r.IntN(16)
				b, err = p.AlignedAlloc(align, n)
			default:
				b, err = p.Malloc(n)
			}
			if errors.Is(err, ErrNoMem) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != n || cap(b) < max(n, 1) {
				t.Fatalf("allocation of %d bytes: len %d cap %d", n, len(b), cap(b))
			}
			if a := addr(b); a%uintptr(max(align, 16)) != 0 {
				t.Fatalf("allocation of %d bytes at %d: address %#x", n, align, a)
			}
			if u, err := p.UsableSize(b); err != nil || u != cap(b) {
				t.Fatalf("usable size %d, %v; cap %d", u, err, cap(b))
			}
			c := byte(op)
			fill(b[:cap(b)], c^0xff) // the whole usable size is ours
			fill(b, c)
			lives = append(lives, live{b, c, n})
		}
	}
	for _, l := range lives {
		verify(l)
	}
	return lives
}

// noOverlap fails when two live allocations share a byte.
func noOverlap(t testing.TB, lives []live) {
	s := slices.Clone(lives)
	slices.SortFunc(s, func(a, b live) int { return int(addr(a.b)) - int(addr(b.b)) })
	for i := 1; i < len(s); i++ {
		if addr(s[i-1].b)+uintptr(cap(s[i-1].b)) > addr(s[i].b) {
			t.Fatalf("allocations at %#x (cap %d) and %#x overlap", addr(s[i-1].b), cap(s[i-1].b), addr(s[i].b))
		}
	}
}

func TestRandomAgainstModel(t *testing.T) {
	for seed := range uint64(4) {
		p := newTestPool(t, 16<<20, &Options{RetainFree: int64(seed) * (1 << 20)})
		r := rand.New(rand.NewPCG(seed, 1))
		lives := exercise(t, p, r, 20000, 400, 512<<10)
		noOverlap(t, lives)
		checkPool(t, p)
		statsMatch(t, p, lives)
		for _, l := range lives {
			if err := p.Free(l.b); err != nil {
				t.Fatal(err)
			}
		}
		checkPool(t, p)
		st, _ := p.Stats()
		if st.Allocated != 0 || st.Allocations != 0 || st.LargeBytes != 0 {
			t.Fatalf("seed %d: after freeing all: %+v", seed, st)
		}
	}
}

// statsMatch compares Stats with the model's live allocations (no
// goroutine allocating meanwhile).
func statsMatch(t testing.TB, p *Pool, lives []live) {
	t.Helper()
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var usable int64
	for _, l := range lives {
		usable += int64(cap(l.b))
	}
	if st.Allocated != usable || st.Allocations != int64(len(lives)) {
		t.Fatalf("stats: %d bytes in %d allocations, model %d in %d", st.Allocated, st.Allocations, usable, len(lives))
	}
	if st.Active+st.Free != st.Size/pageSize*pageSize || st.Released > st.Free || st.LargestFree > st.Free {
		t.Fatalf("stats: active %d + free %d vs size %d, released %d, largest free %d",
			st.Active, st.Free, st.Size, st.Released, st.LargestFree)
	}
	inUse := int64(st.LargeBytes)
	for _, c := range st.Classes {
		inUse += int64(c.InUse() * c.Size)
		if c.InUse() < 0 || c.Free+c.Cached > c.Objects {
			t.Fatalf("class %d: %+v", c.Size, c)
		}
	}
	if inUse != usable {
		t.Fatalf("stats: classes hold %d bytes in use, model %d", inUse, usable)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	p := newTestPool(t, 32<<20, nil)
	const workers = 8
	var wg sync.WaitGroup
	results := make([][]live, workers)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 2))
			results[w] = exercise(t, p, r, 4000, 100, 128<<10)
		})
	}
	// Stats and Check run while the workers allocate.
	for range 5 {
		if _, err := p.Stats(); err != nil {
			t.Fatal(err)
		}
		checkPool(t, p)
	}
	wg.Wait()
	all := slices.Concat(results...)
	noOverlap(t, all)
	checkPool(t, p)
	statsMatch(t, p, all)
	// Frees from goroutines other than the allocating ones.
	for w := range workers {
		wg.Go(func() {
			for _, l := range results[(w+1)%workers] {
				if err := p.Free(l.b); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	checkPool(t, p)
	statsMatch(t, p, nil)
}
