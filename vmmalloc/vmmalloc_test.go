package vmmalloc

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// Out of pool memory: malloc returns NULL with ENOMEM (large and small
// requests alike), the program goes on, and freed memory serves again.
func TestOutOfMemory(t *testing.T) {
	exe := cprog(t, "oom")
	cfg := preload(t, MinPoolSize)
	cfg.LogLevel = 1
	r := run(t, &cfg, t.TempDir(), nil, exe, "1000000000")
	if r.code != 0 || string(r.out) != "big enomem small enomem again ok huge enomem\n" {
		t.Fatalf("exit %d, output %q, stderr %q", r.code, r.out, r.stderr)
	}
	log, err := os.ReadFile(cfg.LogFile + itoa(r.pid))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("out of pool memory")) {
		t.Errorf("VMMALLOC_LOG_LEVEL=1 logged no out-of-memory event:\n%s", log)
	}
	st := readStats(t, cfg)[r.pid]
	checkPool(t, cfg, st, 1000, MinPoolSize-(1<<20))
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// A forked child writes over its copies of the parent's blocks and
// allocates; the parent's blocks stay as they were (modes 1, 2, 3), and
// the child's exec starts the preload afresh.
func TestFork(t *testing.T) {
	exe := cprog(t, "fork")
	need(t, "echo")
	for _, tc := range []struct {
		mode    int
		private bool // the pools end up MAP_PRIVATE
	}{{ForkPrivate, true}, {ForkCopy, false}, {ForkCopyOrPriv, false}} {
		cfg := preload(t, 16<<20)
		cfg.Fork = tc.mode
		dir := t.TempDir()
		// With an exec in the child.
		same(t, cfg, dir, nil, exe, "echo", "exec", "ok")
		// Without: the child exits and writes its statistics.
		cfg = preload(t, 16<<20)
		cfg.Fork = tc.mode
		all, parent := same(t, cfg, dir, nil, exe)
		if len(all) != 2 {
			t.Fatalf("mode %d: statistics of %d processes, want parent and child", tc.mode, len(all))
		}
		for pid, st := range all {
			if st.ForkMode != tc.mode || st.Private != tc.private {
				t.Errorf("mode %d: pid %d has fork mode %d, private %v; want private %v", tc.mode, pid, st.ForkMode, st.Private, tc.private)
			}
			checkPool(t, cfg, st, 256, 1<<20)
			if pid != parent.PID && st.SmallAllocs <= 256 {
				t.Errorf("mode %d: the child's statistics show %d allocations, not its own", tc.mode, st.SmallAllocs)
			}
		}
	}
}

// As libvmmalloc, missing or bad settings stop the program with a message.
func TestEnvironmentErrors(t *testing.T) {
	need(t, "true")
	l := lib(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"VMMALLOC_POOL_SIZE=64M"}, "VMMALLOC_POOL_DIR is not set"},
		{[]string{"VMMALLOC_POOL_DIR=" + dir}, "VMMALLOC_POOL_SIZE is not a size"},
		{[]string{"VMMALLOC_POOL_DIR=" + dir, "VMMALLOC_POOL_SIZE=1M"}, "below the minimum"},
		{[]string{"VMMALLOC_POOL_DIR=" + dir, "VMMALLOC_POOL_SIZE=64M", "VMMALLOC_FORK=7"}, "VMMALLOC_FORK must be"},
		{[]string{"VMMALLOC_POOL_DIR=" + dir + "/missing", "VMMALLOC_POOL_SIZE=64M"}, "cannot create the pool file"},
	} {
		r := run(t, nil, dir, append([]string{"LD_PRELOAD=" + l}, tc.env...), "true")
		if r.code == 0 || !strings.Contains(string(r.stderr), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure saying %q", tc.env, r.code, r.stderr, tc.want)
		}
	}
	r := run(t, nil, dir, []string{"LD_PRELOAD=" + l, "VMMALLOC_POOL_DIR=" + dir, "VMMALLOC_POOL_SIZE=16m"}, "true")
	if r.code != 0 || len(r.stderr) != 0 {
		t.Errorf("a good setting: exit %d, stderr %q", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the pool file has a name in its directory: %v", ents)
	}
}

func TestParseStats(t *testing.T) {
	in := "vmmalloc[7]: pool created in /x 16777216\n" + statsBegin + "\npid: 7\npool_size: 16777216\nprivate: 1\nsmall_allocs: 5\nnew_figure: 3\n" + statsEnd + "\n" +
		statsBegin + "\npid: 8\nfork_mode: 2\n" + statsEnd + "\n"
	sts, err := ParseStats(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 2 || sts[0].PID != 7 || sts[0].PoolSize != 16<<20 || !sts[0].Private || sts[0].SmallAllocs != 5 || sts[1].ForkMode != 2 {
		t.Fatalf("%+v", sts)
	}
	for _, bad := range []string{statsBegin + "\npid 7\n" + statsEnd, statsBegin + "\npid: x\n" + statsEnd, statsBegin + "\npid: 7\n"} {
		if _, err := ParseStats(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// Every interposed function, its alignment, sizes and errors, against
// glibc's answers.
func TestAPIs(t *testing.T) {
	exe := cprog(t, "apis")
	cfg := preload(t, 32<<20)
	_, st := same(t, cfg, t.TempDir(), nil, exe)
	checkPool(t, cfg, st, 100, 1<<20)
	if st.Allocations > 10 {
		t.Errorf("%d allocations live at exit, want only stdio's", st.Allocations)
	}
	// vmmalloc_stats_print, called by the program, writes the same form.
	r := run(t, &cfg, t.TempDir(), nil, exe)
	sts, err := ParseStats(bytes.NewReader(r.stderr))
	if err != nil || len(sts) != 1 || sts[0].PID != r.pid || sts[0].SmallAllocs < 100 {
		t.Errorf("vmmalloc_stats_print: %+v, %v, from %q", sts, err, r.stderr)
	}
}

// Forks while other threads allocate: the allocator's locks are held
// across each fork, so no child inherits one held (it would hang), in
// every mode that copies or privatises the pool.
func TestForkWhileThreadsAllocate(t *testing.T) {
	exe := cprog(t, "forkthreads")
	forks := "10"
	if testing.Short() {
		forks = "4"
	}
	for _, mode := range []int{ForkPrivate, ForkCopy, ForkCopyOrPriv} {
		cfg := preload(t, 16<<20)
		cfg.Fork = mode
		cfg.LogStats = false
		r := run(t, &cfg, t.TempDir(), nil, exe, forks)
		if want := forks + " of " + forks + " children ok\n"; r.code != 0 || string(r.out) != want {
			t.Errorf("mode %d: exit %d, output %q, stderr %q; want %q", mode, r.code, r.out, r.stderr, want)
		}
	}
}
