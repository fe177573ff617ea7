package kv_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/kv"
	"github.com/gopmdk/pmdk/obj"
)

// TestSizes puts keys and values of every size class, from empty to
// larger than the pool: those that fit are read back whole, those that do
// not are ErrOutOfMemory, and neither loses a pair already there.
func TestSizes(t *testing.T) {
	sizes := []int{0, 1, 7, 8, 63, 64, 65, 4095, 4096, 100_000, 1 << 20, 8 << 20, 40 << 20}
	forEachEngine(t, func(t *testing.T, ec engineCase) {
		if !ec.keepsData {
			t.Skip("blackhole keeps nothing")
		}
		db := openEngine(t, ec, ec.config(t))
		m := model{"anchor": "kept"}
		if err := db.Put([]byte("anchor"), []byte("kept")); err != nil {
			t.Fatal(err)
		}
		for i, n := range sizes {
			big := bytes.Repeat([]byte{byte('a' + i)}, n)
			for _, kvp := range [][2][]byte{{big, []byte("v")}, {append([]byte("k"), byte(i)), big}} {
				err := db.Put(kvp[0], kvp[1])
				if n > testPoolSize {
					if !errors.Is(err, kv.ErrOutOfMemory) || kv.Status(err) != kv.StatusOutOfMemory {
						t.Fatalf("put of %d bytes into a %d-byte pool: %v", n, testPoolSize, err)
					}
					continue
				}
				if errors.Is(err, kv.ErrOutOfMemory) && n >= 8<<20 {
					continue // the pool's free space is in pieces
				}
				if err != nil {
					t.Fatalf("put of %d bytes: %v", n, err)
				}
				got, err := db.Get(kvp[0])
				if err != nil || !bytes.Equal(got, kvp[1]) {
					t.Fatalf("get after put of %d bytes: %d bytes, %v", n, len(got), err)
				}
				if err := db.Remove(kvp[0]); err != nil {
					t.Fatal(err)
				}
			}
		}
		checkModel(t, ec, db, m)
	})
}

// persistentPool makes engine ec's pool file with one pair and closes it.
func persistentPool(t *testing.T, ec engineCase) *kv.Config {
	cfg := ec.config(t)
	db := openEngine(t, ec, cfg)
	if err := db.Put([]byte("key"), []byte("value")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.CreateIfMissing = false
	return cfg
}

// requireErr runs open, which must fail with want. (obj's open and
// close write the pool's run-time state, so the file is not compared
// byte for byte: the tests read the pair back instead.)
func requireErr(t *testing.T, want error, open func() error) {
	t.Helper()
	if err := open(); !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
}

func TestBadPools(t *testing.T) {
	dir := pmemtest.Dir(t)
	t.Run("missing", func(t *testing.T) {
		_, err := kv.Open(kv.STree, &kv.Config{Path: filepath.Join(dir, "none")})
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("open of a missing file: %v", err)
		}
	})
	t.Run("config", func(t *testing.T) {
		for _, c := range []*kv.Config{nil, {}, {Path: filepath.Join(dir, "x"), CreateIfMissing: true}} {
			if _, err := kv.Open(kv.STree, c); !errors.Is(err, kv.ErrConfig) || kv.Status(err) != kv.StatusConfigParsingError {
				t.Fatalf("config %+v: %v", c, err)
			}
		}
		if _, err := kv.Open("nosuch", nil); !errors.Is(err, kv.ErrWrongEngine) {
			t.Fatalf("unknown engine: %v", err)
		}
		if _, err := kv.Open(kv.VCMap, &kv.Config{Path: dir}); !errors.Is(err, kv.ErrConfig) {
			t.Fatalf("vcmap without size: %v", err)
		}
	})
	t.Run("exists", func(t *testing.T) {
		cfg := persistentPool(t, engines[0])
		cfg.CreateOrErrorIfExists = true
		requireErr(t, kv.ErrExists, func() error { _, err := kv.Open(kv.STree, cfg); return err })
		cfg.CreateOrErrorIfExists, cfg.ForceCreate = false, true
		requireErr(t, kv.ErrExists, func() error { _, err := kv.Open(kv.STree, cfg); return err })
		cfg.ForceCreate = false
		db := openEngine(t, engines[0], cfg)
		if v, err := db.Get([]byte("key")); err != nil || string(v) != "value" {
			t.Fatalf("after the refused creation: %q %v", v, err)
		}
	})
	t.Run("other-layout", func(t *testing.T) {
		path := filepath.Join(dir, "other.obj")
		p, err := obj.Create(path, 8<<20, 0o600, &obj.Options{Layout: "not kv"})
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
		requireErr(t, kv.ErrLayout, func() error { _, err := kv.Open(kv.STree, &kv.Config{Path: path}); return err })
	})
	for _, ec := range engines[:3] {
		t.Run("wrong-engine-"+ec.name, func(t *testing.T) {
			cfg := persistentPool(t, ec)
			other := kv.STree
			if ec.name == kv.STree {
				other = kv.Radix
			}
			requireErr(t, kv.ErrWrongEngine, func() error { _, err := kv.Open(other, cfg); return err })
			db := openEngine(t, ec, cfg)
			if v, err := db.Get([]byte("key")); err != nil || string(v) != "value" {
				t.Fatalf("after the refused open: %q %v", v, err)
			}
		})
		// Damage the kv header and then the engine's root: a clear error,
		// the file untouched, and the pair back once the damage is undone.
		t.Run("damaged-"+ec.name, func(t *testing.T) {
			cfg := persistentPool(t, ec)
			for _, what := range []string{"header magic", "header root", "engine root"} {
				undo := damage(t, cfg.Path, what)
				requireErr(t, kv.ErrCorrupt, func() error { _, err := kv.Open(ec.name, cfg); return err })
				undo()
				db := openEngine(t, ec, cfg)
				if v, err := db.Get([]byte("key")); err != nil || string(v) != "value" {
					t.Fatalf("after undoing %s: %q %v", what, v, err)
				}
				db.Close()
			}
		})
	}
}

// damage overwrites a word of the kv pool at path (through obj, so the
// pool stays a valid obj pool) and returns the function that restores it.
func damage(t *testing.T, path, what string) func() {
	t.Helper()
	old := rewrite(t, path, what, []byte{0xef, 0xbe, 0xad, 0xde, 0xef, 0xbe, 0xad, 0x7e})
	return func() { rewrite(t, path, what, old) }
}

// rewrite puts b at the word named what and returns what was there.
func rewrite(t *testing.T, path, what string, b []byte) []byte {
	t.Helper()
	p, err := obj.Open(path, &obj.Options{Layout: kv.Layout})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ro, err := p.Root(0)
	if err != nil {
		t.Fatal(err)
	}
	field := (*obj.OID)(unsafe.Pointer(&p.Bytes(ro)[0]))
	hdr := p.Bytes(*field)
	var w []byte
	switch what {
	case "header magic":
		w = hdr[0:8]
	case "header root":
		w = hdr[24:32]
	case "engine root":
		root := *(*uint64)(unsafe.Pointer(&hdr[24]))
		w = p.Bytes(obj.OID{PoolUUIDLo: p.UUIDLo(), Off: root})[0:8]
	}
	old := append([]byte(nil), w...)
	copy(w, b)
	p.Persist(w)
	return old
}
