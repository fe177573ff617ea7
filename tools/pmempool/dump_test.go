package pmempool

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core/pool"
)

func TestParseRanges(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []Range
	}{
		{"", []Range{{0, 99}}},
		{"5", []Range{{5, 5}}},
		{"7-3", []Range{{3, 7}}},
		{"-4", []Range{{0, 4}}},
		{"90-", []Range{{90, 99}}},
		{"50-500", []Range{{50, 99}}},
		{"1-2,5-6", []Range{{1, 2}, {5, 6}}},
		{"5-6,1-2", []Range{{1, 2}, {5, 6}}},
		// C inserts after the first range starting below the new one.
		{"1-2,5-6,8-9", []Range{{1, 2}, {8, 9}, {5, 6}}},
		{"1-5,3-8", []Range{{1, 8}}},
		{"1-2,3-4", []Range{{1, 4}}},
		// Beyond max: an empty range (first > last), as C leaves it.
		{"1K-1K", []Range{{1024, 99}}},
	} {
		got, err := ParseRanges(c.spec, 99)
		if err != nil {
			t.Fatalf("%v: %v", c.spec, err)
		}
		if got, want := got, c.want; !reflect.DeepEqual(got, want) {
			t.Errorf("%v: got = %v, want %v", c.spec, got, want)
		}
	}
	for _, bad := range []string{"x", "1-y", ",", "1-2,", "100", "1-2,200"} {
		_, err := ParseRanges(bad, 99)
		if err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]uint64{"0": 0, "512": 512, "4K": 4096, "2M": 2 << 20, "1G": 1 << 30,
		"1KiB": 1024, "1KB": 1000, "3MB": 3000000, "7B": 7, "1T": 1 << 40} {
		got, err := ParseSize(s)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		if got != want {
			t.Errorf("%v: got = %v, want %v", s, got, want)
		}
	}
	for _, bad := range []string{"", "K", "1Q", "1KX", "99999999999999999999", "16E"} {
		_, err := ParseSize(bad)
		if err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestDumpLeavesPoolUnchanged: dump is a read-only verb; the pool file is
// byte-identical afterwards, even where a writable open would change it (a
// shutdown state left dirty, which an open reinitialises; a missing backup
// info block, which blk's open restores).
func TestDumpLeavesPoolUnchanged(t *testing.T) {
	dirtySDS := func(b []byte) {
		h, err := pool.DecodeHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		h.SDS.Dirty = 1
		h.SDS.UpdateChecksum()
		h.Encode(b)
	}
	noBackup := func(b []byte) {
		_, in := arena0(b)
		clear(b[blklayout.BTTOffset+in.InfoOff:][:blklayout.InfoSize])
	}
	for _, c := range []struct {
		name   string
		path   string
		damage func([]byte)
	}{{"log", newLog(t), dirtySDS}, {"blk", newBlk(t, true), noBackup}} {
		before, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		c.damage(before)
		if err := os.WriteFile(c.path, before, 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := Dump(&out, c.path, nil); err != nil || out.Len() == 0 {
			t.Fatalf("%s: dump: %v, %d bytes", c.name, err, out.Len())
		}
		if after, _ := os.ReadFile(c.path); !bytes.Equal(before, after) {
			t.Errorf("%s: dump changed the pool file", c.name)
		}
	}
}
