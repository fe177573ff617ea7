package conformance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/hal"
	"github.com/gopmdk/pmdk/hal/haltest"
)

// Backend is one way to get a [core.Map]: a kernel set on a forced-pmem
// file, the page cache, a DAX mount, or the crash simulator.
type Backend struct {
	// Name is the subtest name, such as "file/clwb+avx" or "crashsim/none+generic".
	Name string
	// Kernels is the kernel set that persists (nil: the mapping chooses).
	Kernels *hal.Kernels
	// Granularity the maps have.
	Granularity core.Granularity
	// Crash is true for the crash simulator: crash cases explore crash
	// points, and Reopen keeps only what was made durable.
	Crash bool
	// NewMap returns a fresh zero-filled map of size bytes, closed when t
	// ends.
	NewMap func(t testing.TB, size int) *core.Map
	// Reopen closes m (from NewMap or Reopen) and maps its storage again:
	// what a later process would see. On the crash simulator only the
	// durable image survives.
	Reopen func(t testing.TB, m *core.Map) *core.Map
	// Path returns the file behind m, for other processes (C PMDK) to
	// open; "" when there is none (the crash simulator).
	Path func(m *core.Map) string
}

// Backends returns every backend this machine offers: for each kernel set
// hal supports, a forced-pmem file in /dev/shm and the crash simulator (one
// kernel set per store kind unless [Full]); the
// page cache (msync) through core.NewMap; and, when PMEM_TEST_DIR is set, a
// file there through core.NewMap (DAX when the mount offers MAP_SYNC).
func Backends(t testing.TB) []Backend {
	var bs []Backend
	for _, k := range haltest.All(0) {
		bs = append(bs, FileBackend(k))
	}
	bs = append(bs, newMapBackend("pagecache", "", false))
	bs = append(bs, newMapBackend("forced", "", true))
	if dir := os.Getenv("PMEM_TEST_DIR"); dir != "" {
		b := newMapBackend("pmem-test-dir", dir, false)
		g, err := probeGranularity(dir)
		if err != nil {
			t.Fatalf("conformance: PMEM_TEST_DIR=%s: %v", dir, err)
		}
		b.Granularity = g
		if g != core.GranularityPage {
			b.Name = "newmap/dax"
		}
		bs = append(bs, b)
	}
	// In the simulator only a kernel set's stores matter (the device keeps
	// its own account of flushes): one set per store kind is enough but
	// for the full suite.
	moves := map[hal.MoveKind]bool{}
	for _, k := range haltest.All(0) {
		if Full() || !moves[k.Move()] {
			moves[k.Move()] = true
			bs = append(bs, CrashBackend(k))
		}
	}
	return bs
}

// FileBackend maps a file of [pmemtest.Dir] (/dev/shm) shared and persists
// it with the CPU path of kernel set k, as core does for forced pmem.
func FileBackend(k *hal.Kernels) Backend {
	fm := &fileMaps{mapFile: func(t testing.TB, path string) *core.Map {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatalf("mmap %s: %v", path, err)
		}
		return core.NewMemoryMap(data, core.GranularityCacheLine, core.NewPersister(core.GranularityCacheLine, k),
			func() error { return unix.Munmap(data) })
	}}
	return Backend{
		Name:        "file/" + k.Name(),
		Kernels:     k,
		Granularity: core.GranularityCacheLine,
		NewMap: func(t testing.TB, size int) *core.Map {
			return fm.create(t, pmemtest.Path(t, "pool"), size)
		},
		Reopen: fm.reopen,
		Path:   fm.path,
	}
}

// newMapBackend maps files with core.NewMap, the library's own path: the
// page cache (msync), forced pmem, or whatever dir offers (DAX).
func newMapBackend(name, dir string, force bool) Backend {
	g := core.GranularityPage
	if force {
		g = core.GranularityCacheLine
	}
	fm := &fileMaps{mapFile: func(t testing.TB, path string) *core.Map {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		src, err := core.FromFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := core.NewMap(src, &core.Config{RequiredGranularity: core.GranularityPage, ForcePmem: force})
		if err != nil {
			t.Fatal(err)
		}
		if dir == "" && m.Granularity() != g {
			t.Fatalf("conformance: %s map has granularity %v, want %v", name, m.Granularity(), g)
		}
		return m
	}}
	return Backend{
		Name:        "newmap/" + name,
		Granularity: g,
		NewMap: func(t testing.TB, size int) *core.Map {
			d := dir
			if d == "" {
				d = pmemtest.Dir(t)
			} else {
				var err error
				if d, err = os.MkdirTemp(dir, "conformance-"); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(d) })
			}
			path := filepath.Join(d, "pool")
			return fm.create(t, path, size)
		},
		Reopen: fm.reopen,
		Path:   fm.path,
	}
}

// fileMaps is what the file backends share: creating a pool file, and the
// file behind each map they made, so Reopen and Path find it again.
type fileMaps struct {
	paths   sync.Map // *core.Map -> file path
	mapFile func(t testing.TB, path string) *core.Map
}

func (fm *fileMaps) open(t testing.TB, path string) *core.Map {
	m := fm.mapFile(t, path)
	fm.paths.Store(m, path)
	t.Cleanup(func() { m.Close() })
	return m
}

func (fm *fileMaps) create(t testing.TB, path string, size int) *core.Map {
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(size)); err != nil {
		t.Fatal(err)
	}
	return fm.open(t, path)
}

func (fm *fileMaps) reopen(t testing.TB, m *core.Map) *core.Map {
	p, ok := fm.paths.LoadAndDelete(m)
	if !ok {
		t.Fatal("conformance: Reopen of a map this backend did not make")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return fm.open(t, p.(string))
}

func (fm *fileMaps) path(m *core.Map) string {
	p, _ := fm.paths.Load(m)
	s, _ := p.(string)
	return s
}

// probeGranularity maps a small file in dir and returns the granularity
// core.NewMap gives it: cache line (or byte, with eADR) on DAX, page else.
func probeGranularity(dir string) (core.Granularity, error) {
	f, err := os.CreateTemp(dir, "probe-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := f.Truncate(2 << 20); err != nil {
		return 0, err
	}
	src, err := core.FromFile(f)
	if err != nil {
		return 0, err
	}
	m, err := core.NewMap(src, &core.Config{RequiredGranularity: core.GranularityPage})
	if err != nil {
		return 0, err
	}
	defer m.Close()
	return m.Granularity(), nil
}

// CrashBackend is the crash simulator whose devices store with kernel set
// k (nil: plain copies).
func CrashBackend(k *hal.Kernels) Backend {
	name := "crashsim"
	if k != nil {
		name += "/" + k.Name()
	}
	newDev := func(t testing.TB, c crashsim.DeviceConfig) *core.Map {
		c.Kernels = k
		c.KeepOnClose = true // Reopen reads the durable image after a Close
		d, err := crashsim.NewDeviceConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d.Map()
	}
	return Backend{
		Name:        name,
		Kernels:     k,
		Granularity: core.GranularityCacheLine,
		Crash:       true,
		NewMap: func(t testing.TB, size int) *core.Map {
			return newDev(t, crashsim.DeviceConfig{Size: size})
		},
		Reopen: func(t testing.TB, m *core.Map) *core.Map {
			d, ok := m.Persister().(*crashsim.Device)
			if !ok {
				t.Fatal("conformance: Reopen of a map the crash simulator did not make")
			}
			img := d.Durable()
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			return newDev(t, crashsim.DeviceConfig{Image: img})
		},
		Path: func(*core.Map) string { return "" },
	}
}

// errUncut is a CrashCase's Check failing after an uncut run.
var errUncut = errors.New("conformance: check after an uncut run")

// RunUncut runs w without crashing on b: Setup, Reopen, Run, Reopen, then
// Recover (if any) and Check on the final state, with Crash.Point one past
// the fences Run issued (counted on the way).
func RunUncut(t testing.TB, b Backend, w crashsim.Workload) error {
	m := b.NewMap(t, w.Size)
	if w.Setup != nil {
		if err := w.Setup(m); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		m = b.Reopen(t, m)
	}
	counter := &fenceCounter{Persister: m.Persister()}
	if err := w.Run(core.NewMemoryMap(m.Bytes(), m.Granularity(), counter, m.Close)); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	m = b.Reopen(t, m)
	if w.Recover != nil {
		if err := w.Recover(m); err != nil {
			return fmt.Errorf("recover: %w", err)
		}
	}
	c := crashsim.Crash{Point: counter.fences + 1, Fences: counter.fences, Strategy: "uncut"}
	if err := w.Check(m, c); err != nil {
		return fmt.Errorf("%w: %w", errUncut, err)
	}
	return nil
}

// fenceCounter counts the fences of a persist path as the crash simulator
// does: Drain, Persist, and Memmove/Memset without MemNoDrain.
type fenceCounter struct {
	core.Persister
	fences int
}

func (c *fenceCounter) Drain()           { c.fences++; c.Persister.Drain() }
func (c *fenceCounter) Persist(b []byte) { c.fences++; c.Persister.Persist(b) }

func (c *fenceCounter) Memmove(dst, src []byte, flags core.MemFlags) {
	if flags&core.MemNoDrain == 0 {
		c.fences++
	}
	c.Persister.Memmove(dst, src, flags)
}

func (c *fenceCounter) Memset(dst []byte, v byte, flags core.MemFlags) {
	if flags&core.MemNoDrain == 0 {
		c.fences++
	}
	c.Persister.Memset(dst, v, flags)
}
