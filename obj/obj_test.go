package obj

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj/internal/heap"
	"github.com/gopmdk/pmdk/obj/layout"
)

func newPool(t testing.TB, size int64) (*Pool, string) {
	t.Helper()
	path := pmemtest.Path(t, "pool")
	p, err := Create(path, size, 0o600, &Options{Layout: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, path
}

func TestCreateOpenErrors(t *testing.T) {
	dir := pmemtest.Dir(t)
	if _, err := Create(dir+"/small", MinPoolSize-4096, 0o600, nil); !errors.Is(err, ErrPoolTooSmall) {
		t.Errorf("small pool: %v", err)
	}
	if _, err := os.Stat(dir + "/small"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed create left a file: %v", err)
	}
	long := strings.Repeat("x", MaxLayout)
	if _, err := Create(dir+"/long", MinPoolSize, 0o600, &Options{Layout: long}); !errors.Is(err, ErrLayout) {
		t.Errorf("long layout: %v", err)
	}
	p, err := Create(dir+"/p", MinPoolSize, 0o600, &Options{Layout: long[:MaxLayout-1]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir+"/p", nil); !errors.Is(err, pool.ErrLocked) {
		t.Errorf("second open: %v", err)
	}
	if _, err := Create(dir+"/p", MinPoolSize, 0o600, nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("create over a pool: %v", err)
	}
	p.Close()
	if _, err := Open(dir+"/p", &Options{Layout: "other"}); !errors.Is(err, ErrLayout) {
		t.Errorf("wrong layout: %v", err)
	}
	if _, err := Open(dir+"/none", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing pool: %v", err)
	}
	p, err = Open(dir+"/p", nil) // no layout: not checked
	if err != nil {
		t.Fatal(err)
	}
	if p.Layout() != long[:MaxLayout-1] {
		t.Errorf("layout %q", p.Layout())
	}
	p.Close()
	if _, err := p.Alloc(8, 0, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("alloc after close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestAllocErrors(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	for _, size := range []int{0, -1, MaxAllocSize + 1} {
		if _, err := p.Alloc(size, 0, nil); !errors.Is(err, ErrSize) {
			t.Errorf("size %d: %v", size, err)
		}
	}
	if _, err := p.Alloc(64<<20, 0, nil); !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("too large for the pool: %v", err)
	}
	if _, err := p.Xalloc(8, 0, FlagNoFlush, nil); !errors.Is(err, ErrFlags) {
		t.Errorf("no-flush flag: %v", err)
	}
	if _, err := p.Xalloc(8, 0, ClassID(200), nil); !errors.Is(err, ErrClass) {
		t.Errorf("missing class: %v", err)
	}
	if _, err := p.Xalloc(200, 0, ClassID(1), nil); err != nil {
		t.Errorf("200 bytes of class 1 (2 units): %v", err)
	}
	if _, err := p.Xalloc(100_000, 0, ClassID(1), nil); !errors.Is(err, ErrSize) {
		t.Errorf("too large for class 1: %v", err)
	}
	if _, err := p.Xalloc(8, 0, ArenaID(1000), nil); !errors.Is(err, ErrArena) {
		t.Errorf("missing arena: %v", err)
	}
	o, err := p.Xalloc(8, 0, ArenaID(1)|FlagZero, nil)
	if err != nil || !bytes.Equal(p.Bytes(o), make([]byte, len(p.Bytes(o)))) {
		t.Errorf("zeroed alloc in arena 1: %v", err)
	}
	ctorErr := errors.New("no")
	if _, err := p.Alloc(8, 0, func([]byte) error { return ctorErr }); !errors.Is(err, ctorErr) {
		t.Errorf("constructor error: %v", err)
	}
	for _, bad := range []OID{{p.UUIDLo(), 1}, {p.UUIDLo(), o.Off + 16}, {p.UUIDLo() + 1, o.Off}, {p.UUIDLo(), 1 << 40}} {
		if err := p.Free(bad); !errors.Is(err, ErrInvalidOID) {
			t.Errorf("free %v: %v", bad, err)
		}
		if b := p.Bytes(bad); b != nil {
			t.Errorf("bytes of %v", bad)
		}
	}
	if err := p.Free(OID{}); err != nil {
		t.Errorf("free null: %v", err)
	}
	if _, err := p.Root(0); !errors.Is(err, ErrSize) {
		t.Errorf("root 0 without a root: %v", err)
	}
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
}

func TestReallocRoot(t *testing.T) {
	p, path := newPool(t, 16<<20)
	r, err := p.Root(100)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Bytes(r), "root data")
	p.Persist(p.Bytes(r))
	if r2, _ := p.Root(50); r2 != r || p.RootSize() != 100 {
		t.Fatalf("smaller root moved or shrank: %v %d", r2, p.RootSize())
	}
	r3, err := p.Root(5000)
	if err != nil || p.RootSize() != 5000 {
		t.Fatalf("root growth: %v size %d", err, p.RootSize())
	}
	b := p.Bytes(r3)
	if !bytes.HasPrefix(b, []byte("root data")) || !bytes.Equal(b[100:], make([]byte, len(b)-100)) {
		t.Fatal("grown root lost its data or is not zeroed past the old size")
	}
	if tn, _ := p.TypeNum(r3); tn != 0 {
		t.Errorf("root type %d", tn)
	}
	if p.First() != (OID{}) {
		t.Error("the root is listed")
	}

	o, _ := p.Alloc(100, 7, func(b []byte) error { copy(b, "payload"); return nil })
	us, _ := p.UsableSize(o)
	if same, _ := p.Realloc(o, us, 7); same != o {
		t.Error("realloc to the same usable size moved")
	}
	o2, err := p.Zrealloc(o, 20000, 8)
	if err != nil {
		t.Fatal(err)
	}
	b = p.Bytes(o2)
	if !bytes.HasPrefix(b, []byte("payload")) || !bytes.Equal(b[us:], make([]byte, len(b)-us)) {
		t.Fatal("zrealloc lost data or did not zero")
	}
	if tn, _ := p.TypeNum(o2); tn != 8 {
		t.Errorf("type after realloc %d", tn)
	}
	if err := p.Free(o); !errors.Is(err, ErrInvalidOID) {
		t.Errorf("old object still allocated: %v", err)
	}
	var dst OID
	if err := p.ReallocTo(&dst, 300, 9); err != nil || dst.IsNull() {
		t.Fatalf("realloc of null: %v %v", dst, err)
	}
	if err := p.ReallocTo(&dst, 0, 9); err != nil || !dst.IsNull() {
		t.Fatalf("realloc to 0: %v %v", dst, err)
	}
	s, _ := p.Strdup("hello", 3)
	if got := p.Bytes(s); string(got[:6]) != "hello\x00" {
		t.Errorf("strdup %q", got[:6])
	}
	objs := 0
	for range p.Objects() {
		objs++
	}
	if objs != 2 {
		t.Errorf("%d objects, want 2", objs)
	}
	p.Close()
	p, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if r4, _ := p.Root(0); r4 != r3 || !bytes.HasPrefix(p.Bytes(r4), []byte("root data")) {
		t.Fatal("root after reopen")
	}
}

func TestTyped(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	type pt struct {
		X, Y int64
		Tag  [4]byte
		Next Ptr[int64]
	}
	v, err := New(p, 5, func(v *pt) { v.X, v.Y = 1, 2 })
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(p)
	if err != nil || got.X != 1 || got.Y != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := New[*int](p, 1, nil); !errors.Is(err, ErrNotPointerFree) {
		t.Errorf("pointer type: %v", err)
	}
	type bad struct {
		A int
		S string
	}
	if _, err := New[bad](p, 1, nil); !errors.Is(err, ErrNotPointerFree) || !strings.Contains(err.Error(), ".S") {
		t.Errorf("string field: %v", err)
	}
	if _, err := PtrTo[[]byte](v.OID()).Get(p); !errors.Is(err, ErrNotPointerFree) {
		t.Errorf("slice type: %v", err)
	}
	if _, err := PtrTo[uintptr](v.OID()).Get(p); !errors.Is(err, ErrNotPointerFree) {
		t.Errorf("uintptr: %v", err)
	}
	small, _ := p.Alloc(8, 1, nil)
	if _, err := PtrTo[[200]byte](small).Get(p); !errors.Is(err, ErrTooSmall) {
		t.Errorf("object smaller than T: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	p, path := newPool(t, 16<<20)
	o, _ := p.Alloc(100, 1, nil)
	p.Close()
	ro, err := Open(path, &Options{Options: pool.Options{ReadOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Error("not read-only")
	}
	if _, err := ro.Alloc(8, 0, nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("alloc: %v", err)
	}
	if err := ro.Free(o); !errors.Is(err, ErrReadOnly) {
		t.Errorf("free: %v", err)
	}
	if us, err := ro.UsableSize(o); err != nil || us < 100 {
		t.Errorf("usable size %d %v", us, err)
	}
}

// TestCheckFindsDamage: the checker reports a leaked internal object, an
// object whose header disagrees with its bitmap, and a broken chunk.
func TestCheckFindsDamage(t *testing.T) {
	p, _ := newPool(t, 16<<20)
	l := p.lanes.get()
	act, err := p.heap.Reserve(l.arena, heap.Request{Size: 100, Flags: layout.ObjInternal})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.heap.Publish([]heap.Action{act}, &l.redo, l.externalLog(), layout.LaneExternalCapacity, l); err != nil {
		t.Fatal(err)
	}
	p.lanes.put(l)
	if probs := p.Check(); len(probs) != 1 || !strings.Contains(probs[0].Error(), "leaked") {
		t.Fatalf("leak: %v", probs)
	}
	o, _ := p.Alloc(100, 1, nil)
	hdr := p.m.Slice(o.Off-16, 8)
	hdr[0] = 0xff // size: more units than the bitmap has set
	probs := p.Check()
	if len(probs) < 2 || !errors.Is(probs[len(probs)-1], core.ErrCorrupt) {
		t.Fatalf("bad header: %v", probs)
	}
}
