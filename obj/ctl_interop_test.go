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
	"github.com/gopmdk/pmdk/obj/cobj"
	"github.com/gopmdk/pmdk/obj/layout"
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

// customClasses are the classes the custom class interop tests register:
// each header type, aligned units, runs of many chunks.
var customClasses = []AllocClassDesc{
	{UnitSize: 128, UnitsPerBlock: 1000, HeaderType: HeaderLegacy},
	{UnitSize: 64, UnitsPerBlock: 1000, HeaderType: HeaderNone},
	{UnitSize: 256, Alignment: 256, UnitsPerBlock: 500, HeaderType: HeaderCompact},
	{UnitSize: 100000, UnitsPerBlock: 20, HeaderType: HeaderCompact},
	{UnitSize: 4096, Alignment: 4096, UnitsPerBlock: 100, HeaderType: HeaderLegacy},
	{UnitSize: 1000, UnitsPerBlock: 300, HeaderType: HeaderNone},
}

// TestInteropGoCustomClassesInC: classes registered through Go's ctl get
// the ids and units per run C gives them; objects Go allocates from them
// read in C (pmemobj_check passes, pmemobj_first/next see them with their
// type numbers, usable sizes and contents), and C, given the same
// classes, frees some and allocates more in Go's runs; Go reads that.
func TestInteropGoCustomClassesInC(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	c, err := cobj.Create(dir+"/c.obj", "", 32<<20, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	path := dir + "/go.obj"
	p, err := Create(path, 32<<20, 0o600, &Options{Arenas: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var ids []uint32
	for _, d := range customClasses {
		g := d
		if err := p.CtlSet("heap.alloc_class.new.desc", &g); err != nil {
			t.Fatal(err)
		}
		cd, err := c.NewAllocClass(cobj.ClassDesc{UnitSize: d.UnitSize, Alignment: d.Alignment,
			UnitsPerBlock: d.UnitsPerBlock, HeaderType: cobj.HeaderType(d.HeaderType)})
		if err != nil {
			t.Fatal(err)
		}
		if g.ClassID != cd.ClassID || g.UnitsPerBlock != cd.UnitsPerBlock {
			t.Errorf("class %+v: Go id %d, %d units per run; C id %d, %d", d, g.ClassID, g.UnitsPerBlock, cd.ClassID, cd.UnitsPerBlock)
		}
		ids = append(ids, g.ClassID)
	}
	c.Close()
	seed := 0
	for i, id := range ids {
		n := 0
		for _, size := range []int{1, 50, 64, 100, 300, 5000, 99984, 150000} {
			for range 3 {
				_, err := p.Xalloc(size, uint64(10*i+n), ClassID(uint8(id)), ctorPattern(seed))
				if err != nil {
					if !errors.Is(err, ErrSize) {
						t.Fatalf("class %d, %d bytes: %v", id, size, err)
					}
					break
				}
				seed++
				n++
			}
		}
		if n == 0 {
			t.Fatalf("class %d took no object", id)
		}
	}
	want := mustGoState(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := cobj.Check(path, ""); r != 1 {
		t.Fatalf("pmemobj_check of Go's custom class runs: %d (%v)", r, err)
	}
	got, err := openCState(path, "", allBytes)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "C reads objects of Go's custom classes", got, want)

	// C, with the same classes, frees every other object and fills the
	// runs further.
	c, err = cobj.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range customClasses {
		if _, err := c.NewAllocClass(cobj.ClassDesc{UnitSize: d.UnitSize, Alignment: d.Alignment,
			UnitsPerBlock: d.UnitsPerBlock, HeaderType: cobj.HeaderType(d.HeaderType)}); err != nil {
			t.Fatal(err)
		}
	}
	var frees []cobj.OID
	i := 0
	for o := c.First(); !o.IsNull(); o = cobj.Next(o) {
		if i++; i%2 == 0 {
			frees = append(frees, o)
		}
	}
	for _, o := range frees {
		cobj.Free(o)
	}
	for k, id := range ids {
		o, err := c.Xalloc(40, uint64(100+k), uint64(id)<<48)
		if err != nil {
			t.Fatalf("C allocates from class %d: %v", id, err)
		}
		cFill(c, o, 1000+k)
	}
	want = mustCState(t, c)
	c.Close()
	got, err = openGoState(path, "", allBytes)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "Go reads what C did in its custom class runs", got, want)
	if probs, err := Check(path, nil); err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
}

// TestInteropCtlStats: the same allocations and frees, in C (one thread)
// and in Go (one arena), with stats.enabled both, leave the same
// counters; after a reopen, curr_allocated is what the pool kept, and
// each side counts the runs it finds the same way.
func TestInteropCtlStats(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	sizes := []int{1, 64, 100, 200, 500, 1000, 4096, 10000, 65536, 300000, 1 << 20, 3 << 20}
	c, err := cobj.Create(dir+"/c.obj", "", 32<<20, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Create(dir+"/go.obj", 32<<20, 0o600, &Options{Arenas: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CtlSetInt("stats.enabled", int(StatsBoth)); err != nil {
		t.Fatal(err)
	}
	if err := p.CtlSet("stats.enabled", StatsBoth); err != nil {
		t.Fatal(err)
	}
	var coids []cobj.OID
	var goids []OID
	for round := range 3 {
		for i, size := range sizes {
			o, err := c.Alloc(size+round, uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			coids = append(coids, o)
			g, err := p.Alloc(size+round, uint64(i), nil)
			if err != nil {
				t.Fatal(err)
			}
			goids = append(goids, g)
		}
	}
	for i := 0; i < len(coids); i += 3 {
		cobj.Free(coids[i])
		if err := p.Free(goids[i]); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"stats.heap.curr_allocated", "stats.heap.run_allocated", "stats.heap.run_active"}
	compare := func(when string, c *cobj.Pool, p *Pool) {
		t.Helper()
		for _, n := range names {
			cv, err := c.CtlGetInt64(n)
			if err != nil {
				t.Fatal(err)
			}
			var gv int64
			if err := p.CtlGet(n, &gv); err != nil {
				t.Fatal(err)
			}
			if n == "stats.heap.run_active" && when == "reopened" {
				// C subtracts the empty runs it frees at boot, which it
				// never counted: its value falls short of (or wraps
				// below) the runs that hold objects. Go's is those runs,
				// checked against the chunk headers below.
				if gv < cv {
					t.Errorf("%s: %s C %d, Go %d: Go's below C's", when, n, cv, gv)
				}
				t.Logf("%s: %s C %d, Go %d (the runs in use)", when, n, cv, gv)
				continue
			}
			if cv != gv {
				t.Errorf("%s: %s C %d, Go %d", when, n, cv, gv)
			}
		}
	}
	compare("after the workload", c, p)
	c.Close()
	p.Close()
	if c, err = cobj.Open(dir+"/c.obj", ""); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p, err = Open(dir+"/go.obj", &Options{Arenas: 1}); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Reopened (transient mode): one allocation makes each side reclaim
	// the zone and count the runs it finds.
	if _, err := c.Alloc(100, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Alloc(100, 1, nil); err != nil {
		t.Fatal(err)
	}
	compare("reopened", c, p)
	var runs uint64
	zh := layout.DecodeZoneHeader(p.m.Load(p.heap.Base() + layout.ZoneOffset(0)))
	for ch := uint32(0); ch < zh.SizeIdx; {
		h := layout.DecodeChunkHeader(p.m.Load(p.heap.Base() + layout.ChunkHeaderOffset(0, ch)))
		if h.Type == layout.ChunkRun {
			runs += uint64(h.SizeIdx) * layout.ChunkSize
		}
		ch += h.SizeIdx
	}
	var active uint64
	if err := p.CtlGet("stats.heap.run_active", &active); err != nil || active != runs {
		t.Errorf("reopened: Go's run_active %d (%v), the runs' chunks hold %d bytes", active, err, runs)
	}
}

// TestInteropCtlQueries: programmatic gets and sets that C accepts or
// refuses, Go accepts or refuses alike, and gets read the same values.
func TestInteropCtlQueries(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	c, err := cobj.Create(dir+"/c.obj", "", 16<<20, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := Create(dir+"/go.obj", 16<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Gets of 8-byte (or smaller) values: C writes at most 8 bytes.
	for _, name := range []string{
		"tx.cache.size", "heap.size.granularity", "stats.heap.curr_allocated", "stats.heap.run_allocated",
		"stats.heap.run_active", "heap.arena.1.size", "heap.arena.0.size", "heap.arena.99.size",
		"heap.narenas.total", "heap.narenas.automatic", "heap.narenas.max", "heap.thread.arena_id",
		"tx.post_commit.worker", "tx.post_commit.stop", "no.such.name", "prefault", "heap", "tx.cache",
		"heap.arena.create", "heap.size.extend", "heap.alloc_class.new.desc", "stats.enabled", "prefault.at_open",
		"heap.arena.1.automatic", "heap.arena.0x1.automatic", "heap.arena.-1.automatic",
	} {
		cv, cerr := c.CtlGetInt64(name)
		var gv int64
		if name == "tx.post_commit.worker" || name == "tx.post_commit.stop" {
			gv = -12345 // untouched, as C's
		}
		gerr := p.CtlGet(name, &gv)
		if (cerr == nil) != (gerr == nil) {
			t.Errorf("get %s: C %v, Go %v", name, cerr, gerr)
			continue
		}
		// C's int values fill the low 4 bytes of the 8 it was given.
		if cerr == nil && int64(int32(cv)) != gv && cv != gv && name != "tx.post_commit.worker" && name != "tx.post_commit.stop" {
			t.Errorf("get %s: C %d, Go %d", name, cv, gv)
		}
	}
	// Sets of C int (or unsigned) values.
	for _, q := range []struct {
		name string
		v    int
	}{
		{"stats.enabled", 1}, {"stats.enabled", 3}, {"heap.arena.1.automatic", 2},
		{"heap.arena.2.automatic", 1}, {"heap.arena.9.automatic", 1}, {"heap.thread.arena_id", 0},
		{"heap.thread.arena_id", 1}, {"heap.thread.arena_id", 99}, {"heap.narenas.max", 1}, {"heap.narenas.max", 64},
		{"heap.size.granularity", 1024}, {"heap.size.granularity", 4 << 20}, {"heap.size.granularity", 0},
		{"stats.heap.run_active", 1}, {"heap.narenas.total", 1}, {"tx.post_commit.worker", 1},
		{"tx.debug.skip_expensive_checks", 1}, {"debug.heap.alloc_pattern", 7}, {"no.such", 1},
		{"prefault.at_open", 0}, {"heap.arena.create", 1},
	} {
		cerr := c.CtlSetInt(q.name, q.v)
		gerr := p.CtlSet(q.name, q.v)
		if (cerr == nil) != (gerr == nil) {
			t.Errorf("set %s=%d: C %v, Go %v", q.name, q.v, cerr, gerr)
		}
	}
}
