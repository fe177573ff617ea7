package core_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal"
)

// newFile creates a pool file of size bytes filled with fill and returns it
// open read-write.
func newFile(t *testing.T, name string, size int, fill byte) *os.File {
	t.Helper()
	path := pmemtest.Path(t, name)
	if err := os.WriteFile(path, bytes.Repeat([]byte{fill}, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mustMap(t *testing.T, src *core.Source, cfg *core.Config) *core.Map {
	t.Helper()
	m, err := core.NewMap(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestNewMapFileWholeAndPersistVisibleAfterUnmap(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	f := newFile(t, "whole", 1<<20, 0)
	skipIfDAX(t, f.Name())
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m, err := core.NewMap(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size() != 1<<20 || m.Offset() != 0 {
		t.Fatalf("size %d offset %d", m.Size(), m.Offset())
	}
	// /dev/shm and /tmp are not DAX: the page cache is all there is.
	if m.Granularity() != core.GranularityPage || m.IsPmem() {
		t.Fatalf("granularity %v pmem %v on a page-cache file", m.Granularity(), m.IsPmem())
	}
	msg := []byte("persisted through msync")
	m.Memcpy(m.Bytes()[8192:], msg, 0)
	copy(m.Bytes()[100:], "direct store")
	m.Persist(m.Bytes()[100:112])
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[8192:8192+len(msg)], msg) || string(got[100:112]) != "direct store" {
		t.Fatal("stores not in the file after unmap")
	}
}

func TestNewMapOffsetLength(t *testing.T) {
	page := os.Getpagesize()
	f := newFile(t, "offlen", 16*page, 0)
	for i := range 16 {
		if _, err := f.WriteAt(bytes.Repeat([]byte{byte(i + 1)}, page), int64(i*page)); err != nil {
			t.Fatal(err)
		}
	}
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	pg := core.GranularityPage
	m := mustMap(t, src, &core.Config{Offset: int64(3 * page), Length: int64(2 * page), RequiredGranularity: pg})
	if m.Size() != 2*page || m.Offset() != int64(3*page) || m.Bytes()[0] != 4 || m.Bytes()[page] != 5 {
		t.Fatalf("window: size %d first byte %d", m.Size(), m.Bytes()[0])
	}
	rest := mustMap(t, src, &core.Config{Offset: int64(10 * page), RequiredGranularity: pg})
	if rest.Size() != 6*page || rest.Bytes()[0] != 11 {
		t.Fatalf("length 0 maps %d bytes, first %d; want rest of file", rest.Size(), rest.Bytes()[0])
	}

	bad := []struct {
		name string
		cfg  core.Config
		want error
	}{
		{"unaligned offset", core.Config{Offset: 100}, core.ErrOffsetUnaligned},
		{"negative offset", core.Config{Offset: -int64(page)}, core.ErrOffsetUnaligned},
		{"unaligned length", core.Config{Length: 100}, core.ErrLengthUnaligned},
		{"beyond end", core.Config{Offset: int64(15 * page), Length: int64(2 * page)}, core.ErrMapRange},
		{"offset at end", core.Config{Offset: int64(16 * page)}, core.ErrMapRange},
		{"huge length", core.Config{Offset: int64(page), Length: math.MaxInt64 / int64(page) * int64(page)}, core.ErrMapRange},
		{"bad granularity", core.Config{RequiredGranularity: 7}, core.ErrInvalidArgument},
		{"prot none mixed", core.Config{Protection: core.ProtNone | core.ProtRead}, core.ErrInvalidArgument},
	}
	for _, tc := range bad {
		cfg := tc.cfg
		if cfg.RequiredGranularity == 0 {
			cfg.RequiredGranularity = pg
		}
		if _, err := core.NewMap(src, &cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestNewMapGranularityRefusedOnPageCache(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	t.Setenv("PMEM2_FORCE_GRANULARITY", "")
	gf := newFile(t, "gran", 1<<16, 0)
	skipIfDAX(t, gf.Name())
	src, err := core.FromFile(gf)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []core.Granularity{core.GranularityByte, core.GranularityCacheLine} {
		_, err := core.NewMap(src, &core.Config{RequiredGranularity: g})
		if !errors.Is(err, core.ErrGranularityNotSupported) {
			t.Errorf("required %v on page cache: %v", g, err)
		}
	}
	// Forcing pmem makes the page-cache file take CPU flushes.
	m := mustMap(t, src, &core.Config{RequiredGranularity: core.GranularityCacheLine, ForcePmem: true})
	if m.Granularity() != core.GranularityCacheLine || !m.IsPmem() {
		t.Fatalf("ForcePmem: %v pmem %v", m.Granularity(), m.IsPmem())
	}
	t.Setenv("PMEM_IS_PMEM_FORCE", "1")
	m = mustMap(t, src, &core.Config{RequiredGranularity: core.GranularityCacheLine})
	if m.Granularity() != core.GranularityCacheLine {
		t.Fatalf("PMEM_IS_PMEM_FORCE=1: %v", m.Granularity())
	}
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	t.Setenv("PMEM2_FORCE_GRANULARITY", "byte")
	m = mustMap(t, src, &core.Config{RequiredGranularity: core.GranularityByte})
	if m.Granularity() != core.GranularityByte {
		t.Fatalf("PMEM2_FORCE_GRANULARITY=byte: %v", m.Granularity())
	}
	t.Setenv("PMEM2_FORCE_GRANULARITY", "PAGE")
	if _, err := core.NewMap(src, &core.Config{RequiredGranularity: core.GranularityCacheLine, ForcePmem: true}); !errors.Is(err, core.ErrGranularityNotSupported) {
		t.Fatalf("PMEM2_FORCE_GRANULARITY=PAGE overrides ForcePmem: %v", err)
	}
}

func TestNewMapPrivateLeavesFileAlone(t *testing.T) {
	f := newFile(t, "private", 1<<16, 0x5a)
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m := mustMap(t, src, &core.Config{Sharing: core.SharingPrivate, RequiredGranularity: core.GranularityByte})
	if m.Granularity() != core.GranularityByte {
		t.Fatalf("private granularity %v", m.Granularity())
	}
	m.Memset(m.Bytes(), 0xff, 0)
	m.Persist(m.Bytes())
	if err := m.DeepFlush(m.Bytes()[:4096]); err != nil {
		t.Fatal(err)
	}
	m.Close()
	got, _ := os.ReadFile(f.Name())
	if !bytes.Equal(got, bytes.Repeat([]byte{0x5a}, 1<<16)) {
		t.Fatal("private mapping changed the file")
	}
}

func TestNewMapAnonymous(t *testing.T) {
	src, err := core.Anonymous(3 << 20)
	if err != nil {
		t.Fatal(err)
	}
	m := mustMap(t, src, &core.Config{RequiredGranularity: core.GranularityByte})
	if m.Size() != 3<<20 || m.Granularity() != core.GranularityByte || m.IsPmem() {
		t.Fatalf("anon: size %d %v pmem %v", m.Size(), m.Granularity(), m.IsPmem())
	}
	m.Memset(m.Bytes()[1<<20:], 7, 0)
	if m.Bytes()[3<<20-1] != 7 || m.Bytes()[0] != 0 {
		t.Fatal("anonymous memory not writable")
	}
	if err := m.DeepFlush(m.Bytes()); !errors.Is(err, core.ErrNotSupported) {
		t.Fatalf("deep flush of anonymous memory: %v", err)
	}
	if _, err := m.UnsafeShutdownCount(); !errors.Is(err, core.ErrNotSupported) {
		t.Fatalf("usc of anonymous memory: %v", err)
	}
	if _, err := core.Anonymous(-1); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("negative anonymous size: %v", err)
	}
	empty, _ := core.Anonymous(0)
	if _, err := core.NewMap(empty, nil); !errors.Is(err, core.ErrSourceEmpty) {
		t.Fatalf("empty anonymous: %v", err)
	}
}

func TestNewMapHugePageAlignment(t *testing.T) {
	src, _ := core.Anonymous(4 << 20)
	m := mustMap(t, src, nil)
	if a := core.AddressOf(m.Bytes()); a%(2<<20) != 0 {
		t.Fatalf("mapping at %#x, not 2 MiB aligned", a)
	}
}

func TestSourceFromFD(t *testing.T) {
	f := newFile(t, "fd", 1<<16, 1)
	src, err := core.FromFD(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := src.Size(); err != nil || n != 1<<16 {
		t.Fatalf("size %d %v", n, err)
	}
	m := mustMap(t, src, nil)
	if m.Bytes()[0] != 1 {
		t.Fatal("content")
	}
	if _, err := core.FromFD(-1); !errors.Is(err, core.ErrInvalidFileHandle) {
		t.Fatalf("fd -1: %v", err)
	}
	d, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := core.FromFile(d); !errors.Is(err, core.ErrInvalidFileType) {
		t.Fatalf("directory: %v", err)
	}
	w, err := os.OpenFile(f.Name(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := core.FromFile(w); !errors.Is(err, core.ErrInvalidFileHandle) {
		t.Fatalf("write-only: %v", err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if _, err := core.FromFile(null); !errors.Is(err, core.ErrInvalidFileType) {
		t.Fatalf("/dev/null: %v", err)
	}
}

func TestNewMapReadOnly(t *testing.T) {
	f := newFile(t, "ro", 1<<16, 9)
	ro, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	src, _ := core.FromFile(ro)
	if _, err := core.NewMap(src, nil); err == nil {
		t.Fatal("read-write map of a read-only descriptor")
	}
	m := mustMap(t, src, &core.Config{Protection: core.ProtRead, RequiredGranularity: core.GranularityPage})
	if m.Bytes()[42] != 9 {
		t.Fatal("content")
	}
}

// skipIfDAX skips a test about page-cache behaviour when the pool directory
// (PMEM_TEST_DIR) is on DAX; TestNewMapOnDAX covers that case.
func skipIfDAX(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p, _ := hal.DetectFile(f); p.DAX {
		t.Skipf("%s is on DAX: this test is about the page cache", path)
	}
}

func TestNewMapOnDAX(t *testing.T) {
	t.Setenv("PMEM2_FORCE_GRANULARITY", "")
	f := newFile(t, "dax", 2<<20, 0)
	p, err := hal.DetectFile(f)
	if err != nil || !p.DAX {
		t.Skipf("pool directory is not DAX (set PMEM_TEST_DIR to a DAX mount): %v", err)
	}
	src, err := core.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m := mustMap(t, src, &core.Config{RequiredGranularity: core.GranularityCacheLine})
	want := core.GranularityCacheLine
	if p.EADR {
		want = core.GranularityByte
	}
	if m.Granularity() != want || !m.IsPmem() {
		t.Fatalf("DAX map: %v pmem %v, want %v", m.Granularity(), m.IsPmem(), want)
	}
	m.Memcpy(m.Bytes()[4096:], []byte("dax"), 0)
	if err := m.DeepFlush(m.Bytes()[4096:4099]); err != nil {
		t.Fatal(err)
	}
}
