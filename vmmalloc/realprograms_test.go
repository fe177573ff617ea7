package vmmalloc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The real programs run twice, without and with the preload, and must give
// the same output; the statistics each process writes at exit
// (VMMALLOC_LOG_STATS) must show that its pool served it.

func TestRealProgramsSort(t *testing.T) {
	need(t, "sort")
	cfg := preload(t, 64<<20)
	lines := 150000
	if testing.Short() {
		lines = 30000
	}
	in := filepath.Join(t.TempDir(), "in.txt")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	x := uint64(88172645463325252)
	for i := 0; i < lines; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		fmt.Fprintf(w, "%016x line %d %s\n", x, i, strings.Repeat("z", int(x%40)))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, st := same(t, cfg, t.TempDir(), nil, "sort", in)
	checkPool(t, cfg, st, 10, 1<<20)
}

func TestRealProgramsLs(t *testing.T) {
	need(t, "ls")
	cfg := preload(t, 64<<20)
	// Not the whole of /usr: on a shared machine something under it
	// changes between the two runs (caches, builds), and it takes half a
	// minute; these trees change only when packages are installed.
	dirs := []string{"/usr/include", "/usr/share/man"}
	if testing.Short() {
		dirs = dirs[:1]
	}
	_, st := same(t, cfg, t.TempDir(), nil, "ls", append([]string{"-lR"}, dirs...)...)
	checkPool(t, cfg, st, 1000, 64<<10)
}

func TestRealProgramsPython(t *testing.T) {
	need(t, "python3")
	// The interpreter itself, not a wrapper script (pyenv's shims are bash).
	exe, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skipf("python3 does not run: %v", err)
	}
	python := strings.TrimSpace(string(exe))
	cfg := preload(t, 64<<20)
	n := 200000
	if testing.Short() {
		n = 100000
	}
	prog := fmt.Sprintf(`
d = {i: str(i) * 3 for i in range(%d)}
print(len(d), sum(len(v) for v in d.values()))
del d
l = [bytes(600) for _ in range(20000)]
print(len(l), sum(map(len, l)))
del l
print("dropped")`, n)
	_, st := same(t, cfg, t.TempDir(), nil, python, "-c", prog)
	// The dict's table and the 600-byte objects (above pymalloc's 512)
	// come from the pool.
	checkPool(t, cfg, st, 20000, 8<<20)
	if st.Allocated > st.PeakActive/2 {
		t.Errorf("%d bytes still allocated at exit of a peak of %d: the dict was not given back", st.Allocated, st.PeakActive)
	}
}

func TestRealProgramsGcc(t *testing.T) {
	need(t, "gcc")
	cfg := preload(t, 64<<20)
	dir := t.TempDir()
	src := `#include <stdio.h>
struct point { int x, y; };
static int dist(struct point a, struct point b) { return (a.x-b.x)*(a.x-b.x) + (a.y-b.y)*(a.y-b.y); }
int main(void) { struct point a = {1, 2}, b = {4, 6}; printf("%d\n", dist(a, b)); return 0; }
`
	if err := os.WriteFile(filepath.Join(dir, "hello.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// gcc writes the object file: compare it, not stdout.
	run(t, nil, dir, nil, "gcc", "-O2", "-c", "hello.c", "-o", "plain.o")
	all, st := same(t, cfg, dir, nil, "gcc", "-O2", "-c", "hello.c", "-o", "preload.o")
	a, err := os.ReadFile(filepath.Join(dir, "plain.o"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "preload.o"))
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("object files differ: %d bytes without the preload, %d with", len(a), len(b))
	}
	checkPool(t, cfg, st, 100, 4096)
	// The driver execs cc1 and as: each runs on a pool of its own.
	if len(all) < 3 {
		t.Errorf("statistics of %d processes, want gcc, cc1 and as", len(all))
	}
	var most Stats
	for _, s := range all {
		if s.SmallAllocs > most.SmallAllocs {
			most = s
		}
	}
	checkPool(t, cfg, most, 10000, 1<<20)
}

func TestRealProgramsGit(t *testing.T) {
	need(t, "git")
	cfg := preload(t, 32<<20)
	env := []string{"HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@b",
		"GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@b", "GIT_AUTHOR_DATE=2020-01-01T00:00:00Z",
		"GIT_COMMITTER_DATE=2020-01-01T00:00:00Z"}
	var repos [2]string
	for i := range repos {
		repos[i] = t.TempDir()
		for j := 0; j < 50; j++ {
			body := strings.Repeat(fmt.Sprintf("line %d of file %d\n", j, j), 20+j)
			if err := os.WriteFile(filepath.Join(repos[i], fmt.Sprintf("f%02d.txt", j)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "."},
		{"commit", "-q", "-m", "first"},
		{"log", "--stat", "--format=%H %s"},
		{"gc", "-q"},
		{"fsck", "--full"},
	}
	for _, s := range steps {
		want := run(t, nil, repos[0], env, "git", s...)
		got := run(t, &cfg, repos[1], env, "git", s...)
		if want.code != 0 || got.code != want.code || string(got.out) != string(want.out) {
			t.Fatalf("git %s: under the preload exit %d %q (stderr %q); without exit %d %q (stderr %q)",
				strings.Join(s, " "), got.code, got.out, got.stderr, want.code, want.out, want.stderr)
		}
	}
	all := readStats(t, cfg)
	var most Stats
	for _, s := range all {
		if s.SmallAllocs > most.SmallAllocs {
			most = s
		}
	}
	checkPool(t, cfg, most, 1000, 64<<10)
	t.Logf("%d git processes ran on pools", len(all))
}

func TestRealProgramsThreads(t *testing.T) {
	exe := cprog(t, "threads")
	cfg := preload(t, 64<<20)
	threads, iters := "16", "20000"
	if testing.Short() {
		threads, iters = "8", "10000"
	}
	_, st := same(t, cfg, t.TempDir(), nil, exe, threads, iters)
	checkPool(t, cfg, st, 8*5000, 1<<20)
	if st.LargeAllocs == 0 {
		t.Error("no large allocation")
	}
	if st.Allocations > 100 {
		t.Errorf("%d allocations live at exit: the program frees all but stdio's", st.Allocations)
	}
}
