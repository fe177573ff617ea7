package log

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/log/layout"
)

var updateSeeds = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzOpen seeds from pools made by C libpmemlog")

// seedPrefix is how much of a pool a seed keeps: header, descriptor and
// the first bytes of log data. The rest of the fuzzed pool is zero.
const seedPrefix = layout.DataStart + 256

// fuzzImage lays prefix over a zeroed pool of MinPoolSize bytes, as
// placePrefix does.
func fuzzImage(prefix []byte, fixChecksum bool) []byte {
	img := make([]byte, MinPoolSize)
	placePrefix(img, prefix, fixChecksum)
	return img
}

// placePrefix copies prefix to the start of the zeroed pool image img.
// With fixChecksum the pool header checksum is recomputed, so that
// mutations of the header fields and of the log descriptor get past it.
func placePrefix(img, prefix []byte, fixChecksum bool) {
	copy(img, prefix)
	if fixChecksum {
		if h, err := pool.DecodeHeader(img); err == nil {
			h.Encode(img[:pool.HeaderSize])
		}
	}
}

// FuzzOpen opens arbitrary pool images: the result is an error or a log
// whose every operation respects its bounds, never a panic.
func FuzzOpen(f *testing.F) {
	goPool := func(appends ...string) []byte {
		path := filepath.Join(f.TempDir(), strconv.Itoa(len(appends))+".log")
		l, err := Create(path, MinPoolSize, 0o600, nil)
		if err != nil {
			f.Fatal(err)
		}
		for _, a := range appends {
			if err := l.Append([]byte(a)); err != nil {
				f.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		return b[:seedPrefix]
	}
	f.Add(goPool(), false)
	f.Add(goPool("one record", "two"), false)
	f.Add(goPool("x"), true)
	// A log two bytes short of full: the append fails with ErrNoSpace,
	// and the next input must still get a cleanly zeroed image.
	nearlyFull := goPool()
	binary.LittleEndian.PutUint64(nearlyFull[layout.WriteOffsetAt:], MinPoolSize-2)
	f.Add(nearlyFull, false)
	f.Add([]byte{}, true)

	// One pool image serves every run: allocating and clearing 2 MiB per
	// input would dominate the fuzzer's time. Each run zeroes what it and
	// the previous run could have dirtied.
	img := make([]byte, MinPoolSize)
	dirty := 0
	f.Fuzz(func(t *testing.T, prefix []byte, fixChecksum bool) {
		prefix = prefix[:min(len(prefix), len(img))]
		clear(img[:max(dirty, len(prefix))])
		placePrefix(img, prefix, fixChecksum)
		dirty = max(len(prefix), layout.DataStart)
		m := core.NewMemoryMap(img, core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, nil), nil)
		l, err := OpenOnMap(m, nil)
		if err != nil {
			// The image has the minimum size: only its content can be
			// at fault, and a dirty SDS of another device is the one
			// refusal that is not corruption.
			if errors.Is(err, pool.ErrUnsafeShutdown) {
				return
			}
			var ce *core.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("open error without a CorruptError: %v", err)
			}
			return
		}
		defer l.Close()
		n, tell := l.NBytes(), l.Tell()
		if n != MinPoolSize-layout.DataStart || tell < 0 || tell > n {
			t.Fatalf("opened with nbytes %d tell %d", n, tell)
		}
		var walked int64
		if err := l.Walk(0, func(b []byte) bool { walked += int64(len(b)); return true }); err != nil || walked != tell {
			t.Fatalf("walk saw %d of %d bytes: %v", walked, tell, err)
		}
		err = l.Append([]byte("fuzz"))
		switch {
		case l.ReadOnly():
			// Unknown ro_compat features force a read-only open.
			if !errors.Is(err, ErrReadOnly) {
				t.Fatalf("append to a read-only log: %v", err)
			}
		case tell+4 <= n && err != nil:
			t.Fatalf("append with room: %v", err)
		case tell+4 > n && !errors.Is(err, ErrNoSpace):
			t.Fatalf("append past the end: %v", err)
		}
		dirty = min(max(dirty, layout.DataStart+int(tell)+4), len(img))
	})
}

// TestWriteFuzzSeeds rewrites the committed seeds of FuzzOpen from pools
// made by C libpmemlog (go test -run TestWriteFuzzSeeds -update): the
// first seedPrefix bytes of an empty pool and of one holding records.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update to rewrite testdata/fuzz/FuzzOpen")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, ops := range map[string][]string{
		"c-empty":   nil,
		"c-records": {appendOp([]byte("first record")), appendvOp([]byte("second "), []byte("record"))},
	} {
		path := pmemtest.Path(t, name+".log")
		runPeer(t, append([]string{"create", path, strconv.Itoa(MinPoolSize)}, ops...)...)
		img, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// C leaves its run-time fields (addresses) in the pool: zero them
		// so the seed does not change with every run.
		clear(img[layout.RuntimeAt:layout.RuntimeEnd])
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(false)\n", img[:seedPrefix])
		if err := os.WriteFile(filepath.Join(dir, name), []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzSeedsOpen: the C-made seeds are valid pools, so fuzzing starts
// from images that get past the header into the log descriptor.
func TestFuzzSeedsOpen(t *testing.T) {
	for name, want := range map[string]string{"c-empty": "", "c-records": "first recordsecond record"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzOpen", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		lit, ok := strings.CutPrefix(lines[1], "[]byte(")
		if !ok {
			t.Fatalf("%s: not a []byte seed", name)
		}
		prefix, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatal(err)
		}
		m := core.NewMemoryMap(fuzzImage([]byte(prefix), false), core.GranularityCacheLine,
			core.NewPersister(core.GranularityCacheLine, nil), nil)
		l, err := OpenOnMap(m, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := l.Bytes()
		if string(got) != want {
			t.Errorf("%s: log holds %q, want %q", name, got, want)
		}
		l.Close()
	}
}
