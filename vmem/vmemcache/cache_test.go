package vmemcache_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/vmem/vmemcache"
)

func newCache(t testing.TB, opts *vmemcache.Options) *vmemcache.Cache {
	t.Helper()
	c, err := vmemcache.New(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func get(t testing.TB, c *vmemcache.Cache, key string) (string, error) {
	t.Helper()
	buf := make([]byte, 16<<10)
	n, size, err := c.Get([]byte(key), buf, 0)
	if err == nil && size > int64(len(buf)) {
		buf = make([]byte, size)
		n, size, err = c.Get([]byte(key), buf, 0)
	}
	if err == nil && int64(n) != size {
		t.Fatalf("get %q: copied %d of %d", key, n, size)
	}
	return string(buf[:n]), err
}

func TestSemantics(t *testing.T) {
	var evicted, missed []string
	var c *vmemcache.Cache
	c = newCache(t, &vmemcache.Options{
		OnEvict: func(cc *vmemcache.Cache, key []byte) {
			if cc != c {
				t.Error("callback got another cache")
			}
			// Until the callback returns the entry is still readable.
			if _, ok := cc.Exists(key); !ok {
				t.Errorf("evicted %q not readable in the callback", key)
			}
			evicted = append(evicted, string(key))
		},
		OnMiss: func(cc *vmemcache.Cache, key []byte) {
			missed = append(missed, string(key))
			if string(key) == "fill" {
				if err := cc.Put(key, []byte("filled")); err != nil {
					t.Error(err)
				}
			}
		},
	})
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"put a", func() error { return c.Put([]byte("a"), []byte("alpha")) }, nil},
		{"put a again", func() error { return c.Put([]byte("a"), []byte("other")) }, vmemcache.ErrExists},
		{"put b", func() error { return c.Put([]byte("b"), []byte("beta")) }, nil},
		{"put empty value", func() error { return c.Put([]byte("e"), nil) }, nil},
		{"put empty key", func() error { return c.Put(nil, []byte("nokey")) }, nil},
		{"get a", func() error {
			v, err := get(t, c, "a")
			if v != "alpha" {
				return fmt.Errorf("got %q", v)
			}
			return err
		}, nil},
		{"get empty value", func() error {
			v, err := get(t, c, "e")
			if v != "" {
				return fmt.Errorf("got %q", v)
			}
			return err
		}, nil},
		{"get empty key", func() error {
			v, err := get(t, c, "")
			if v != "nokey" {
				return fmt.Errorf("got %q", v)
			}
			return err
		}, nil},
		{"get with offset and short buffer", func() error {
			buf := make([]byte, 2)
			n, size, err := c.Get([]byte("a"), buf, 1)
			if n != 2 || size != 5 || string(buf) != "lp" {
				return fmt.Errorf("n %d size %d %q", n, size, buf)
			}
			return err
		}, nil},
		{"get offset past the end", func() error {
			n, size, err := c.Get([]byte("a"), make([]byte, 8), 9)
			if n != 0 || size != 5 {
				return fmt.Errorf("n %d size %d", n, size)
			}
			return err
		}, nil},
		{"get nil buffer gives size", func() error {
			n, size, err := c.Get([]byte("b"), nil, 0)
			if n != 0 || size != 4 {
				return fmt.Errorf("n %d size %d", n, size)
			}
			return err
		}, nil},
		{"get missing", func() error { _, err := get(t, c, "zz"); return err }, vmemcache.ErrNotFound},
		{"get filled by on-miss", func() error {
			v, err := get(t, c, "fill")
			if v != "filled" {
				return fmt.Errorf("got %q", v)
			}
			return err
		}, nil},
		{"exists", func() error {
			if size, ok := c.Exists([]byte("b")); !ok || size != 4 {
				return fmt.Errorf("exists b: %d %v", size, ok)
			}
			if _, ok := c.Exists([]byte("zz")); ok {
				return errors.New("zz exists")
			}
			return nil
		}, nil},
		{"evict a", func() error { return c.Evict([]byte("a")) }, nil},
		{"evict a again", func() error { return c.Evict([]byte("a")) }, vmemcache.ErrNotFound},
		{"get evicted", func() error { _, err := get(t, c, "a"); return err }, vmemcache.ErrNotFound},
		// e, "" and b were last used after the put of "" and before
		// the put of fill: at the granularity of puts, all three are
		// the least recently used.
		{"evict LRU", func() error { return c.Evict(nil) }, nil},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	// Gets: a, e, "", a, a, b, zz, fill, a; the hit filled by on-miss
	// counts as the miss it was.
	if len(evicted) != 2 || evicted[0] != "a" || !slices.Contains([]string{"e", "", "b"}, evicted[1]) {
		t.Errorf("evicted %q, want a, then one of e, \"\" and b", evicted)
	}
	if want := []string{"zz", "fill", "a"}; !slices.Equal(missed, want) {
		t.Errorf("missed %q, want %q", missed, want)
	}
	st := c.Stats()
	want := vmemcache.Stats{Puts: 6, Gets: 9, Hits: 6, Misses: 3, Evicts: 2, Entries: 3}
	got := st
	got.DRAMUsed, got.PoolUsed, got.HeapEntries = 0, 0, 0
	if got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	// b, "" and fill: one 256-byte extent each.
	if st.PoolUsed != 3*256 || st.DRAMUsed <= 0 || st.HeapEntries < 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestPolicyNone(t *testing.T) {
	c := newCache(t, &vmemcache.Options{Policy: vmemcache.PolicyNone, ExtentSize: 4096})
	val := make([]byte, 4096-32-8)
	var n int
	for ; ; n++ {
		err := c.Put(fmt.Appendf(nil, "k%07d", n), val)
		if errors.Is(err, vmemcache.ErrNoSpace) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != vmemcache.MinSize/4096 {
		t.Errorf("%d entries of one extent fit, want %d", n, vmemcache.MinSize/4096)
	}
	if err := c.Evict(nil); !errors.Is(err, vmemcache.ErrNoEvictable) {
		t.Errorf("evict LRU with policy none: %v", err)
	}
	if err := c.Evict([]byte("k0000003")); err != nil {
		t.Fatal(err)
	}
	if err := c.Put([]byte("new00000"), val); err != nil {
		t.Errorf("put after a manual evict: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []vmemcache.Options{
		{Size: vmemcache.MinSize - 1},
		{Size: -1},
		{ExtentSize: 255},
		{Size: vmemcache.MinSize, ExtentSize: 2 * vmemcache.MinSize},
		{Policy: 7},
	} {
		if _, err := vmemcache.New(dir, &o); !errors.Is(err, vmemcache.ErrInvalidArgument) {
			t.Errorf("New %+v: %v", o, err)
		}
	}
	if _, err := vmemcache.New(dir+"/missing", nil); err == nil {
		t.Error("New on a missing directory worked")
	}
	if _, err := vmemcache.NewRegion(make([]byte, 4096), nil); !errors.Is(err, vmemcache.ErrInvalidArgument) {
		t.Errorf("NewRegion too small: %v", err)
	}
	c := newCache(t, nil)
	if c.Size() != vmemcache.MinSize {
		t.Errorf("default size %d", c.Size())
	}
	if err := c.Put([]byte("k"), make([]byte, vmemcache.MinSize)); !errors.Is(err, vmemcache.ErrTooLarge) {
		t.Errorf("put larger than the cache: %v", err)
	}
	if _, _, err := c.Get([]byte("k"), nil, -1); !errors.Is(err, vmemcache.ErrInvalidArgument) {
		t.Errorf("negative offset: %v", err)
	}
	if err := c.Evict(nil); !errors.Is(err, vmemcache.ErrNoEvictable) {
		t.Errorf("evict LRU of an empty cache: %v", err)
	}
	// The largest entry fits an empty cache: one extent over everything.
	big := make([]byte, vmemcache.MinSize-32-1)
	big[len(big)-1] = 7
	if err := c.Put([]byte("k"), big); err != nil {
		t.Fatal(err)
	}
	if v, _ := get(t, c, "k"); !bytes.Equal([]byte(v), big) {
		t.Error("largest value read back wrong")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Put([]byte("x"), nil); !errors.Is(err, vmemcache.ErrClosed) {
		t.Errorf("put after close: %v", err)
	}
	if _, _, err := c.Get([]byte("x"), nil, 0); !errors.Is(err, vmemcache.ErrClosed) {
		t.Errorf("get after close: %v", err)
	}
	if err := c.Close(); !errors.Is(err, vmemcache.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
}

func TestRegion(t *testing.T) {
	src, err := core.Anonymous(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	m, err := core.NewMap(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c, err := vmemcache.NewRegion(m.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Size() != 4<<20 {
		t.Errorf("size %d", c.Size())
	}
	if err := c.Put([]byte("key"), []byte("in the region")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(m.Bytes(), []byte("keyin the region")) {
		t.Error("the entry is not in the caller's region")
	}
	if v, err := get(t, c, "key"); err != nil || v != "in the region" {
		t.Errorf("get %q %v", v, err)
	}
}

// value derives a checkable value of size n from key.
func value(key string, n int) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = key[i%len(key)] ^ byte(i/len(key))
	}
	return v
}

func TestFragmentation(t *testing.T) {
	c := newCache(t, &vmemcache.Options{Policy: vmemcache.PolicyNone})
	// Fill with one-extent entries, then free every other: no free run
	// is longer than one extent.
	var keys []string
	for i := 0; ; i++ {
		k := fmt.Sprintf("%08d", i)
		if err := c.Put([]byte(k), value(k, 200)); errors.Is(err, vmemcache.ErrNoSpace) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if st := c.Stats(); st.HeapEntries != 0 || st.PoolUsed != vmemcache.MinSize {
		t.Fatalf("full cache: %+v", st)
	}
	for i := 0; i < len(keys); i += 2 {
		if err := c.Evict([]byte(keys[i])); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.HeapEntries != int64(len(keys)+1)/2 {
		t.Errorf("after freeing every other: %d free runs, want %d", st.HeapEntries, (len(keys)+1)/2)
	}
	// A value of 100 extents is split across 100+ free extents.
	big := value("big", 100*240)
	if err := c.Put([]byte("big"), big); err != nil {
		t.Fatal(err)
	}
	if v, err := get(t, c, "big"); err != nil || v != string(big) {
		t.Fatalf("split value read back wrong: %v", err)
	}
	// Partial reads across extent boundaries.
	buf := make([]byte, 1000)
	for _, off := range []int64{0, 1, 239, 240, 5000, int64(len(big)) - 10} {
		n, _, err := c.Get([]byte("big"), buf, off)
		if err != nil || !bytes.Equal(buf[:n], big[off:min(off+1000, int64(len(big)))]) {
			t.Errorf("read at %d wrong (%d bytes, %v)", off, n, err)
		}
	}
	for i := 1; i < len(keys); i += 2 {
		if v, err := get(t, c, keys[i]); err != nil || v != string(value(keys[i], 200)) {
			t.Fatalf("%s damaged: %v", keys[i], err)
		}
	}
	// Freeing everything coalesces back to one run.
	for i := 1; i < len(keys); i += 2 {
		if err := c.Evict([]byte(keys[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Evict([]byte("big")); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.HeapEntries != 1 || st.PoolUsed != 0 || st.Entries != 0 {
		t.Errorf("empty cache: %+v", st)
	}
	if err := c.Put([]byte("whole"), value("whole", vmemcache.MinSize-100)); err != nil {
		t.Errorf("a value of the whole cache after coalescing: %v", err)
	}
}

func TestEvictionUnderPressure(t *testing.T) {
	c := newCache(t, nil)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 5000 // about 10 MiB through a 1 MiB cache
	for i := range n {
		k := fmt.Sprintf("key%d", i)
		if err := c.Put([]byte(k), value(k, 1+r.IntN(4000))); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	st := c.Stats()
	if st.Evicts == 0 || st.Entries+st.Evicts != n {
		t.Errorf("stats %+v", st)
	}
	// The survivors are the newest keys, all intact.
	for i := n - int(st.Entries); i < n; i++ {
		k := fmt.Sprintf("key%d", i)
		v, err := get(t, c, k)
		if err != nil || !bytes.Equal([]byte(v), value(k, len(v))) {
			t.Fatalf("%s: %v", k, err)
		}
	}
}

// TestModel runs random operations against a model and checks every
// result, and that each eviction by LRU takes an entry whose last use (put
// or hit) is the oldest, time counted in inserting puts: the model's clock
// advances at each put that inserts, and an entry's stamp is the clock at
// its last use.
func TestModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed) })
	}
}

func runModel(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	vals := map[string]int{}      // key → value size
	stamps := map[string]uint64{} // key → clock at its last use
	var clock uint64
	forget := func(k string) {
		delete(vals, k)
		delete(stamps, k)
	}
	var evicts int64
	explicit := "" // the key of a running Evict(key)
	policy := vmemcache.PolicyLRU
	if seed == 3 {
		policy = vmemcache.PolicyNone
	}
	var op int
	c := newCache(t, &vmemcache.Options{
		Policy: policy,
		OnEvict: func(_ *vmemcache.Cache, key []byte) {
			k := string(key)
			if _, ok := vals[k]; !ok {
				t.Fatalf("op %d: evicting %q, not in the model", op, k)
			}
			evicts++
			if explicit != "" {
				if k != explicit {
					t.Fatalf("op %d: evict %q evicted %q", op, explicit, k)
				}
				return
			}
			for o, s := range stamps {
				if s < stamps[k] {
					t.Fatalf("op %d: evicted %q (last used at %d) before %q (at %d)", op, k, stamps[k], o, s)
				}
			}
			forget(k)
		},
	})
	for op = range 20000 {
		k := fmt.Sprintf("k%d", r.IntN(300))
		switch x := r.IntN(10); {
		case x < 4: // put
			size := r.IntN(9000)
			if r.IntN(20) == 0 {
				size = 0
			}
			_, had := vals[k]
			err := c.Put([]byte(k), value(k, max(size, 1))[:size])
			switch {
			case had && !errors.Is(err, vmemcache.ErrExists):
				t.Fatalf("op %d: put of existing %s: %v", op, k, err)
			case had:
				if _, ok := vals[k]; !ok {
					t.Fatalf("op %d: the put of existing %s evicted it", op, k)
				}
			case policy == vmemcache.PolicyNone && errors.Is(err, vmemcache.ErrNoSpace):
			case err != nil:
				t.Fatalf("op %d: put %s (%d): %v", op, k, size, err)
			default:
				clock++
				vals[k], stamps[k] = size, clock
			}
		case x < 8: // get
			v, err := get(t, c, k)
			size, had := vals[k]
			switch {
			case had && (err != nil || v != string(value(k, max(size, 1))[:size])):
				t.Fatalf("op %d: get %s: %v", op, k, err)
			case !had && !errors.Is(err, vmemcache.ErrNotFound):
				t.Fatalf("op %d: get missing %s: %v", op, k, err)
			case had:
				stamps[k] = clock
			}
		case x < 9: // evict a key
			explicit = k
			err := c.Evict([]byte(k))
			explicit = ""
			if _, had := vals[k]; had != (err == nil) {
				t.Fatalf("op %d: evict %s: %v (in model %v)", op, k, err, had)
			}
			forget(k)
		default: // evict the LRU one, or check exists
			if r.IntN(2) == 0 {
				size, ok := c.Exists([]byte(k))
				if want, had := vals[k]; ok != had || size != int64(want) {
					t.Fatalf("op %d: exists %s: %d %v, model %d %v", op, k, size, ok, want, had)
				}
				continue
			}
			n := len(vals)
			err := c.Evict(nil)
			switch {
			case policy == vmemcache.PolicyNone || n == 0:
				if !errors.Is(err, vmemcache.ErrNoEvictable) {
					t.Fatalf("op %d: evict LRU: %v", op, err)
				}
			case err != nil:
				t.Fatalf("op %d: evict LRU: %v", op, err)
			case len(vals) != n-1:
				t.Fatalf("op %d: evict LRU: %d entries in the model, was %d", op, len(vals), n)
			}
		}
		if st := c.Stats(); st.Entries != int64(len(vals)) || st.Evicts != evicts {
			t.Fatalf("op %d: stats %+v, model %d entries %d evicts", op, st, len(vals), evicts)
		}
	}
	if policy == vmemcache.PolicyLRU && evicts < 100 {
		t.Errorf("only %d evictions: the test did not fill the cache", evicts)
	}
}

func TestConcurrent(t *testing.T) {
	c := newCache(t, &vmemcache.Options{OnEvict: func(c *vmemcache.Cache, key []byte) {
		// Reading the entry being evicted from the callback works.
		if _, _, err := c.Get(key, make([]byte, 16), 0); err != nil {
			t.Errorf("get in on-evict: %v", err)
		}
	}})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			buf := make([]byte, 8192)
			for range 4000 {
				k := fmt.Sprintf("k%d", r.IntN(500))
				switch x := r.IntN(10); {
				case x < 3:
					err := c.Put([]byte(k), value(k, r.IntN(8000)))
					if err != nil && !errors.Is(err, vmemcache.ErrExists) {
						t.Error(err)
						return
					}
				case x < 9:
					n, size, err := c.Get([]byte(k), buf, 0)
					if err == nil && (int64(n) != size || !bytes.Equal(buf[:n], value(k, n))) {
						t.Errorf("%s read back wrong", k)
						return
					}
				default:
					if err := c.Evict([]byte(k)); err != nil && !errors.Is(err, vmemcache.ErrNotFound) {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			c.Stats()
			c.Evict(nil)
		}
	})
	wg.Wait()
	st := c.Stats()
	if st.Hits+st.Misses != st.Gets || st.Entries < 0 {
		t.Errorf("stats %+v", st)
	}
	// Evict everything: the free space coalesces back to one run.
	for c.Evict(nil) == nil {
	}
	if st := c.Stats(); st.Entries != 0 || st.PoolUsed != 0 || st.HeapEntries != 1 {
		t.Errorf("emptied: %+v", st)
	}
}

// TestGetsDuringEvictions reads a few keys from two goroutines while a
// third evicts them and puts others, often in the extents just freed:
// every hit must read its own key's bytes.
func TestGetsDuringEvictions(t *testing.T) {
	c := newCache(t, nil)
	const nkeys = 16
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("key%d", i)
		if err := c.Put([]byte(keys[i]), value(keys[i], 300)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var done sync.WaitGroup
	stop := make(chan struct{})
	for g := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 3))
			buf := make([]byte, 4096)
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := keys[r.IntN(nkeys)]
				n, size, err := c.Get([]byte(k), buf, 0)
				if err == nil && (int64(n) != size || !bytes.Equal(buf[:n], value(k, n))) {
					t.Errorf("%s: read %d bytes that are not its value", k, n)
					return
				}
			}
		})
	}
	done.Go(func() {
		defer close(stop)
		r := rand.New(rand.NewPCG(9, 9))
		for range 8000 {
			k := keys[r.IntN(nkeys)]
			if err := c.Evict([]byte(k)); err != nil && !errors.Is(err, vmemcache.ErrNotFound) {
				t.Error(err)
				return
			}
			k = keys[r.IntN(nkeys)] // most often another key, in k's extents
			if err := c.Put([]byte(k), value(k, 1+r.IntN(3000))); err != nil && !errors.Is(err, vmemcache.ErrExists) {
				t.Error(err)
				return
			}
		}
	})
	done.Wait()
	wg.Wait()
}
