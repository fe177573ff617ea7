package core_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal"
	"golang.org/x/sys/unix"
)

func TestMapFileSizeRules(t *testing.T) {
	path := pmemtest.Path(t, "rules")
	cases := []struct {
		name  string
		size  int64
		flags core.FileFlags
	}{
		{"zero size with create", 0, core.FileCreate},
		{"negative size", -1, core.FileCreate},
		{"size without create", 4096, 0},
		{"tmpfile without create", 0, core.FileTmpfile},
		{"unknown flag", 4096, core.FileCreate | 1<<20},
	}
	for _, tc := range cases {
		if _, err := core.MapFile(path, tc.size, tc.flags, 0o600); !errors.Is(err, core.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", tc.name, err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused call left a file behind: %v", err)
	}
	if _, err := core.MapFile(path, 0, 0, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("open of a missing file: %v", err)
	}
}

func TestMapFileExistingSizeUsedAndCreateResizes(t *testing.T) {
	path := pmemtest.Path(t, "resize")
	if err := os.WriteFile(path, bytes.Repeat([]byte{3}, 3*4096), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := core.MapFile(path, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size() != 3*4096 || m.Bytes()[5000] != 3 {
		t.Fatalf("size %d", m.Size())
	}
	m.Close()
	// FileCreate on an existing file sets its size, as ftruncate does.
	m, err = core.MapFile(path, 8192, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if st, _ := os.Stat(path); st.Size() != 8192 || m.Size() != 8192 {
		t.Fatalf("file %d map %d, want 8192", st.Size(), m.Size())
	}
}

func TestMapFileExclRemovesOnlyWhatItCreated(t *testing.T) {
	path := pmemtest.Path(t, "excl")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := core.MapFile(path, 4096, core.FileCreate|core.FileExcl, 0o600); !errors.Is(err, os.ErrExist) {
		t.Fatalf("excl on existing file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Fatal("excl create touched the existing file")
	}
}

func TestMapFileTmpfileIsUnnamed(t *testing.T) {
	dir := pmemtest.Dir(t)
	before, _ := os.ReadDir(dir)
	m, err := core.MapFile(dir, 1<<20, core.FileCreate|core.FileTmpfile|core.FileExcl, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Fatalf("tmpfile appeared in %s: %v", dir, after)
	}
	if m.Size() != 1<<20 {
		t.Fatalf("size %d", m.Size())
	}
	core.MemsetPersist(m.Bytes(), 0xee)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := core.MapFile(filepath.Join(dir, "no-such-dir"), 4096, core.FileCreate|core.FileTmpfile, 0o600); err == nil {
		t.Fatal("tmpfile in a missing directory")
	}
}

func TestMapFileSparse(t *testing.T) {
	blocks := func(path string) int64 {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		return st.Blocks * 512
	}
	const size = 8 << 20
	sparse := pmemtest.Path(t, "sparse")
	m, err := core.MapFile(sparse, size, core.FileCreate|core.FileSparse, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	full := pmemtest.Path(t, "full")
	m, err = core.MapFile(full, size, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if b := blocks(sparse); b != 0 {
		t.Errorf("sparse file has %d bytes allocated", b)
	}
	if b := blocks(full); b < size {
		t.Errorf("allocated file has %d of %d bytes allocated", b, size)
	}
}

func TestFacadePersistAndIsPmem(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	path := pmemtest.Path(t, "facade")
	m, err := core.MapFile(path, 1<<20, core.FileCreate|core.FileExcl, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	skipIfDAX(t, path)
	b := m.Bytes()
	if core.IsPmem(b) || m.IsPmem() {
		t.Fatal("page-cache file reported as pmem")
	}
	core.MemcpyPersist(b[0:], []byte("memcpy"))
	core.MemmovePersist(b[2:], b[0:6]) // overlapping: "mememcpy"
	core.MemsetPersist(b[100:110], 'x')
	core.MemcpyNoDrain(b[200:], []byte("nodrain"))
	core.MemsetNoDrain(b[300:304], 'y')
	core.MemmoveNoDrain(b[400:], []byte("move"))
	core.Drain()
	core.Memcpy(b[500:], []byte("flags"), core.MemNonTemporal)
	core.Memset(b[600:602], 'z', core.MemTemporal)
	core.Memmove(b[700:], []byte("mv"), core.MemNoFlush)
	core.Persist(b[700:702])
	copy(b[800:], "stored")
	core.Flush(b[800:806])
	core.Drain()
	if err := core.Msync(b[800:806]); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := map[int]string{0: "mememcpy", 100: "xxxxxxxxxx", 200: "nodrain", 300: "yyyy", 400: "move",
		500: "flags", 600: "zz", 700: "mv", 800: "stored"}
	for off, s := range want {
		if string(got[off:off+len(s)]) != s {
			t.Errorf("at %d: %q, want %q", off, got[off:off+len(s)], s)
		}
	}

	// Forced: every range counts as pmem, registered or not.
	t.Setenv("PMEM_IS_PMEM_FORCE", "1")
	heap := make([]byte, 64)
	if !core.IsPmem(heap) || core.IsPmem(nil) {
		t.Fatal("PMEM_IS_PMEM_FORCE=1 not honoured")
	}
	core.Persist(heap) // unregistered memory takes the CPU path and must not fail
	fm, err := core.MapFile(pmemtest.Path(t, "forced"), 1<<20, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer fm.Close()
	if !fm.IsPmem() || fm.Granularity() != core.GranularityCacheLine {
		t.Fatalf("forced MapFile: pmem %v granularity %v", fm.IsPmem(), fm.Granularity())
	}
	t.Setenv("PMEM_IS_PMEM_FORCE", "0")
	if core.IsPmem(fm.Bytes()) {
		t.Fatal("PMEM_IS_PMEM_FORCE=0 not honoured")
	}
}

func TestFacadeIsPmemRangeChecks(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "")
	t.Setenv("PMEM2_FORCE_GRANULARITY", "cache_line")
	m, err := core.MapFile(pmemtest.Path(t, "range"), 1<<20, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bytes()
	if !core.IsPmem(b) || !core.IsPmem(b[4096:8192]) {
		t.Fatal("forced cache-line MapFile not pmem")
	}
	if core.IsPmem(make([]byte, 10)) {
		t.Fatal("heap memory reported as pmem")
	}
	m.Close()
	if core.IsPmem(b[:1]) {
		t.Fatal("closed mapping still registered")
	}
}

// The persist path is one interface call per operation: it must not
// allocate, through the Map or through the facade.
func TestPersistPathDoesNotAllocate(t *testing.T) {
	t.Setenv("PMEM_IS_PMEM_FORCE", "1")
	m, err := core.MapFile(pmemtest.Path(t, "alloc"), 1<<20, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	src := make([]byte, 4096)
	p := m.Bytes()[8192 : 8192+4096]
	ops := map[string]func(){
		"Map.Persist":        func() { m.Persist(p) },
		"Map.Memcpy":         func() { m.Memcpy(p, src, 0) },
		"Map.Memset":         func() { m.Memset(p, 1, core.MemNoDrain) },
		"core.Persist":       func() { core.Persist(p) },
		"core.MemcpyPersist": func() { core.MemcpyPersist(p, src) },
	}
	for name, op := range ops {
		if n := testing.AllocsPerRun(100, op); n != 0 {
			t.Errorf("%s allocates %.1f times per call", name, n)
		}
	}
}

func TestFacadeDeepPersistAndAutoFlush(t *testing.T) {
	path := pmemtest.Path(t, "deep")
	m, err := core.MapFile(path, 1<<20, core.FileCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes()[4096:], "deep")
	if err := core.DeepPersist(m.Bytes()[4096:4100]); err != nil {
		t.Fatal(err)
	}
	if err := core.DeepPersist(make([]byte, 64)); err != nil {
		t.Fatalf("deep persist of heap memory: %v", err)
	}
	m.Close()
	if b, _ := os.ReadFile(path); string(b[4096:4100]) != "deep" {
		t.Fatal("deep-persisted data not in the file")
	}
	// This machine has no NVDIMM regions: no eADR. A machine with eADR
	// passes too as long as hal and the facade agree.
	if core.HasAutoFlush() != hal.AutoFlush(nil) {
		t.Fatal("HasAutoFlush disagrees with hal.AutoFlush")
	}
}

// A character device that is not device DAX is refused, whatever the flags.
func TestMapFileCharacterDevice(t *testing.T) {
	if _, err := core.MapFile(os.DevNull, 0, 0, 0); !errors.Is(err, core.ErrInvalidFileType) {
		t.Fatalf("/dev/null: %v", err)
	}
	if _, err := core.MapFile(os.DevNull, 0, core.FileExcl, 0); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("/dev/null with FileExcl: %v", err)
	}
}
