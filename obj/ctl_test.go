package obj

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

// restoreGlobals puts the global ctl names back after a test.
func restoreGlobals(t *testing.T) {
	t.Helper()
	names := []string{"prefault.at_create", "prefault.at_open", "sds.at_create", "fallocate.at_create",
		"copy_on_write.at_open", "heap.arenas_assignment_type"}
	saved := make([]int, len(names))
	for i, n := range names {
		if err := CtlGet(n, &saved[i]); err != nil {
			t.Fatal(err)
		}
	}
	dm := ctlGlobals.arenasDefaultMax.Load()
	t.Cleanup(func() {
		for i, n := range names {
			if err := CtlSet(n, saved[i]); err != nil {
				t.Error(err)
			}
		}
		ctlGlobals.arenasDefaultMax.Store(dm)
	})
}

// TestCtlNames: every name's get, set and exec, with C's defaults, the
// values C accepts and refuses, and the errors of names that do not take
// a query.
func TestCtlNames(t *testing.T) {
	restoreGlobals(t)
	p, _ := newPool(t, 16<<20)
	getInt := func(name string) int64 {
		t.Helper()
		var v int64
		if err := p.CtlGet(name, &v); err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		return v
	}
	// Defaults, as C 1.12.1 reports them.
	for name, want := range map[string]int64{
		"prefault.at_create": 0, "prefault.at_open": 0, "sds.at_create": 1, "fallocate.at_create": 1,
		"copy_on_write.at_open": 0, "heap.arenas_assignment_type": 0,
		"tx.debug.skip_expensive_checks": 0, "tx.debug.verify_user_buffers": 0,
		"tx.cache.size": 32768, "stats.enabled": 0, "heap.size.granularity": 128 << 20,
		"debug.heap.alloc_pattern": -1, "heap.narenas.total": int64(runtime.GOMAXPROCS(0)),
		"heap.narenas.automatic": int64(runtime.GOMAXPROCS(0)), "heap.narenas.max": 1024,
		"heap.thread.arena_id": 1, "heap.arena.1.automatic": 1,
	} {
		if got := getInt(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	// Settable names read back what was set.
	for name, v := range map[string]int64{
		"prefault.at_create": 1, "prefault.at_open": 1, "sds.at_create": 0, "fallocate.at_create": 0,
		"tx.debug.skip_expensive_checks": 1, "tx.debug.verify_user_buffers": 1, "tx.cache.size": 4096,
		"stats.enabled": int64(StatsBoth), "heap.size.granularity": 0, "debug.heap.alloc_pattern": 0xAB,
		"heap.arenas_assignment_type": int64(ArenasGlobal),
	} {
		if err := p.CtlSet(name, v); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
		if got := getInt(name); got != v {
			t.Errorf("%s = %d after setting %d", name, got, v)
		}
	}
	// The compatibility no-ops: accepted, nothing changes.
	for _, name := range []string{"tx.post_commit.queue_depth", "tx.cache.threshold"} {
		if err := p.CtlSet(name, 5); err != nil {
			t.Errorf("set %s: %v", name, err)
		}
	}
	for _, name := range []string{"tx.post_commit.queue_depth", "tx.post_commit.worker", "tx.post_commit.stop", "tx.cache.threshold"} {
		v := int64(42)
		if err := p.CtlGet(name, &v); err != nil || v != 42 {
			t.Errorf("get %s: %d %v", name, v, err)
		}
	}

	// Errors, as C's: -1 with errno EINVAL for all of these.
	for _, c := range []struct {
		name string
		kind ctlKind
		arg  any
		want error
	}{
		{"no.such.name", ctlGet, new(int), ErrCtlNotFound},
		{"", ctlGet, new(int), ErrCtlNotFound},
		{"prefault", ctlGet, new(int), ErrCtlNotFound},                 // not a leaf
		{"prefault.at_open.x", ctlGet, new(int), ErrCtlNotFound},       // past a leaf (C crashes)
		{"heap.arena.arena_id.size", ctlGet, new(int), ErrCtlNotFound}, // no index (C crashes)
		{"stats.heap.run_active", ctlSet, 1, ErrCtlAccess},             // read-only
		{"heap.narenas.total", ctlSet, 1, ErrCtlAccess},
		{"tx.post_commit.worker", ctlSet, 1, ErrCtlAccess},
		{"heap.alloc_class.new.desc", ctlGet, &AllocClassDesc{}, ErrCtlAccess}, // write-only
		{"tx.cache.size", ctlExec, nil, ErrCtlAccess},                          // not runnable
		{"heap.arena.create", ctlGet, new(int), ErrCtlAccess},
		{"tx.cache.size", ctlGet, nil, ErrCtlArg}, // C: read queries require non-NULL argument
		{"tx.cache.size", ctlSet, nil, ErrCtlArg},
		{"tx.cache.size", ctlGet, new(string), ErrCtlArg},
		{"tx.cache.size", ctlGet, (*int)(nil), ErrCtlArg},
		{"tx.cache.size", ctlSet, "1", ErrCtlArg},
		{"tx.cache.size", ctlSet, -1, ErrCtlArg},
		{"tx.cache.size", ctlSet, uint64(MaxAllocSize) + 1, ErrCtlArg},
		{"stats.enabled", ctlSet, 4, ErrCtlArg},
		{"heap.size.granularity", ctlSet, 1 << 20, ErrCtlArg},
		{"heap.size.extend", ctlExec, 1 << 20, ErrCtlArg},
		{"heap.size.extend", ctlExec, 4 << 20, ErrCtlNotSupported},
		{"copy_on_write.at_open", ctlSet, 1, ErrCtlNotSupported},
		{"heap.arenas_assignment_type", ctlSet, 2, ErrCtlArg},
		{"heap.arenas_default_max", ctlSet, 0, ErrCtlArg},
		{"heap.thread.arena_id", ctlSet, 0, ErrCtlRange},
		{"heap.thread.arena_id", ctlSet, runtime.GOMAXPROCS(0) + 1, ErrCtlRange},
		{"heap.arena.0.size", ctlGet, new(uint64), ErrCtlRange},
		{"heap.arena.999.automatic", ctlGet, new(int), ErrCtlRange},
		{"heap.arena.1.automatic", ctlSet, 2, ErrCtlArg},
		{"heap.narenas.max", ctlSet, 0, ErrCtlArg}, // cannot decrease
		{"heap.alloc_class.255.desc", ctlGet, &AllocClassDesc{}, ErrCtlRange},
		{"heap.alloc_class.-1.desc", ctlGet, &AllocClassDesc{}, ErrCtlRange},
		{"heap.alloc_class.200.desc", ctlGet, &AllocClassDesc{}, ErrClass}, // ENOENT
		{"heap.alloc_class.1.desc", ctlSet, &AllocClassDesc{UnitSize: 100, UnitsPerBlock: 10}, ErrCtlExists},
		{"heap.alloc_class.new.desc", ctlSet, &AllocClassDesc{UnitSize: 0, UnitsPerBlock: 10}, ErrCtlArg},
		{"heap.alloc_class.new.desc", ctlSet, &AllocClassDesc{UnitSize: 100, UnitsPerBlock: 0}, ErrCtlArg},
		{"heap.alloc_class.new.desc", ctlSet, &AllocClassDesc{UnitSize: 100, Alignment: 64, UnitsPerBlock: 1}, ErrCtlArg},
		{"heap.alloc_class.new.desc", ctlSet, &AllocClassDesc{UnitSize: 8 << 20, Alignment: 4 << 20, UnitsPerBlock: 1}, ErrCtlArg},
		{"heap.alloc_class.new.desc", ctlSet, &AllocClassDesc{UnitSize: 128, UnitsPerBlock: 1, HeaderType: 3}, ErrCtlArg},
		{"heap.alloc_class.new.desc", ctlSet, 5, ErrCtlArg},
	} {
		err := p.ctl(c.name, c.kind, c.arg)
		if !errors.Is(err, c.want) {
			t.Errorf("%s %q %v: %v, want %v", c.kind, c.name, c.arg, err, c.want)
		}
	}

	// Global names without a pool; pool names are not there.
	var v int
	if err := CtlGet("prefault.at_open", &v); err != nil || v != 1 {
		t.Errorf("global prefault.at_open: %d %v", v, err)
	}
	if err := CtlGet("tx.cache.size", &v); !errors.Is(err, ErrCtlNotFound) {
		t.Errorf("pool name without a pool: %v", err)
	}
	if err := CtlExec("prefault.at_open", nil); !errors.Is(err, ErrCtlAccess) {
		t.Errorf("exec of a global name: %v", err)
	}
	var dm uint32
	if err := CtlGet("heap.arenas_default_max", &dm); err != nil || int(dm) != runtime.GOMAXPROCS(0) {
		t.Errorf("heap.arenas_default_max = %d %v", dm, err)
	}
	p.Close()
	if err := p.CtlGet("tx.cache.size", &v); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: %v", err)
	}
}

// TestCtlIndexes: indexes parse as C's strtol (base 0, leading space,
// trailing garbage ignored), and empty name parts vanish.
func TestCtlIndexes(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	for _, name := range []string{"heap.alloc_class.1.desc", "heap.alloc_class.0x1.desc", "heap.alloc_class.01.desc",
		"heap.alloc_class. 1.desc", "heap.alloc_class.1abc.desc", "heap..alloc_class.1.desc.", ".heap.alloc_class.+1.desc"} {
		var d AllocClassDesc
		if err := p.CtlGet(name, &d); err != nil || d.ClassID != 1 || d.UnitSize != 128 {
			t.Errorf("%s: %+v %v", name, d, err)
		}
	}
	var d AllocClassDesc
	if err := p.CtlGet("heap.alloc_class.010.desc", &d); err != nil || d.ClassID != 8 {
		t.Errorf("octal index: %+v %v", d, err)
	}
	if err := p.CtlGet("heap.alloc_class.0.desc", &d); err != nil || d.ClassID != 0 || d.UnitSize != layout.ChunkSize || d.UnitsPerBlock != 0 {
		t.Errorf("huge class: %+v %v", d, err)
	}
	for _, c := range []struct {
		s        string
		v        int64
		ok, over bool
	}{
		{"12", 12, true, false}, {"-7", -7, true, false}, {"0x1F", 31, true, false}, {"0x", 0, true, false},
		{"017", 15, true, false}, {"09", 0, true, false}, {"  \t5x", 5, true, false}, {"x5", 0, false, false},
		{"", 0, false, false}, {"-", 0, false, false}, {"99999999999999999999", 1<<63 - 1, true, true},
		{"-9223372036854775808", -1 << 63, true, false},
	} {
		v, ok, over := cStrtol(c.s)
		if v != c.v || ok != c.ok || over != c.over {
			t.Errorf("strtol(%q) = %d %v %v, want %d %v %v", c.s, v, ok, over, c.v, c.ok, c.over)
		}
	}
}

// TestCtlAllocClasses: the default classes read as C's (the C comparison
// is TestInteropAllocClasses), and a new class serves Xalloc with its id,
// with C's run layout.
func TestCtlAllocClasses(t *testing.T) {
	p, path := newPool(t, 32<<20)
	for id := range layout.MaxClasses {
		var d AllocClassDesc
		err := p.CtlGet("heap.alloc_class."+itoa(id)+".desc", &d)
		c := layout.DefaultClasses().ByID(uint8(id))
		if c == nil {
			if !errors.Is(err, ErrClass) {
				t.Errorf("class %d: %v, want ErrClass", id, err)
			}
			continue
		}
		if err != nil || d.UnitSize != c.UnitSize || HeaderType(c.HeaderType) != d.HeaderType || d.ClassID != uint32(id) {
			t.Errorf("class %d: %+v %v", id, d, err)
		}
	}
	d := AllocClassDesc{UnitSize: 256, Alignment: 256, UnitsPerBlock: 500, HeaderType: HeaderCompact}
	if err := p.CtlSet("heap.alloc_class.new.desc", &d); err != nil {
		t.Fatal(err)
	}
	if d.ClassID == 0 || d.UnitsPerBlock < 500 {
		t.Fatalf("new class: %+v", d)
	}
	var back AllocClassDesc
	if err := p.CtlGet("heap.alloc_class."+itoa(int(d.ClassID))+".desc", &back); err != nil || back != d {
		t.Fatalf("class read back: %+v %v, set %+v", back, err, d)
	}
	// The same runs again: C refuses a second class of the same key.
	d2 := AllocClassDesc{UnitSize: 256, Alignment: 256, UnitsPerBlock: 500, HeaderType: HeaderCompact}
	if err := p.CtlSet("heap.alloc_class.new.desc", &d2); !errors.Is(err, ErrCtlArg) {
		t.Errorf("duplicate class: %v", err)
	}
	// An id of one's own.
	d3 := AllocClassDesc{UnitSize: 1000, UnitsPerBlock: 100, HeaderType: HeaderNone}
	if err := p.CtlSet("heap.alloc_class.200.desc", &d3); err != nil || d3.ClassID != 200 {
		t.Fatalf("class 200: %+v %v", d3, err)
	}
	var oids []OID
	for range 10 {
		o, err := p.Xalloc(100, 3, ClassID(uint8(d.ClassID)), nil)
		if err != nil {
			t.Fatal(err)
		}
		off, _ := p.m.Offset(unsafe.Pointer(unsafe.SliceData(p.Bytes(o))))
		if off%256 != 0 {
			t.Errorf("object at %#x not 256-aligned", off)
		}
		if us, _ := p.UsableSize(o); us != 240 {
			t.Errorf("usable size %d, want 240", us)
		}
		oids = append(oids, o)
	}
	if _, err := p.Xalloc(1000, 4, ClassID(200), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Xalloc(1001, 4, ClassID(200), nil); !errors.Is(err, ErrSize) {
		t.Errorf("too large for a headerless class: %v", err)
	}
	// Default allocations never take a custom class (default units are
	// multiples of 64 bytes).
	d4 := AllocClassDesc{UnitSize: 1000, UnitsPerBlock: 100, HeaderType: HeaderCompact}
	if err := p.CtlSet("heap.alloc_class.new.desc", &d4); err != nil {
		t.Fatal(err)
	}
	o, err := p.Alloc(984, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if us, _ := p.UsableSize(o); us == 984 {
		t.Errorf("a default allocation took the custom class")
	}
	if o, err = p.Xalloc(984, 1, ClassID(uint8(d4.ClassID)), nil); err != nil {
		t.Fatal(err)
	} else if us, _ := p.UsableSize(o); us != 984 {
		t.Errorf("usable size %d in the 1000-byte class", us)
	}
	p.Close()
	if probs, err := Check(path, nil); err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	q, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	n := 0
	for o := range q.Objects() {
		if tn, _ := q.TypeNum(o); tn == 3 && slices.Contains(oids, o) {
			n++
		}
	}
	if n != len(oids) {
		t.Errorf("reopened: %d objects of the class, want %d", n, len(oids))
	}
}

func itoa(i int) string {
	return string(appendInt(nil, i))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// TestCtlStats: the counters follow allocations and frees in the modes
// that keep them; curr_allocated lives in the pool and survives a reopen.
func TestCtlStats(t *testing.T) {
	p, path := newPool(t, 32<<20)
	stats := func(p *Pool) (curr, run, active uint64) {
		t.Helper()
		for _, x := range []struct {
			n string
			v *uint64
		}{{"stats.heap.curr_allocated", &curr}, {"stats.heap.run_allocated", &run}, {"stats.heap.run_active", &active}} {
			if err := p.CtlGet(x.n, x.v); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	c0, r0, a0 := stats(p)
	if c0 != 0 || r0 != 0 || a0 != 0 {
		t.Fatalf("fresh pool: %d %d %d", c0, r0, a0)
	}
	o, err := p.Alloc(100, 1, nil) // 128-byte class: one unit
	if err != nil {
		t.Fatal(err)
	}
	c, r, a := stats(p)
	if c != 0 || r != 128 || a != layout.ChunkSize {
		t.Errorf("transient after one alloc: curr %d run %d active %d", c, r, a)
	}
	if err := p.CtlSet("stats.enabled", StatsBoth); err != nil {
		t.Fatal(err)
	}
	h, err := p.Alloc(3<<20, 1, nil) // huge: curr only
	if err != nil {
		t.Fatal(err)
	}
	c, r, _ = stats(p)
	if c != 13*layout.ChunkSize || r != 128 {
		t.Errorf("both after a huge alloc: curr %d run %d", c, r)
	}
	if err := p.Free(o); err != nil {
		t.Fatal(err)
	}
	c, r, _ = stats(p)
	if c != 13*layout.ChunkSize-128 || r != 0 { // C counts the same way: curr went below what it never saw
		t.Errorf("both after free: curr %d run %d", c, r)
	}
	if err := p.Free(h); err != nil {
		t.Fatal(err)
	}
	if err := p.CtlSet("stats.enabled", StatsDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Alloc(100, 1, nil); err != nil {
		t.Fatal(err)
	}
	c2, r2, a2 := stats(p)
	if c2 != c-13*layout.ChunkSize || r2 != 0 || a2 != a {
		t.Errorf("disabled: %d %d %d", c2, r2, a2)
	}
	if err := p.CtlSet("stats.enabled", StatsPersistent); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Alloc(200, 1, nil); err != nil {
		t.Fatal(err)
	}
	c3, r3, _ := stats(p)
	if c3 != c2+256 || r3 != 0 {
		t.Errorf("persistent: %d %d", c3, r3)
	}
	p.Close()
	q, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	// Reopened: curr_allocated as persisted; the transient counters count
	// the runs C counts at boot once the zone is in use.
	if _, err := q.Alloc(100, 1, nil); err != nil {
		t.Fatal(err)
	}
	c4, r4, a4 := stats(q)
	if c4 != c3 || r4 != 128+256+128 || a4 == 0 {
		t.Errorf("reopened: curr %d (want %d) run %d active %d", c4, c3, r4, a4)
	}
}

// TestCtlArenas: arenas created by ctl, their automatic flag, the
// caller's lane's arena, and allocations through them.
func TestCtlArenas(t *testing.T) {
	path := pmemtest.Path(t, "pool")
	p, err := Create(path, 16<<20, 0o600, &Options{Arenas: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var id uint32
	if err := p.CtlExec("heap.arena.create", &id); err != nil || id != 3 {
		t.Fatalf("create: %d %v", id, err)
	}
	var n, auto, maxA int
	p.CtlGet("heap.narenas.total", &n)
	p.CtlGet("heap.narenas.automatic", &auto)
	p.CtlGet("heap.narenas.max", &maxA)
	if n != 3 || auto != 2 || maxA != 1024 {
		t.Errorf("total %d automatic %d max %d", n, auto, maxA)
	}
	if err := p.CtlSet("heap.narenas.max", 2000); err != nil {
		t.Fatal(err)
	}
	if err := p.CtlSet("heap.narenas.max", 1999); !errors.Is(err, ErrCtlArg) {
		t.Errorf("max decreased: %v", err)
	}
	if err := p.CtlSet("heap.arena.1.automatic", 0); err != nil {
		t.Fatal(err)
	}
	if err := p.CtlSet("heap.arena.2.automatic", 0); !errors.Is(err, ErrCtlArg) {
		t.Errorf("last automatic arena: %v", err)
	}
	var size uint64
	if err := p.CtlGet("heap.arena.3.size", &size); err != nil || size != 0 {
		t.Errorf("new arena's size %d %v", size, err)
	}
	if _, err := p.Xalloc(100, 1, ArenaID(3), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.CtlGet("heap.arena.3.size", &size); err != nil || size != layout.ChunkSize {
		t.Errorf("arena 3 size after an alloc: %d %v", size, err)
	}
	// The calling goroutine's lane takes arena 3 (single goroutine,
	// locked to its thread so that it keeps its P's lane).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := p.CtlSet("heap.thread.arena_id", 3); err != nil {
		t.Fatal(err)
	}
	var got int
	if err := p.CtlGet("heap.thread.arena_id", &got); err != nil || got != 3 {
		t.Errorf("thread arena %d %v", got, err)
	}
}

// TestCtlTxCacheSize: tx.cache.size is the size of the undo log
// extensions transactions allocate.
func TestCtlTxCacheSize(t *testing.T) {
	for _, cache := range []int64{4096, 0} {
		p, _ := newPool(t, 32<<20)
		if err := p.CtlSet("tx.cache.size", cache); err != nil {
			t.Fatal(err)
		}
		o, err := p.Zalloc(100000, 1)
		if err != nil {
			t.Fatal(err)
		}
		err = p.Tx(func(tx *Tx) error {
			if err := tx.AddRange(o, 0, 100000); err != nil {
				return err
			}
			copy(p.Bytes(o), "changed")
			return nil
		})
		if err != nil {
			t.Fatalf("cache %d: %v", cache, err)
		}
		// The internal objects of the extensions: all of the requested size.
		var sizes []int
		for b := range p.internalObjects() {
			sizes = append(sizes, b)
		}
		want := int(undoExtRequest(uint64(cache)))
		if len(sizes) == 0 {
			t.Fatalf("cache %d: no extension", cache)
		}
		for _, s := range sizes {
			if s < want || s >= want+128 {
				t.Errorf("cache %d: extension of %d bytes, want about %d", cache, s, want)
			}
		}
	}
}

// TestCtlAllocPattern: debug.heap.alloc_pattern fills new objects.
func TestCtlAllocPattern(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	if err := p.CtlSet("debug.heap.alloc_pattern", 0x5A); err != nil {
		t.Fatal(err)
	}
	o, err := p.Alloc(300, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range p.Bytes(o) {
		if c != 0x5A {
			t.Fatalf("byte %d = %#x", i, c)
		}
	}
	z, err := p.Zalloc(300, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range p.Bytes(z) {
		if c != 0 {
			t.Fatalf("zalloc byte %d = %#x", i, c)
		}
	}
}

// TestCtlPrefault: with prefault.at_open every page of the pool is mapped
// when Open returns: touching them all then faults (almost) never, where
// without it each page faults once.
func TestCtlPrefault(t *testing.T) {
	restoreGlobals(t)
	path := pmemtest.Path(t, "pool")
	p, err := Create(path, 16<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	faults := func(on int) int64 {
		if err := CtlSet("prefault.at_open", on); err != nil {
			t.Fatal(err)
		}
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		p, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var r0, r1 unix.Rusage
		unix.Getrusage(unix.RUSAGE_THREAD, &r0)
		b := p.pp.Map().Bytes()
		for i := 0; i < len(b); i += layout.PageSize {
			// A store: a write fault if the page is not mapped writable.
			atomic.AddUint32((*uint32)(unsafe.Pointer(&b[i])), 0)
		}
		unix.Getrusage(unix.RUSAGE_THREAD, &r1)
		return r1.Minflt + r1.Majflt - r0.Minflt - r0.Majflt
	}
	pages := int64(16 << 20 / layout.PageSize)
	f0 := faults(0)
	if f0 < pages/2 {
		t.Skipf("without prefault %d faults for %d pages: the kernel maps ahead, nothing to compare", f0, pages)
	}
	f := faults(1)
	if f > pages/10 {
		t.Errorf("with prefault.at_open: %d faults for %d pages", f, pages)
	}
	t.Logf("faults touching every page: %d without prefault, %d with", f0, f)
}

// TestCtlSDSAtCreate: sds.at_create off makes pools without the shutdown
// state feature, as C's.
func TestCtlSDSAtCreate(t *testing.T) {
	restoreGlobals(t)
	for _, on := range []int{0, 1} {
		if err := CtlSet("sds.at_create", on); err != nil {
			t.Fatal(err)
		}
		p, _ := newPool(t, 16<<20)
		if got := p.pp.Header().Incompat&pool.FeatSDS != 0; got != (on == 1) {
			t.Errorf("sds.at_create %d: SDS feature %v", on, got)
		}
	}
}

// TestCtlConcurrent: ctl queries race with allocations (run with -race).
func TestCtlConcurrent(t *testing.T) {
	p, _ := newPool(t, 32<<20)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch g {
				case 0:
					var v uint64
					p.CtlGet("stats.heap.run_allocated", &v)
					p.CtlSet("stats.enabled", StatsEnabled(i%4))
				case 1:
					d := AllocClassDesc{UnitSize: uint64(1024 + 64*i), UnitsPerBlock: 10, HeaderType: HeaderCompact}
					if err := p.CtlSet("heap.alloc_class.new.desc", &d); err == nil {
						if _, err := p.Xalloc(100, 1, ClassID(uint8(d.ClassID)), nil); err != nil && !errors.Is(err, ErrOutOfMemory) {
							t.Error(err)
						}
					}
				case 2:
					var id int
					if i%50 == 0 {
						p.CtlExec("heap.arena.create", &id)
					}
					var s uint64
					p.CtlGet("heap.arena.1.size", &s)
				default:
					o, err := p.Alloc(64+i, 1, nil)
					if err != nil {
						t.Error(err)
						return
					}
					p.Free(o)
				}
			}
		}()
	}
	wg.Wait()
}

func TestMain(m *testing.M) {
	// The configuration of the environment would change what the tests
	// see; the configuration tests set their own.
	os.Unsetenv(ConfEnv)
	os.Unsetenv(ConfFileEnv)
	os.Exit(m.Run())
}

// internalObjects yields the usable size of every internal object (log
// extensions) of the heap.
func (p *Pool) internalObjects() func(func(int) bool) {
	return func(yield func(int) bool) {
		var pos heap.Pos
		first := true
		for {
			b, next, ok := p.heap.Next(pos, first)
			if !ok {
				return
			}
			if p.heap.Header(&b).Flags&layout.ObjInternal != 0 && !yield(int(b.Size)) {
				return
			}
			pos, first = next, false
		}
	}
}

// TestCtlVerifyUserBuffers: with tx.debug.verify_user_buffers on, a log
// buffer that a running transaction uses is refused to another until the
// first ends; off, nothing is checked (C's behavior).
func TestCtlVerifyUserBuffers(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	buf, err := p.Zalloc(4096, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CtlSet("tx.debug.verify_user_buffers", 1); err != nil {
		t.Fatal(err)
	}
	t1, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := t1.LogAppendBuffer(LogSnapshot, p.Bytes(buf)); err != nil {
		t.Fatal(err)
	}
	t2, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := t2.LogAppendBuffer(LogIntent, p.Bytes(buf)[1024:]); !errors.Is(err, ErrLogBufferInUse) {
		t.Errorf("overlapping buffer: %v", err)
	}
	t2.End()
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := t1.End(); err != nil {
		t.Fatal(err)
	}
	t3, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := t3.LogAppendBuffer(LogIntent, p.Bytes(buf)); err != nil {
		t.Errorf("buffer after its transaction ended: %v", err)
	}
	t3.Commit()
	t3.End()
	if len(p.userBufs.r) != 0 {
		t.Errorf("buffers still registered: %v", p.userBufs.r)
	}
}
