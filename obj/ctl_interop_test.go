package obj

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// resetCtlGlobals puts the global names back to C's defaults, as a new
// process starts with them.
func resetCtlGlobals() {
	ctlGlobals.prefaultAtCreate.Store(0)
	ctlGlobals.prefaultAtOpen.Store(0)
	ctlGlobals.sdsAtCreate.Store(1)
	ctlGlobals.fallocateAtCreate.Store(1)
	ctlGlobals.cowAtOpen.Store(0)
	ctlGlobals.arenasAssignment.Store(0)
	ctlGlobals.arenasDefaultMax.Store(0)
}

// goCtlConf is testdata/ctlconf.c in Go: the global values as the
// library start loads the configuration, then a create, which loads it
// for the pool, and the pool's values, in ctlconf's words.
func goCtlConf(t *testing.T, path string) string {
	t.Helper()
	resetCtlGlobals()
	t.Cleanup(resetCtlGlobals)
	_ = ctlLoadEnv(nil) // the library start: errors ignored
	var b strings.Builder
	globals := []string{"prefault.at_create", "prefault.at_open", "sds.at_create", "fallocate.at_create",
		"copy_on_write.at_open", "heap.arenas_assignment_type"}
	get := func(p *Pool, name string) {
		var v int64
		var err error
		if p == nil {
			err = CtlGet(name, &v)
		} else {
			err = p.CtlGet(name, &v)
		}
		if err != nil {
			fmt.Fprintf(&b, "%s=error\n", name)
		} else {
			fmt.Fprintf(&b, "%s=%d\n", name, v)
		}
	}
	for _, n := range globals {
		get(nil, n)
	}
	p, err := Create(path, MinPoolSize, 0o600, nil)
	if err != nil {
		t.Logf("Go create: %v", err)
		b.WriteString("create failed\n")
		return b.String()
	}
	defer p.Close()
	b.WriteString("create ok\n")
	for _, n := range globals {
		get(p, n)
	}
	for _, n := range []string{"tx.cache.size", "stats.enabled", "heap.size.granularity", "tx.debug.skip_expensive_checks",
		"tx.debug.verify_user_buffers", "debug.heap.alloc_pattern", "heap.thread.arena_id"} {
		get(p, n)
	}
	for id := range 255 {
		name := fmt.Sprintf("heap.alloc_class.%d.desc", id)
		var d AllocClassDesc
		if p.CtlGet(name, &d) != nil {
			continue
		}
		fmt.Fprintf(&b, "%s=%d,%d,%d,%d,%d\n", name, d.UnitSize, d.Alignment, d.UnitsPerBlock, d.HeaderType, d.ClassID)
	}
	return b.String()
}

// TestInteropCtlConfig: configuration strings and files, valid and not,
// make the same values in Go as in C (testdata/ctlconf.c), and the same
// create succeed or fail.
func TestInteropCtlConfig(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	bin := dir + "/ctlconf"
	if out, err := exec.Command("gcc", "-O1", "-Wall", "-Werror", "-o", bin, "testdata/ctlconf.c", "-lpmemobj").CombinedOutput(); err != nil {
		t.Fatalf("building testdata/ctlconf.c: %v\n%s", err, out)
	}
	confFile := dir + "/conf"
	t.Setenv("PMEM_IS_PMEM_FORCE", "1") // CPU flushes, not msync: both sides are quicker
	cases := []struct {
		conf string // PMEMOBJ_CONF, unset if "-"
		file string // contents of PMEMOBJ_CONF_FILE, unset if ""
		// goFails: C accepts, Go refuses (documented differences).
		goFails bool
		// cDies: C dies: a query that is not name=value aborts it at its
		// library start (the global load's failure is fatal there), a
		// name past a leaf faults. Go fails the Create.
		cDies bool
		// noFile: PMEMOBJ_CONF_FILE names a file that does not exist.
		noFile bool
	}{
		{conf: ""},
		{conf: "tx.cache.size=1000"},
		{conf: "tx.cache.size=1000;prefault.at_open=1"},
		{conf: "prefault.at_open=yes;prefault.at_create=Nope"},
		{conf: ";;tx.cache.size=0x1000;;"},
		{conf: "tx.cache.size=010"},
		{conf: "tx.cache.size = 1000"},
		{conf: "tx.cache.size=abc"},
		{conf: "tx.cache.size=-1"},
		{conf: "tx.cache.size=12abc"},
		{conf: "tx.cache.size", cDies: true},
		{conf: "tx.cache.size=", cDies: true},
		{conf: "tx.cache.size=1=2", cDies: true},
		{conf: "=tx.cache.size=5"},
		{conf: "tx.cache.size==5"},
		{conf: "tx.cache.size=99999999999999999999"},
		{conf: "tx.cache.size=5,6"},
		{conf: "tx.cache.size=,7"},
		{conf: "no.such.name=1"},
		{conf: "tx.cache=1"},
		{conf: "tx.cache.size.more=1", cDies: true},
		{conf: "stats.enabled=both"},
		{conf: "stats.enabled=persistent"},
		{conf: "stats.enabled=transient"},
		{conf: "stats.enabled=disabled"},
		{conf: "stats.enabled=no"},
		{conf: "stats.enabled=1"},
		{conf: "stats.enabled=foo"},
		{conf: "stats.heap.curr_allocated=5"},
		{conf: "heap.size.granularity=0"},
		{conf: "heap.size.granularity=1024"},
		{conf: "heap.size.granularity=4194304"},
		{conf: "heap.alloc_class.128.desc=256,0,100,compact"},
		{conf: "heap.alloc_class.128.desc=512,512,50,legacy;heap.alloc_class.129.desc=64,0,1000,none"},
		{conf: "heap.alloc_class.new.desc=1000,0,10,compact"},
		{conf: "heap.alloc_class.128.desc=256,0,100"},
		{conf: "heap.alloc_class.128.desc=256,0,100,weird"},
		{conf: "heap.alloc_class.128.desc=256,100,100,compact"},
		{conf: "heap.alloc_class.128.desc=0,0,100,compact"},
		{conf: "heap.alloc_class.1.desc=256,0,100,compact"},
		{conf: "heap.alloc_class.300.desc=256,0,100,compact"},
		{conf: "tx.post_commit.queue_depth=10"},
		{conf: "tx.post_commit.worker=1"},
		{conf: "tx.cache.threshold=5"},
		{conf: "copy_on_write.at_open=0"},
		{conf: "copy_on_write.at_open=1", goFails: true},
		{conf: "sds.at_create=0;fallocate.at_create=0"},
		{conf: "heap.arenas_assignment_type=global"},
		{conf: "heap.arenas_assignment_type=thread"},
		{conf: "heap.arenas_assignment_type=foo"},
		{conf: "debug.heap.alloc_pattern=5"},
		{conf: "prefault.at_open=2"},
		{conf: "tx.debug.skip_expensive_checks=1;tx.debug.verify_user_buffers=Y"},
		{conf: "heap.thread.arena_id=1"},
		{conf: "heap.thread.arena_id=0"},
		{conf: "tx.cache.size=2000;no.such.name=1;prefault.at_open=1"},
		// Lines do not separate queries: "prefault.at_open=1stats.enabled=both".
		{conf: "-", file: "# a comment\ntx.cache.size = 2000 ; # trailing\n prefault.at_open=1\n\tstats.enabled = both\n", cDies: true},
		{conf: "-", file: "# a comment\ntx.cache.size = 2000 ; # trailing\n prefault.at_open=1;\n\tstats.enabled = both\n"},
		{conf: "-", file: "tx.cache.size=2000;\x00prefault.at_open=1"},
		{conf: "-", file: "tx.cache.size=2000\n# prefault.at_open=1\n"},
		{conf: "-", file: "tx.cache.size=abc\n"},
		{conf: "-", file: "\n\n"},
		{conf: "tx.cache.size=3000", file: "tx.cache.size=4000"},
		{conf: "tx.cache.size=3000", noFile: true, cDies: true},
		{conf: "tx.cache.size=x", file: "tx.cache.size=4000"},
	}
	for i, c := range cases {
		env := os.Environ()
		if c.conf == "-" {
			t.Setenv(ConfEnv, "")
			os.Unsetenv(ConfEnv)
		} else {
			t.Setenv(ConfEnv, c.conf)
			env = append(env, ConfEnv+"="+c.conf)
		}
		if c.noFile {
			t.Setenv(ConfFileEnv, dir+"/none")
			env = append(env, ConfFileEnv+"="+dir+"/none")
		} else if c.file != "" {
			if err := os.WriteFile(confFile, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv(ConfFileEnv, confFile)
			env = append(env, ConfFileEnv+"="+confFile)
		} else {
			t.Setenv(ConfFileEnv, "")
			os.Unsetenv(ConfFileEnv)
		}
		cPath, goPath := fmt.Sprintf("%s/c%d", dir, i), fmt.Sprintf("%s/g%d", dir, i)
		cmd := exec.Command(bin, cPath)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		name := fmt.Sprintf("conf %q file %q", c.conf, c.file)
		var exit *exec.ExitError
		if c.cDies && errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled() {
			if got := goCtlConf(t, goPath); !strings.Contains(got, "create failed") {
				t.Errorf("%s: C dies (%v), Go creates", name, err)
			}
			continue
		}
		if err != nil || c.cDies {
			t.Fatalf("ctlconf %q: %v\n%s", c.conf, err, out)
		}
		want := string(out)
		got := goCtlConf(t, goPath)
		switch {
		case c.goFails:
			if !strings.Contains(want, "create ok") || !strings.Contains(got, "create failed") {
				t.Errorf("%s: C should accept, Go refuse:\nC:\n%s\nGo:\n%s", name, want, got)
			}
		case got != want:
			t.Errorf("%s:\nC:\n%s\nGo:\n%s", name, want, got)
		default:
			t.Logf("%s: create %v", name, strings.Contains(got, "create ok"))
		}
		os.Remove(cPath)
		os.Remove(goPath)
	}
}
