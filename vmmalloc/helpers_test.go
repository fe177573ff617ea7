package vmmalloc

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// The preload library and the C test programs are built once per test
// binary into buildDir, removed by TestMain.
var (
	buildOnce sync.Once
	buildDir  string
	libPath   string
	buildErr  error
	progMu    sync.Mutex
	progs     = map[string]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// need skips the test when a program it runs is not installed.
func need(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s is not installed (the test runs it under the preload)", n)
		}
	}
}

// lib returns the preload library, built with gcc on first use.
func lib(t testing.TB) string {
	t.Helper()
	need(t, "gcc")
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "vmmalloc-test-")
		if buildErr == nil {
			libPath, buildErr = Build(buildDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return libPath
}

// cprog compiles testdata/name.c (once) and returns the executable.
func cprog(t testing.TB, name string, flags ...string) string {
	t.Helper()
	lib(t)
	key := name + strings.Join(flags, " ")
	progMu.Lock()
	defer progMu.Unlock()
	if p, ok := progs[key]; ok {
		return p
	}
	exe := filepath.Join(buildDir, name+strings.ReplaceAll(strings.Join(flags, ""), "-", "_"))
	src, err := filepath.Abs(filepath.Join("testdata", name+".c"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-O2", "-pthread", "-o", exe, src}, flags...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, out)
	}
	progs[key] = exe
	return exe
}

// preload returns a Config for a pool of size bytes in a fresh directory
// (pmemtest.Dir: /dev/shm when it can), with the statistics of every
// process written to dir/stats-<pid>.
func preload(t testing.TB, size int64) Config {
	dir := pmemtest.Dir(t)
	return Config{Lib: lib(t), PoolDir: dir, PoolSize: size, Fork: -1,
		LogFile: filepath.Join(dir, "stats-"), LogStats: true}
}

// baseEnv is the test's environment without any preload setting, in the C
// locale so outputs compare byte for byte.
func baseEnv() []string {
	var e []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LD_PRELOAD=") || strings.HasPrefix(kv, "VMMALLOC_") ||
			strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		e = append(e, kv)
	}
	return append(e, "LC_ALL=C")
}

type result struct {
	out, stderr []byte
	code        int
	pid         int
}

// run runs a program in dir; cfg nil runs it without the preload.
func run(t testing.TB, cfg *Config, dir string, extraEnv []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), extraEnv...)
	if cfg != nil {
		cmd.Env = append(cmd.Env, cfg.Env()...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{out: out.Bytes(), stderr: errb.Bytes()}
	if cmd.ProcessState != nil {
		r.pid = cmd.ProcessState.Pid()
		r.code = cmd.ProcessState.ExitCode()
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// same runs a program without and with the preload and fails unless
// both give the same output and exit code. It returns the statistics of
// every process that ran under the preload, by pid, and the main one's.
func same(t testing.TB, cfg Config, dir string, extraEnv []string, name string, args ...string) (map[int]Stats, Stats) {
	t.Helper()
	want := run(t, nil, dir, extraEnv, name, args...)
	got := run(t, &cfg, dir, extraEnv, name, args...)
	if got.code != want.code || !bytes.Equal(got.out, want.out) {
		t.Fatalf("%s %s under the preload: exit %d, %d bytes of output (%.200q), stderr %.500q; without: exit %d, %d bytes (%.200q)",
			name, strings.Join(args, " "), got.code, len(got.out), got.out, got.stderr, want.code, len(want.out), want.out)
	}
	all := readStats(t, cfg)
	st, ok := all[got.pid]
	if !ok {
		t.Fatalf("%s: no statistics of pid %d in %s (stderr %.300q)", name, got.pid, cfg.LogFile, got.stderr)
	}
	return all, st
}

// readStats parses every stats file of cfg's log.
func readStats(t testing.TB, cfg Config) map[int]Stats {
	t.Helper()
	files, err := filepath.Glob(cfg.LogFile + "*")
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]Stats{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sts, err := ParseStats(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, s := range sts {
			m[s.PID] = s
		}
	}
	return m
}

// checkPool fails unless st shows a pool of cfg's size that served the
// program: at least minAllocs allocations and minPeak bytes of pages.
func checkPool(t testing.TB, cfg Config, st Stats, minAllocs, minPeak int64) {
	t.Helper()
	if st.PoolSize != cfg.PoolSize {
		t.Errorf("pool size %d, want %d", st.PoolSize, cfg.PoolSize)
	}
	if n := st.SmallAllocs + st.LargeAllocs; n < minAllocs {
		t.Errorf("%d allocations from the pool, want at least %d", n, minAllocs)
	}
	if st.PeakActive < minPeak {
		t.Errorf("peak active %d bytes, want at least %d", st.PeakActive, minPeak)
	}
	if st.DoubleFrees != 0 {
		t.Errorf("%d double frees", st.DoubleFrees)
	}
	t.Logf("pid %d: %d small + %d large allocations, peak %d KiB of pages, file resident %d KiB",
		st.PID, st.SmallAllocs, st.LargeAllocs, st.PeakActive>>10, st.FileResident>>10)
}
