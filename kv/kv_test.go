package kv_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/kv"
)

// engineCase says how to open an engine in a test.
type engineCase struct {
	name       string
	persistent bool
	sorted     bool
	volatile   bool // vmem-backed: Path is a directory
	keepsData  bool // false: blackhole
	noBatch    bool // cmap: no transactions, as in pmemkv
}

var engines = []engineCase{
	{name: kv.STree, persistent: true, sorted: true, keepsData: true},
	{name: kv.CMap, persistent: true, keepsData: true, noBatch: true},
	{name: kv.Radix, persistent: true, sorted: true, keepsData: true},
	{name: kv.VSMap, volatile: true, sorted: true, keepsData: true},
	{name: kv.VCMap, volatile: true, keepsData: true},
	{name: kv.Blackhole, sorted: true},
}

const testPoolSize = 32 << 20

// config returns a config that creates the engine's pool in a fresh
// directory.
func (ec engineCase) config(t testing.TB) *kv.Config {
	dir := pmemtest.Dir(t)
	if ec.volatile {
		return &kv.Config{Path: dir, Size: testPoolSize}
	}
	return &kv.Config{Path: filepath.Join(dir, "kv.pool"), Size: testPoolSize, CreateIfMissing: true}
}

func openEngine(t testing.TB, ec engineCase, cfg *kv.Config) *kv.DB {
	t.Helper()
	db, err := kv.Open(ec.name, cfg)
	if errors.Is(err, kv.ErrNotSupported) {
		t.Skipf("%s: %v", ec.name, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func forEachEngine(t *testing.T, f func(t *testing.T, ec engineCase)) {
	for _, ec := range engines {
		t.Run(ec.name, func(t *testing.T) { f(t, ec) })
	}
}

// model is what the engine should hold.
type model map[string]string

func (m model) sortedKeys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// checkModel compares every read call of db with m.
func checkModel(t *testing.T, ec engineCase, db *kv.DB, m model) {
	t.Helper()
	if !ec.keepsData {
		m = model{}
	}
	n, err := db.CountAll()
	if err != nil || n != len(m) {
		t.Fatalf("CountAll %d (%v), want %d", n, err, len(m))
	}
	for k, v := range m {
		got, err := db.Get([]byte(k))
		if err != nil || string(got) != v {
			t.Fatalf("Get(%q) = %d bytes (%v), want %d", k, len(got), err, len(v))
		}
	}
	seen := model{}
	var order []string
	if err := db.GetAll(func(k, v []byte) bool {
		seen[string(k)] = string(v)
		order = append(order, string(k))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(m) || len(order) != len(m) {
		t.Fatalf("GetAll saw %d pairs (%d distinct), want %d", len(order), len(seen), len(m))
	}
	for k, v := range m {
		if seen[k] != v {
			t.Fatalf("GetAll: %q wrong", k)
		}
	}
	if !ec.sorted {
		if _, err := db.CountAbove(nil); !errors.Is(err, kv.ErrNotSupported) {
			t.Fatalf("CountAbove on %s: %v", ec.name, err)
		}
		return
	}
	keys := m.sortedKeys()
	if !slices.Equal(order, keys) {
		t.Fatalf("GetAll not in key order")
	}
	// Ranges around a few probe keys, present and absent.
	probes := [][]byte{nil, {}, {0}, []byte("k"), {0xff, 0xff}}
	for i := 0; i < len(keys); i += 1 + len(keys)/7 {
		probes = append(probes, []byte(keys[i]), append([]byte(keys[i]), 0))
	}
	for _, lo := range probes {
		above, below := 0, 0
		for _, k := range keys {
			if k > string(lo) {
				above++
			}
			if k < string(lo) {
				below++
			}
		}
		if n, err := db.CountAbove(lo); err != nil || n != above {
			t.Fatalf("CountAbove(%q) %d (%v), want %d", lo, n, err, above)
		}
		if n, err := db.CountBelow(lo); err != nil || n != below {
			t.Fatalf("CountBelow(%q) %d (%v), want %d", lo, n, err, below)
		}
		for _, hi := range probes {
			var want []string
			for _, k := range keys {
				if k > string(lo) && k < string(hi) {
					want = append(want, k)
				}
			}
			var got []string
			if err := db.GetBetween(lo, hi, func(k, _ []byte) bool { got = append(got, string(k)); return true }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("GetBetween(%q, %q) = %q, want %q", lo, hi, got, want)
			}
			if n, err := db.CountBetween(lo, hi); err != nil || n != len(want) {
				t.Fatalf("CountBetween(%q, %q) %d (%v), want %d", lo, hi, n, err, len(want))
			}
		}
	}
	// The iterator, both ways.
	it, err := db.NewIterator()
	if err != nil {
		t.Fatal(err)
	}
	var fwd, back []string
	for ok, err := it.SeekToFirst(); ok || err != nil; ok, err = it.Next() {
		if err != nil {
			t.Fatal(err)
		}
		fwd = append(fwd, string(it.Key()))
		if string(it.Value()) != m[string(it.Key())] {
			t.Fatalf("iterator value of %q", it.Key())
		}
	}
	// Backwards, the last keys only: radix's Prev is a scan.
	for ok, err := it.SeekToLast(); (ok || err != nil) && len(back) < 200; ok, err = it.Prev() {
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, string(it.Key()))
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, keys) || !slices.Equal(back, keys[len(keys)-len(back):]) || len(back) < min(200, len(keys)) {
		t.Fatalf("iterator walked %d forward, %d back, want %d", len(fwd), len(back), len(keys))
	}
	for _, p := range probes {
		idx, found := slices.BinarySearch(keys, string(p))
		check := func(what string, ok bool, err error, want int) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			if want < 0 || want >= len(keys) {
				if ok {
					t.Fatalf("%s(%q) found %q, want none", what, p, it.Key())
				}
				return
			}
			if !ok || string(it.Key()) != keys[want] {
				t.Fatalf("%s(%q) = %v %q, want %q", what, p, ok, it.Key(), keys[want])
			}
		}
		ok, err := it.SeekHigherEq(p)
		check("SeekHigherEq", ok, err, idx)
		gt := idx
		if found {
			gt++
		}
		ok, err = it.SeekHigher(p)
		check("SeekHigher", ok, err, gt)
		ok, err = it.SeekLower(p)
		check("SeekLower", ok, err, idx-1)
		le := idx - 1
		if found {
			le = idx
		}
		ok, err = it.SeekLowerEq(p)
		check("SeekLowerEq", ok, err, le)
		ok, err = it.Seek(p)
		if err != nil || ok != found {
			t.Fatalf("Seek(%q) %v (%v), want %v", p, ok, err, found)
		}
	}
}

// randomOps runs n random puts, overwrites and removes on db and m with
// keys from a small space (so they collide) and values of mixed sizes.
func randomOps(t *testing.T, db *kv.DB, m model, rng *rand.Rand, n int, keep bool) {
	t.Helper()
	for range n {
		k := fmt.Sprintf("k%03d", rng.IntN(300))
		if rng.IntN(8) == 0 {
			k = k[:rng.IntN(len(k))] // short keys, the empty key too
		}
		switch rng.IntN(4) {
		case 0:
			err := db.Remove([]byte(k))
			_, had := m[k]
			if had && keep && err != nil || (!had || !keep) && err != nil && !errors.Is(err, kv.ErrNotFound) {
				t.Fatalf("Remove(%q): %v (had %v)", k, err, had)
			}
			delete(m, k)
		default:
			v := bytes.Repeat([]byte{byte(rng.IntN(256))}, []int{0, 1, 8, 64, 200, 3000}[rng.IntN(6)])
			if err := db.Put([]byte(k), v); err != nil {
				t.Fatalf("Put(%q, %d bytes): %v", k, len(v), err)
			}
			m[k] = string(v)
		}
	}
}

func TestEngines(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ec engineCase) {
		cfg := ec.config(t)
		db := openEngine(t, ec, cfg)
		if db.Engine() != ec.name {
			t.Fatalf("Engine() = %q", db.Engine())
		}
		m := model{}
		rng := rand.New(rand.NewPCG(1, 2))
		n := 3000
		if testing.Short() {
			n = 1000
		}
		randomOps(t, db, m, rng, n, ec.keepsData)
		checkModel(t, ec, db, m)

		// A batch: all of it shows.
		if ec.noBatch {
			err := db.Update(func(b *kv.Batch) error { return b.Put([]byte("x"), nil) })
			if !errors.Is(err, kv.ErrNotSupported) {
				t.Fatalf("batch on %s: %v", ec.name, err)
			}
		} else if err := db.Update(func(b *kv.Batch) error {
			for i := range 50 {
				if err := b.Put(fmt.Appendf(nil, "batch%02d", i), []byte("v")); err != nil {
					return err
				}
				m[fmt.Sprintf("batch%02d", i)] = "v"
			}
			for k := range m {
				if k < "k1" {
					if err := b.Remove([]byte(k)); err != nil {
						return err
					}
					delete(m, k)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		checkModel(t, ec, db, m)
		// An aborted batch leaves nothing.
		b, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		b.Put([]byte("aborted"), []byte("x"))
		b.Abort()
		if err := b.Commit(); !errors.Is(err, kv.ErrTransactionScope) {
			t.Fatalf("Commit after Abort: %v", err)
		}
		if ok, err := db.Exists([]byte("aborted")); ok || err != nil {
			t.Fatalf("Exists(aborted) %v %v", ok, err)
		}

		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.Put([]byte("x"), nil); !errors.Is(err, kv.ErrClosed) {
			t.Fatalf("Put after Close: %v", err)
		}
		if !ec.persistent {
			return
		}
		cfg.CreateIfMissing = false
		db = openEngine(t, ec, cfg)
		checkModel(t, ec, db, m)
		randomOps(t, db, m, rng, n/3, true)
		checkModel(t, ec, db, m)
	})
}

func TestGetCopyAndExists(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ec engineCase) {
		db := openEngine(t, ec, ec.config(t))
		if err := db.Put([]byte("key"), []byte("value")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 3)
		n, err := db.GetCopy([]byte("key"), buf)
		if !ec.keepsData {
			if !errors.Is(err, kv.ErrNotFound) || kv.Status(err) != kv.StatusNotFound {
				t.Fatalf("blackhole GetCopy: %v", err)
			}
			return
		}
		if n != 5 || !errors.Is(err, kv.ErrOutOfMemory) || kv.Status(err) != kv.StatusOutOfMemory {
			t.Fatalf("GetCopy into 3 bytes: %d %v", n, err)
		}
		buf = make([]byte, 10)
		if n, err := db.GetCopy([]byte("key"), buf); n != 5 || err != nil || string(buf[:n]) != "value" {
			t.Fatalf("GetCopy: %d %v %q", n, err, buf[:n])
		}
		if ok, err := db.Exists([]byte("key")); !ok || err != nil {
			t.Fatalf("Exists: %v %v", ok, err)
		}
		if ok, err := db.Exists([]byte("nokey")); ok || err != nil {
			t.Fatalf("Exists(nokey): %v %v", ok, err)
		}
		if err := db.Remove([]byte("nokey")); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("Remove(nokey): %v", err)
		}
		if err := db.GetAll(func(k, v []byte) bool { return false }); !errors.Is(err, kv.ErrStoppedByCallback) {
			t.Fatalf("GetAll stopped: %v", err)
		}
	})
}

// TestManyKeys grows the sorted engines past several levels of nodes
// (random, ascending and descending inserts), removes most keys, and
// checks every read call after each step.
func TestManyKeys(t *testing.T) {
	n := 6000 // inner nodes split: stree's hold 32 keys
	if testing.Short() {
		n = 2500
	}
	forEachEngine(t, func(t *testing.T, ec engineCase) {
		db := openEngine(t, ec, ec.config(t))
		m := model{}
		rng := rand.New(rand.NewPCG(3, 4))
		perm := rng.Perm(n)
		for i := range n {
			j := perm[i]
			switch i % 3 {
			case 1:
				j = i
			case 2:
				j = n - i
			}
			k, v := fmt.Sprintf("%08d", j*7), fmt.Sprintf("v%d", i)
			if err := db.Put([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
			m[k] = v
		}
		checkModel(t, ec, db, m)
		i := 0
		for k := range m {
			if i%5 != 0 {
				if err := db.Remove([]byte(k)); err != nil {
					t.Fatal(err)
				}
				delete(m, k)
			}
			i++
		}
		checkModel(t, ec, db, m)
	})
}
