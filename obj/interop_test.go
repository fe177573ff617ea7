package obj

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj/cobj"
	"github.com/gopmdk/pmdk/obj/layout"
)

// The interop tests take C libpmemobj (PMDK 1.12.1, from Debian) as the
// oracle: in this process through obj/cobj, in a C program built from
// testdata/objcrash.c (crash images of C), and C's pmempool. The pools one
// library makes, changes or leaves after a crash the other opens, and both
// must see the same objects. They skip only when the test binary is built
// without the cpeer tag (no C peer) or, for the tests that run it, when
// pmempool is not installed. CONFORMANCE_FULL=1 explores every crash
// point (Go's with four strategies, Exhaustive among them) instead of a
// seeded sample with two.

// requireCPeer skips the test without the C peer.
//
// It also locks the test's goroutine to its thread, for good: C gives each
// thread its own arena (and lane), and a goroutine that moved from thread
// to thread between calls would spread its C allocations over them.
func requireCPeer(t *testing.T) {
	t.Helper()
	if !cobj.Available {
		t.Skip("interop: built without -tags cpeer: the C libpmemobj peer (obj/cobj) is absent")
	}
	runtime.LockOSThread() // never unlocked: the thread ends with the test
}

// goPoolSize is the size of the Go pools C goes on allocating in: 32 MiB,
// 64 MiB under the race detector, whose sync.Pool drops lanes at random:
// a goroutine then takes new lanes and its allocations spread over every
// arena, each with runs of its own (see
// TestInteropOneGoroutineStaysInOneArena).
const goPoolSize = 32<<20 + underRace*(32<<20)

// pmempoolBin returns the path of C's pmempool, or skips the test.
func pmempoolBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("pmempool")
	if err != nil {
		t.Skip("interop: pmempool (Debian pmdk-tools) not installed")
	}
	return bin
}

// runPmempool runs C's pmempool and returns its output; a non-zero exit
// fails the test.
func runPmempool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(pmempoolBin(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pmempool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// objRec is what both libraries must agree on about one object.
type objRec struct {
	Off    uint64
	Type   uint64
	Usable int
	Sum    uint32 // CRC-32C of the usable bytes (see contents)
}

func (r objRec) String() string {
	return fmt.Sprintf("{off %#x type %d usable %d sum %08x}", r.Off, r.Type, r.Usable, r.Sum)
}

// poolState is a pool as its user sees it: the root object and every other
// object in iteration order.
type poolState struct {
	UUIDLo   uint64
	Root     objRec // zero without a root
	RootSize int
	Objects  []objRec
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func sum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// contents tells how a state sums the objects' bytes.
type contents bool

const (
	// allBytes sums every usable byte.
	allBytes contents = true
	// sampledBytes sums objects above 64 KiB by their first 4 KiB of each
	// 64 KiB and their last 4 KiB: the crash tests read many images of a
	// pool with 3 MiB objects, and each page read from a pool file costs a
	// page fault.
	sampledBytes contents = false
)

func (c contents) sum(b []byte) uint32 {
	const stride, piece = 64 << 10, 4 << 10
	if c == allBytes || len(b) <= stride {
		return sum(b)
	}
	var crc uint32
	for off := 0; off < len(b); off += stride {
		crc = crc32.Update(crc, castagnoli, b[off:min(off+piece, len(b))])
	}
	return crc32.Update(crc, castagnoli, b[len(b)-piece:])
}

// diff describes how s differs from want, or returns "".
func (s poolState) diff(want poolState) string {
	if reflect.DeepEqual(s, want) {
		return ""
	}
	var d []string
	if s.UUIDLo != want.UUIDLo {
		d = append(d, fmt.Sprintf("uuid_lo %#x, want %#x", s.UUIDLo, want.UUIDLo))
	}
	if s.Root != want.Root || s.RootSize != want.RootSize {
		d = append(d, fmt.Sprintf("root %v size %d, want %v size %d", s.Root, s.RootSize, want.Root, want.RootSize))
	}
	if len(s.Objects) != len(want.Objects) {
		d = append(d, fmt.Sprintf("%d objects, want %d", len(s.Objects), len(want.Objects)))
	}
	for i := range min(len(s.Objects), len(want.Objects)) {
		if s.Objects[i] != want.Objects[i] {
			d = append(d, fmt.Sprintf("object %d: %v, want %v", i, s.Objects[i], want.Objects[i]))
			if len(d) > 8 {
				break
			}
		}
	}
	if len(d) == 0 {
		return "differs" // not reached: every field was compared
	}
	return strings.Join(d, "; ")
}

// goState reads the state of a Go pool: the objects of Objects, which must
// be those of the First/Next walk.
func goState(p *Pool, c contents) (poolState, error) {
	s := poolState{RootSize: p.RootSize()}
	rec := func(o OID) (objRec, error) {
		if s.UUIDLo == 0 {
			s.UUIDLo = o.PoolUUIDLo
		} else if o.PoolUUIDLo != s.UUIDLo {
			return objRec{}, fmt.Errorf("Go: %v carries another pool's uuid_lo (%#x)", o, s.UUIDLo)
		}
		tn, err := p.TypeNum(o)
		if err != nil {
			return objRec{}, fmt.Errorf("Go: type of %v: %w", o, err)
		}
		us, err := p.UsableSize(o)
		if err != nil {
			return objRec{}, fmt.Errorf("Go: usable size of %v: %w", o, err)
		}
		b := p.Bytes(o)
		if len(b) != us {
			return objRec{}, fmt.Errorf("Go: %v has %d bytes, usable size %d", o, len(b), us)
		}
		return objRec{o.Off, tn, us, c.sum(b)}, nil
	}
	if s.RootSize > 0 {
		r, err := p.Root(0)
		if err != nil {
			return s, fmt.Errorf("Go: root: %w", err)
		}
		if s.Root, err = rec(r); err != nil {
			return s, err
		}
	}
	for o := range p.Objects() {
		r, err := rec(o)
		if err != nil {
			return s, err
		}
		s.Objects = append(s.Objects, r)
	}
	i := 0
	for o := p.First(); !o.IsNull(); o = p.Next(o) {
		if i >= len(s.Objects) || s.Objects[i].Off != o.Off {
			return s, fmt.Errorf("Go: First/Next gives %v as object %d, Objects does not", o, i)
		}
		i++
	}
	if i != len(s.Objects) {
		return s, fmt.Errorf("Go: First/Next walks %d objects, Objects %d", i, len(s.Objects))
	}
	return s, nil
}

// cState reads the same state through C: pmemobj_root, pmemobj_first and
// pmemobj_next, pmemobj_type_num, pmemobj_alloc_usable_size and the bytes
// at pmemobj_direct.
func cState(c *cobj.Pool, how contents) (poolState, error) {
	s := poolState{RootSize: c.RootSize()}
	rec := func(o cobj.OID) (objRec, error) {
		if s.UUIDLo == 0 {
			s.UUIDLo = o.PoolUUIDLo
		} else if o.PoolUUIDLo != s.UUIDLo {
			return objRec{}, fmt.Errorf("C: %v carries another pool's uuid_lo (%#x)", o, s.UUIDLo)
		}
		b := cobj.Bytes(o)
		return objRec{o.Off, cobj.TypeNum(o), cobj.UsableSize(o), how.sum(b)}, nil
	}
	if s.RootSize > 0 {
		r, err := c.Root(0)
		if err != nil {
			return s, err
		}
		if s.Root, err = rec(r); err != nil {
			return s, err
		}
	}
	for o := c.First(); !o.IsNull(); o = cobj.Next(o) {
		r, err := rec(o)
		if err != nil {
			return s, err
		}
		s.Objects = append(s.Objects, r)
		if len(s.Objects) > 1<<20 {
			return s, errors.New("C: endless walk")
		}
	}
	return s, nil
}

// openGoState opens the pool file at path in Go and reads its state.
func openGoState(path, layout string, how contents) (poolState, error) {
	p, err := Open(path, &Options{Layout: layout})
	if err != nil {
		return poolState{}, err
	}
	defer p.Close()
	return goState(p, how)
}

// openCState opens the pool file at path in C (which recovers it) and
// reads its state.
func openCState(path, layout string, how contents) (poolState, error) {
	c, err := cobj.Open(path, layout)
	if err != nil {
		return poolState{}, err
	}
	defer c.Close()
	return cState(c, how)
}

func mustGoState(t *testing.T, p *Pool) poolState {
	t.Helper()
	s, err := goState(p, allBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCState(t *testing.T, c *cobj.Pool) poolState {
	t.Helper()
	s, err := cState(c, allBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requireSame fails the test when got differs from want.
func requireSame(t *testing.T, what string, got, want poolState) {
	t.Helper()
	if d := got.diff(want); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
	if len(want.Objects) == 0 {
		t.Fatalf("%s: no objects to compare", what)
	}
}

// rootFields is the start of the interop root object: four PMEMoids, C's
// struct { PMEMoid a, b, c, d; uint64_t v[8]; }.
const rootFieldsSize = 4*16 + 8*8

// goFields views the root's OID fields in a Go pool's mapping.
func goFields(b []byte) *[4]OID { return (*[4]OID)(unsafe.Pointer(unsafe.SliceData(b))) }

// cFields views them in C's mapping.
func cFields(b []byte) *[4]cobj.OID { return (*[4]cobj.OID)(unsafe.Pointer(unsafe.SliceData(b))) }

// pattern fills b with bytes that depend on seed and position.
func pattern(b []byte, seed int) {
	x := uint64(seed)*0x9e3779b97f4a7c15 + 1
	for len(b) > 0 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		b = b[copy(b, w[:]):]
	}
}

// ctorPattern is a Go constructor writing pattern(seed).
func ctorPattern(seed int) func([]byte) error {
	return func(b []byte) error { pattern(b, seed); return nil }
}

// cFill writes pattern(seed) over a C object and persists it.
func cFill(c *cobj.Pool, o cobj.OID, seed int) {
	b := cobj.Bytes(o)
	pattern(b, seed)
	c.Persist(b)
}

// interopSizes are the object sizes the pool tests allocate: from 1 byte
// through the run classes to huge objects of several MiB, in a 32 MiB pool.
var interopSizes = []int{1, 2, 15, 16, 17, 63, 64, 100, 112, 113, 128, 200, 255, 256, 500,
	1000, 1024, 2000, 4096, 10000, 65536, 1 << 20, 2621440, 3 << 20}

// interopType returns the type number of the i-th object: small ones,
// 0 (the root's, legal for others too) and large ones.
func interopType(i int) uint64 {
	switch i % 6 {
	case 0:
		return 0
	case 1:
		return 1<<63 | uint64(i)
	case 2:
		return 1<<32 + uint64(i)
	}
	return uint64(i%6) + 1
}

// fileHash returns the CRC of a file, to see that a read-only tool left it
// alone.
func fileHash(t *testing.T, path string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum(b)
}

// TestInteropCPoolInGo: a pool made by C libpmemobj (root, objects of 1 B
// to several MiB, huge ones included, many type numbers, some freed, some
// reallocated, some reserved and published, a grown root) opens in Go,
// which finds every object with C's type number, usable size and content
// in pmemobj_first/next order, and the same root.
func TestInteropCPoolInGo(t *testing.T) {
	requireCPeer(t)
	path := pmemtest.Path(t, "c.obj")
	const layoutName = "interop-c"
	c, err := cobj.Create(path, layoutName, 32<<20, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := cScenario(t, c)
	c.Close()
	if r, err := cobj.Check(path, layoutName); r != 1 {
		t.Fatalf("pmemobj_check of C's own pool: %d %v", r, err)
	}

	p, err := Open(path, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := mustGoState(t, p)
	requireSame(t, "Go reads C's pool", got, want)
	if p.UUIDLo() != want.UUIDLo {
		t.Fatalf("Go uuid_lo %#x, C's OIDs carry %#x", p.UUIDLo(), want.UUIDLo)
	}
	// The OIDs C stored in the root name the objects Go finds.
	root, err := p.Root(0)
	if err != nil {
		t.Fatal(err)
	}
	f := goFields(p.Bytes(root))
	byOff := map[uint64]objRec{}
	for _, r := range got.Objects {
		byOff[r.Off] = r
	}
	for i, o := range f {
		if o.IsNull() {
			continue
		}
		r, ok := byOff[o.Off]
		if !ok || o.PoolUUIDLo != p.UUIDLo() {
			t.Fatalf("root field %d = %v names no object Go found", i, o)
		}
		if us, err := p.UsableSize(o); err != nil || us != r.Usable {
			t.Fatalf("root field %d: usable size %d %v, want %d", i, us, err, r.Usable)
		}
	}
	if s := string(p.Bytes(f[2])); !strings.HasPrefix(s, "strdup from C\x00") {
		t.Fatalf("C's strdup reads %q in Go", s[:min(len(s), 20)])
	}
}

// TestInteropCCustomClassesInGo: objects C allocated from allocation
// classes it was given through ctl (legacy, none and compact headers,
// aligned units, objects of several units) open in Go with C's type
// numbers, usable sizes and contents; Go frees some of them, and C and
// pmemobj_check agree with what Go left.
func TestInteropCCustomClassesInGo(t *testing.T) {
	requireCPeer(t)
	path := pmemtest.Path(t, "custom.obj")
	c, err := cobj.Create(path, "", 32<<20, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seed := 0
	for i, d := range []cobj.ClassDesc{
		{UnitSize: 128, UnitsPerBlock: 1000, HeaderType: cobj.HeaderLegacy},
		{UnitSize: 64, UnitsPerBlock: 1000, HeaderType: cobj.HeaderNone},
		{UnitSize: 256, Alignment: 256, UnitsPerBlock: 500, HeaderType: cobj.HeaderCompact},
		{UnitSize: 100000, UnitsPerBlock: 20, HeaderType: cobj.HeaderCompact},
		{UnitSize: 4096, Alignment: 4096, UnitsPerBlock: 100, HeaderType: cobj.HeaderLegacy},
	} {
		cl, err := c.NewAllocClass(d)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for _, size := range []int{1, 50, 64, 100, 300, 5000, 150000} {
			for range 3 {
				o, err := c.Xalloc(size, uint64(10*i+n), uint64(cl.ClassID)<<48)
				if err != nil {
					break // too large for the class
				}
				cFill(c, o, seed)
				seed++
				n++
			}
		}
		if n == 0 {
			t.Fatalf("class %+v took no object", cl)
		}
	}
	want := mustCState(t, c)
	c.Close()

	p, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	requireSame(t, "Go reads objects of C's custom classes", mustGoState(t, p), want)
	var i int
	for o := range p.Objects() {
		if i++; i%3 != 0 {
			if err := p.Free(o); err != nil {
				t.Fatalf("Go frees %v of a custom class: %v", o, err)
			}
		}
	}
	want = mustGoState(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := cobj.Check(path, ""); r != 1 {
		t.Fatalf("pmemobj_check after Go freed in C's custom classes: %d (%v)", r, err)
	}
	got, err := openCState(path, "", allBytes)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "C reads what Go freed", got, want)
}

// cScenario fills an open C pool: every size of interopSizes, root
// fields allocated through pmem oidps, frees, reallocs in place and moved,
// a publication of reservations, set values and a deferred free, a
// cancelled reservation, a grown root. It returns the state C reads.
func cScenario(t *testing.T, c *cobj.Pool) poolState {
	t.Helper()
	root, err := c.Root(rootFieldsSize)
	if err != nil {
		t.Fatal(err)
	}
	var oids []cobj.OID
	for i, size := range interopSizes {
		o, err := c.Alloc(size, interopType(i))
		if err != nil {
			t.Fatalf("C alloc %d: %v", size, err)
		}
		cFill(c, o, i)
		oids = append(oids, o)
	}
	for i := 0; i < len(oids); i += 3 {
		cobj.Free(oids[i])
	}
	f := cFields(cobj.Bytes(root))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.AllocTo(&f[0], 500, 42))
	cFill(c, f[0], 100)
	must(c.XallocTo(&f[1], 3<<20-100, 43, cobj.FlagZero)) // huge
	must(c.ReallocTo(&f[0], 3000, 44))                    // moved, type changed
	must(c.StrdupTo(&f[2], "strdup from C", 45))
	_, err = c.Realloc(oids[1], 70000, 46, true) // 2 B grown
	must(err)
	_, err = c.Realloc(oids[len(oids)-2], 100, 47, false) // huge to 128-byte units
	must(err)
	_, err = c.Zalloc(777, 48)
	must(err)

	x, ax, err := c.Xreserve(300, 50, cobj.FlagZero)
	must(err)
	y, ay, err := c.Reserve(5000, 51)
	must(err)
	cFill(c, y, 51)
	_, az, err := c.Xreserve(2621440, 52, cobj.FlagZero)
	must(err)
	_, cancelled, err := c.Reserve(64, 53)
	must(err)
	c.Cancel(cancelled)
	must(c.Publish(ax, ay, az,
		c.SetValue(&f[3].PoolUUIDLo, x.PoolUUIDLo), c.SetValue(&f[3].Off, x.Off),
		c.DeferFree(oids[4])))
	if _, err := c.Root(1000); err != nil { // grown: moved, zero tail
		t.Fatal(err)
	}
	return mustCState(t, c)
}

// goScenario does in Go what cScenario does in C.
func goScenario(t *testing.T, p *Pool) poolState {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	root, err := p.Root(rootFieldsSize)
	must(err)
	var oids []OID
	for i, size := range interopSizes {
		o, err := p.Alloc(size, interopType(i), ctorPattern(i))
		if err != nil {
			t.Fatalf("Go alloc %d: %v", size, err)
		}
		oids = append(oids, o)
	}
	for i := 0; i < len(oids); i += 3 {
		must(p.Free(oids[i]))
	}
	f := goFields(p.Bytes(root))
	must(p.AllocTo(&f[0], 500, 42, ctorPattern(100)))
	must(p.ZallocTo(&f[1], 3<<20-100, 43))
	must(p.ReallocTo(&f[0], 3000, 44))
	must(p.StrdupTo(&f[2], "strdup from Go", 45))
	_, err = p.Zrealloc(oids[1], 70000, 46)
	must(err)
	_, err = p.Realloc(oids[len(oids)-2], 100, 47)
	must(err)
	_, err = p.Zalloc(777, 48)
	must(err)

	x, ax, err := p.Xreserve(300, 50, FlagZero)
	must(err)
	y, ay, err := p.Reserve(5000, 51)
	must(err)
	// A reserved object is not allocated yet: its bytes come from its
	// action (p.Bytes(y) is nil until the publish).
	if p.Bytes(y) != nil {
		t.Fatal("Bytes of a reserved object before its publish")
	}
	pattern(ay.Bytes(), 51)
	p.Persist(ay.Bytes())
	_, az, err := p.Xreserve(2621440, 52, FlagZero)
	must(err)
	_, cancelled, err := p.Reserve(64, 53)
	must(err)
	p.Cancel(cancelled)
	df, err := p.DeferFree(oids[4])
	must(err)
	must(p.Publish(ax, ay, az, p.SetValue(&f[3].PoolUUIDLo, x.PoolUUIDLo), p.SetValue(&f[3].Off, x.Off), df))
	_, err = p.Root(1000)
	must(err)
	return mustGoState(t, p)
}

// TestInteropGoPoolInC: a pool made by Go opens in C, which finds what Go
// made; pmemobj_check, pmempool check and pmempool info accept it. C then
// allocates, reallocates and frees in it (huge objects included) and Go
// reads what C changed; Go changes it again (frees, reallocs, a grown
// root) and C still agrees.
func TestInteropGoPoolInC(t *testing.T) {
	requireCPeer(t)
	pmempoolBin(t)
	path := pmemtest.Path(t, "go.obj")
	const layoutName = "interop-go"
	p, err := Create(path, goPoolSize, 0o600, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want := goScenario(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	requireCChecks(t, path, layoutName, want)

	c, err := cobj.Open(path, layoutName)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	requireSame(t, "C reads Go's pool", mustCState(t, c), want)
	root, err := c.Root(0)
	if err != nil {
		t.Fatal(err)
	}
	f := cFields(cobj.Bytes(root))
	if s := string(cobj.Bytes(f[2])); !strings.HasPrefix(s, "strdup from Go\x00") {
		t.Fatalf("Go's strdup reads %q in C", s[:min(len(s), 20)])
	}
	if f[3].IsNull() || cobj.TypeNum(f[3]) != 50 || !bytes.Equal(cobj.Bytes(f[3]), make([]byte, cobj.UsableSize(f[3]))) {
		t.Fatalf("the published reservation in root field 3 (%v) reads wrong in C", f[3])
	}

	// C goes on in Go's heap: frees Go's objects (a huge one among them),
	// reallocates them, allocates new ones of every kind.
	cobj.FreeOID(&f[1])                                    // Go's huge zalloc
	if err := c.ReallocTo(&f[0], 200000, 60); err != nil { // Go's 3000 B object
		t.Fatal(err)
	}
	if err := c.AllocTo(&f[1], 4<<20, 61); err != nil { // huge, into the pmem oidp
		t.Fatal(err)
	}
	cFill(c, f[1], 61)
	for i, size := range []int{1, 100, 4096, 40000, 2621440} {
		o, err := c.Alloc(size, 70+uint64(i))
		if err != nil {
			t.Fatalf("C alloc %d in Go's pool: %v", size, err)
		}
		cFill(c, o, 70+i)
	}
	cobj.FreeOID(&f[3])
	var seen int
	for o := c.First(); !o.IsNull(); o = cobj.Next(o) {
		if seen++; seen%4 == 0 && o.Off != f[0].Off && o.Off != f[1].Off && o.Off != f[2].Off {
			cobj.Free(o) // pmemobj_next continues from a freed object
		}
	}
	if _, err := c.Root(3000); err != nil {
		t.Fatal(err)
	}
	want = mustCState(t, c)
	c.Close()

	p, err = Open(path, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "Go reads what C changed", mustGoState(t, p), want)

	// Go changes C's changes: free, realloc (run to huge, huge to run),
	// root growth, new objects.
	root2, err := p.Root(0)
	if err != nil {
		t.Fatal(err)
	}
	g := goFields(p.Bytes(root2))
	if err := p.ReallocTo(&g[1], 50, 80); err != nil { // C's huge object
		t.Fatal(err)
	}
	if err := p.ReallocTo(&g[0], 3<<20, 81); err != nil { // C's run object
		t.Fatal(err)
	}
	if err := p.FreeOID(&g[2]); err != nil {
		t.Fatal(err)
	}
	for i, size := range []int{7, 300, 9000, 1 << 20} {
		if _, err := p.Alloc(size, 90+uint64(i), ctorPattern(90+i)); err != nil {
			t.Fatalf("Go alloc %d after C: %v", size, err)
		}
	}
	if _, err := p.Root(70000); err != nil {
		t.Fatal(err)
	}
	want = mustGoState(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	requireCChecks(t, path, layoutName, want)
	got, err := openCState(path, layoutName, allBytes)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "C reads Go's changes to its changes", got, want)
}

// TestInteropGoConcurrentPoolInC: goroutines allocating, reallocating
// and freeing at once in a Go pool (each through its own lane and arena)
// leave a heap C opens, checks and goes on using as Go sees it.
func TestInteropGoConcurrentPoolInC(t *testing.T) {
	requireCPeer(t)
	path := pmemtest.Path(t, "conc.obj")
	p, err := Create(path, goPoolSize, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			var live []OID
			for i := range 400 {
				switch op := r.IntN(10); {
				case op < 6 || len(live) == 0:
					size := 1 + r.IntN(3000)
					if r.IntN(200) == 0 {
						size = 2621440 + r.IntN(1<<19) // huge
					}
					o, err := p.Alloc(size, uint64(g*1000+i), ctorPattern(g*1000+i))
					if err != nil {
						errs <- err
						return
					}
					live = append(live, o)
				case op < 8:
					k := r.IntN(len(live))
					o, err := p.Realloc(live[k], 1+r.IntN(5000), uint64(g*1000+i))
					if err != nil {
						errs <- err
						return
					}
					live[k] = o
				default:
					k := r.IntN(len(live))
					if err := p.Free(live[k]); err != nil {
						errs <- err
						return
					}
					live = slices.Delete(live, k, k+1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := mustGoState(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := cobj.Check(path, ""); r != 1 {
		t.Fatalf("pmemobj_check: %d (%v)", r, err)
	}
	c, err := cobj.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	requireSame(t, "C reads what Go's goroutines left", mustCState(t, c), want)
	for i := range 200 {
		if _, err := c.Alloc(1+i*37, 9999); err != nil {
			t.Fatalf("C alloc after Go's goroutines: %v", err)
		}
	}
	want = mustCState(t, c)
	c.Close()
	got, err := openGoState(path, "", allBytes)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "Go reads what C added", got, want)
}

// TestInteropOneGoroutineStaysInOneArena: a single goroutine allocating
// objects of three classes whose runs take 16 chunks each, in rounds with
// garbage collections between them, fits in a 16 MiB pool in C (one
// thread: one arena, one run per class) and must fit in Go.
func TestInteropOneGoroutineStaysInOneArena(t *testing.T) {
	requireCPeer(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))) // two arenas at least
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
	sizes := []int{100000, 150000, 200000}
	for _, size := range sizes {
		if cl := layout.DefaultClasses().ForSize(uint64(size)); cl.SizeIdx < 13 {
			t.Fatalf("the class of %d bytes has runs of %d chunks", size, cl.SizeIdx)
		}
	}
	for round := range 4 {
		for _, size := range sizes {
			if _, err := c.Alloc(size, 1); err != nil {
				t.Fatalf("round %d: C alloc %d: %v", round, size, err)
			}
			if _, err := p.Alloc(size, 1, nil); err != nil {
				t.Fatalf("round %d: Go alloc %d where C's succeeded: %v", round, size, err)
			}
		}
		runtime.GC()
		runtime.GC()
	}
}

// requireCChecks runs C's checkers on the closed pool at path and compares
// pmempool info's object list with want: pmemobj_check returns 1, pmempool
// check says consistent, pmempool info succeeds with every section this
// pool type has and lists want's objects, and none of them changes the
// file.
func requireCChecks(t *testing.T, path, layoutName string, want poolState) {
	t.Helper()
	before := fileHash(t, path)
	if r, err := cobj.Check(path, layoutName); r != 1 {
		t.Fatalf("pmemobj_check: %d (%v)", r, err)
	}
	if out := runPmempool(t, "check", "-v", path); !strings.Contains(out, "consistent") || strings.Contains(out, "not consistent") {
		t.Fatalf("pmempool check:\n%s", out)
	}
	info := runPmempool(t, "info", "-O", "-s", path)
	if !strings.Contains(info, "Layout                   : "+layoutName) {
		t.Errorf("pmempool info does not show layout %q:\n%s", layoutName, info)
	}
	var offs []string
	for line := range strings.Lines(info) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Offset" {
			offs = append(offs, strings.TrimSpace(v))
		}
	}
	var wantOffs []string
	for _, o := range want.Objects {
		wantOffs = append(wantOffs, fmt.Sprintf("0x%016x", o.Off))
	}
	if !reflect.DeepEqual(offs, wantOffs) {
		t.Errorf("pmempool info -O lists %v, want %v", offs, wantOffs)
	}
	if !strings.Contains(info, fmt.Sprintf("Number of objects        : %d\n", len(want.Objects))) {
		t.Errorf("pmempool info -s does not count %d objects:\n%s", len(want.Objects), info)
	}
	if !strings.Contains(info, fmt.Sprintf("Root offset              : %#x", want.Root.Off)) {
		t.Errorf("pmempool info does not show root offset %#x", want.Root.Off)
	}
	for _, args := range [][]string{
		{"info", "-H", "-Z", "-C", "-b", path},
		{"info", "-l", "-R", path},
		{"info", "-l", "-r", "0-3", path},
		{"info", "-o", "-A", "-O", path},
		{"info", "-v", "-x", path},
	} {
		runPmempool(t, args...)
	}
	if after := fileHash(t, path); after != before {
		t.Fatal("C's checkers changed the pool file")
	}
}

// TestInteropAllocClasses: Go's default allocation classes are the ones C
// builds (ctl heap.alloc_class.N.desc), and for a few thousand sizes (every
// class boundary and its neighbours, a seeded sample of the run sizes,
// huge sizes beyond 2 MiB) an object Go allocates has the usable size of
// the object C allocates.
func TestInteropAllocClasses(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	c, err := cobj.Create(dir+"/c.obj", "", 32<<20, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close() }()
	classes := layout.DefaultClasses()
	for id := range layout.MaxClasses {
		d, ok := c.AllocClass(id)
		g := classes.ByID(uint8(id))
		if !ok {
			if g != nil {
				t.Errorf("Go has class %d (%d-byte units), C none", id, g.UnitSize)
			}
			continue
		}
		if g == nil {
			t.Errorf("C has class %d (%+v), Go none", id, d)
			continue
		}
		want := cobj.ClassDesc{UnitSize: g.UnitSize, Alignment: g.Alignment, HeaderType: cobj.HeaderType(g.HeaderType), ClassID: uint32(g.ID)}
		if g.Type == layout.ClassRun {
			want.UnitsPerBlock = g.NAllocs()
		}
		if d != want {
			t.Errorf("class %d: C %+v, Go %+v", id, d, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	p, err := Create(dir+"/go.obj", 32<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Close() }()
	// Neither library gives the runs it emptied back before a reopen: on
	// running out of space, each reopens its pool and tries again.
	var cReopens, goReopens int
	cUsable := func(size int, flags uint64) (int, error) {
		o, err := c.Xalloc(size, 1, flags)
		if errors.Is(err, syscall.ENOMEM) {
			c.Close()
			if c, err = cobj.Open(dir+"/c.obj", ""); err != nil {
				t.Fatal(err)
			}
			cReopens++
			o, err = c.Xalloc(size, 1, flags)
		}
		if err != nil {
			return 0, err
		}
		defer cobj.Free(o)
		return cobj.UsableSize(o), nil
	}
	goUsable := func(size int, flags AllocFlags) (int, error) {
		o, err := p.Xalloc(size, 1, flags, nil)
		if errors.Is(err, ErrOutOfMemory) {
			p.Close()
			if p, err = Open(dir+"/go.obj", nil); err != nil {
				t.Fatal(err)
			}
			goReopens++
			o, err = p.Xalloc(size, 1, flags, nil)
		}
		if err != nil {
			return 0, err
		}
		us, err := p.UsableSize(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Free(o); err != nil {
			t.Fatal(err)
		}
		return us, nil
	}

	sizes := classBoundarySizes(classes)
	r := rand.New(rand.NewPCG(13, 0))
	random := 1200
	if testing.Short() {
		random = 200
	}
	for range random {
		sizes = append(sizes, 1+r.IntN(2621440+1024)) // runs and the smallest huge ones
	}
	for range random / 8 {
		sizes = append(sizes, 2<<20+r.IntN(6<<20)) // huge, 2 to 8 MiB
	}
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	// Sizes of one class together: every class's runs are made once, and
	// the pools run out of space less often.
	slices.SortStableFunc(sizes, func(a, b int) int {
		return int(classes.ForSize(uint64(a)).ID) - int(classes.ForSize(uint64(b)).ID)
	})
	var bad int
	for _, size := range sizes {
		cu, err := cUsable(size, 0)
		if err != nil {
			t.Fatalf("C alloc %d: %v", size, err)
		}
		gu, err := goUsable(size, 0)
		if err != nil {
			t.Fatalf("Go alloc %d: %v", size, err)
		}
		if gu != cu {
			if bad++; bad <= 10 {
				t.Errorf("size %d: usable %d in Go, %d in C", size, gu, cu)
			}
		}
	}
	t.Logf("%d classes, %d sizes compared, %d differ", len(classes.All()), len(sizes), bad)

	// Allocations from a class named by its id (POBJ_CLASS_ID) take the
	// same units, or fail alike when the class cannot hold the size.
	var n int
	for _, cl := range classes.All() {
		u := int(cl.UnitSize)
		for _, size := range []int{1, u - 16, u - 15, 2*u - 16, 8*u - 16, 8*u - 15, 64*u - 16, 64*u - 15} {
			if size < 1 || size > 3<<20 {
				continue
			}
			n++
			cu, cerr := cUsable(size, uint64(ClassID(cl.ID)))
			gu, gerr := goUsable(size, ClassID(cl.ID))
			if (cerr == nil) != (gerr == nil) || cu != gu {
				t.Errorf("class %d, %d bytes: C usable %d (%v), Go usable %d (%v)", cl.ID, size, cu, cerr, gu, gerr)
			}
		}
	}
	t.Logf("%d allocations with a class id compared; out of space %d times in C, %d in Go", n, cReopens, goReopens)
}

// classBoundarySizes returns, for every run class and unit count up to
// RunUnitMaxAlloc, the largest request that fits and its neighbours, and
// the same around the first huge chunk counts.
func classBoundarySizes(classes *layout.Classes) []int {
	var sizes []int
	add := func(b uint64) {
		for _, s := range []uint64{b - 1, b, b + 1} {
			if s >= 1 && s < 8<<20 {
				sizes = append(sizes, int(s))
			}
		}
	}
	for _, cl := range classes.All() {
		if cl.Type != layout.ClassRun {
			continue
		}
		for k := uint64(1); k <= layout.RunUnitMaxAlloc; k++ {
			add(cl.UnitSize*k - cl.HeaderType.Size())
		}
	}
	for k := uint64(1); k <= 24; k++ {
		add(k*layout.ChunkSize - layout.CompactHeaderSize)
	}
	return sizes
}

// crashFull reports whether crash tests explore every crash point, Go's
// with four strategies (CONFORMANCE_FULL=1), rather than a seeded sample
// of the points with two.
func crashFull() bool { return os.Getenv("CONFORMANCE_FULL") == "1" }

// crashPoints is how many crash points of each operation the sample has:
// six, three with -short (the race detector's run).
func crashPoints() int {
	if testing.Short() {
		return 3
	}
	return 6
}

// crashOptions are the crash simulator's options of the crash interop
// tests: a seeded sample of crashPoints (the last one, after the
// operation returned, always among them), or all of them.
func crashOptions() crashsim.Options {
	if crashFull() {
		return crashsim.Options{Seed: 7, ExhaustiveLimit: 32,
			Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(7), crashsim.Exhaustive}}
	}
	return crashsim.Options{Seed: 7, MaxPoints: crashPoints(), Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic}}
}

// writeImage writes a post-crash image to a pool file. Zero pages are
// left as holes: the file reads the same and the writes cost less.
func writeImage(path string, img []byte) error {
	return writePages(path, img, nonZeroPages(img))
}

// writePages writes the pages of img at offsets pages to a new file of
// len(img) bytes, the rest of which is a hole.
func writePages(path string, img []byte, pages []int) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Truncate(int64(len(img))); err != nil {
		f.Close()
		return err
	}
	for _, off := range pages {
		if _, err := f.WriteAt(img[off:min(off+pageSize, len(img))], int64(off)); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

const pageSize = 4096

// nonZeroPages returns the offsets of the pages of b that are not all
// zero. A simulated device is an anonymous mapping whose pages nobody
// touched read as zero: when the kernel's pagemap says which those are,
// they are not read (each read would fault a page in).
func nonZeroPages(b []byte) []int {
	var touched []byte
	if addr := uintptr(unsafe.Pointer(unsafe.SliceData(b))); addr%pageSize == 0 && len(b) > 0 {
		if f, err := os.Open("/proc/self/pagemap"); err == nil {
			buf := make([]byte, (len(b)+pageSize-1)/pageSize*8)
			if _, err := f.ReadAt(buf, int64(addr/pageSize*8)); err == nil {
				touched = buf
			}
			f.Close()
		}
	}
	var zero [pageSize]byte
	var pages []int
	for off := 0; off < len(b); off += pageSize {
		if touched != nil && binary.LittleEndian.Uint64(touched[off/pageSize*8:])>>62 == 0 {
			continue // neither present nor swapped: never touched
		}
		page := b[off:min(off+pageSize, len(b))]
		if !bytes.Equal(page, zero[:len(page)]) {
			pages = append(pages, off)
		}
	}
	return pages
}

// goCrashOp is one Go operation whose crash images C and Go recover. It
// runs on the pool of goCrashTemplate, whose root fields 0 and 1 hold a
// 100-byte and a 3 MiB object.
type goCrashOp struct {
	name string
	run  func(p *Pool, f *[4]OID) error
}

var goCrashOps = []goCrashOp{
	{"alloc", func(p *Pool, f *[4]OID) error { return p.AllocTo(&f[2], 200, 8, ctorPattern(8)) }},
	{"alloc-huge", func(p *Pool, f *[4]OID) error { return p.AllocTo(&f[2], 3<<20-100, 10, ctorPattern(10)) }},
	{"free", func(p *Pool, f *[4]OID) error { return p.FreeOID(&f[0]) }},
	{"free-huge", func(p *Pool, f *[4]OID) error { return p.FreeOID(&f[1]) }},
	{"realloc", func(p *Pool, f *[4]OID) error { return p.ReallocTo(&f[0], 300, 7) }},
	{"realloc-to-huge", func(p *Pool, f *[4]OID) error { return p.ZreallocTo(&f[0], 2621440, 11) }},
	{"root-growth", func(p *Pool, f *[4]OID) error { _, err := p.Root(2000); return err }},
	{"publish", func(p *Pool, f *[4]OID) error {
		x, ax, err := p.Xreserve(300, 12, FlagZero)
		if err != nil {
			return err
		}
		y, ay, err := p.Reserve(70000, 13)
		if err != nil {
			return err
		}
		b := p.Bytes(y)
		pattern(b, 13)
		p.Persist(b)
		df, err := p.DeferFree(f[1])
		if err != nil {
			return err
		}
		return p.Publish(ax, ay, df,
			p.SetValue(&f[2].PoolUUIDLo, x.PoolUUIDLo), p.SetValue(&f[2].Off, x.Off),
			p.SetValue(&f[3].PoolUUIDLo, y.PoolUUIDLo), p.SetValue(&f[3].Off, y.Off),
			p.SetValue(&f[1].PoolUUIDLo, 0), p.SetValue(&f[1].Off, 0))
	}},
}

const (
	crashLayout   = "interop-crash"
	crashPoolSize = 16 << 20
)

// goCrashTemplate returns the image every crash workload starts from, made
// once so that every run has the same pool (uuid and all): a root whose
// fields 0 and 1 name a 100-byte and a 3 MiB object, and a few objects
// nothing names.
func goCrashTemplate(t *testing.T) crashTemplate {
	t.Helper()
	d, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Size: crashPoolSize, KeepOnClose: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err := CreateOnMap(d.Map(), &Options{Layout: crashLayout})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	root, err := p.Root(rootFieldsSize)
	if err != nil {
		t.Fatal(err)
	}
	f := goFields(p.Bytes(root))
	if err := p.AllocTo(&f[0], 100, 7, ctorPattern(7)); err != nil {
		t.Fatal(err)
	}
	if err := p.AllocTo(&f[1], 3<<20, 9, ctorPattern(9)); err != nil {
		t.Fatal(err)
	}
	for i, size := range []int{64, 5000, 64} {
		if _, err := p.Alloc(size, uint64(20+i), ctorPattern(20+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	img := d.Durable()
	return crashTemplate{img, nonZeroPages(img)}
}

// crashTemplate is a pool image and the offsets of its non-zero pages.
type crashTemplate struct {
	img   []byte
	pages []int
}

// openTemplate writes the template into m, a zeroed device, and opens it.
// Pages that are zero in the template are left alone: the simulator never
// reads the pages nobody touched.
func openTemplate(m *core.Map, tmpl crashTemplate) (*Pool, error) {
	b := m.Bytes()
	for _, off := range tmpl.pages {
		copy(b[off:], tmpl.img[off:min(off+pageSize, len(tmpl.img))])
	}
	return OpenOnMap(m, &Options{Layout: crashLayout})
}

// runGoCrashOp runs op on the pool of the setup.
func runGoCrashOp(p *Pool, op goCrashOp) error {
	root, err := p.Root(0)
	if err != nil {
		return err
	}
	return op.run(p, goFields(p.Bytes(root)))
}

// TestInteropCrashGoOpRecoveredByC cuts Go operations (an alloc and a
// huge alloc into an OID field of the root, frees, reallocs, root growth,
// a publication of reservations, a deferred free and set values) at their
// fences with the crash simulator. Each post-crash image goes to a file C
// opens (C's recovery), and Go recovers a copy: the two must give the same
// objects, root and OID fields, and that must be the state before the
// operation or the one after it.
func TestInteropCrashGoOpRecoveredByC(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	cCrashBase(t, dir+"/c-base.obj")
	cBase, err := os.ReadFile(dir + "/c-base.obj")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(dir + "/c-base.obj")
	// The operations run in a pool Go made and, with fewer crash points,
	// in the same pool made by C (runs and free chunks where C put them).
	cOpts := crashOptions()
	if !crashFull() {
		cOpts.MaxPoints = crashPoints() / 2
	}
	for _, base := range []struct {
		name string
		img  crashTemplate
		o    crashsim.Options
	}{{"go-made", goCrashTemplate(t), crashOptions()}, {"c-made", crashTemplate{cBase, nonZeroPages(cBase)}, cOpts}} {
		t.Run(base.name, func(t *testing.T) {
			for _, op := range goCrashOps {
				t.Run(op.name, func(t *testing.T) { exploreGoCrashOp(t, base.img, op, dir+"/image.obj", base.o) })
			}
		})
	}
}

// exploreGoCrashOp cuts op, run on the pool tmpl holds, at its fences.
// Go recovers each image to the state before or after op; C recovers the
// image too (from the file img), to the same state, and Go reads what C
// recovered alike (from the pessimistic images, or all in full). Of the
// images of the Exhaustive strategy C recovers two per crash point, as
// C's open of each costs more than Go's.
func exploreGoCrashOp(t *testing.T, tmpl crashTemplate, op goCrashOp, img string, o crashsim.Options) {
	before, after := goCrashStates(t, tmpl, op)
	if before.diff(after) == "" {
		t.Fatal("the operation changes nothing")
	}
	var pool *Pool
	w := crashsim.Workload{
		Size: len(tmpl.img),
		Setup: func(m *core.Map) (err error) {
			pool, err = openTemplate(m, tmpl)
			return err
		},
		Run: func(*core.Map) error { return runGoCrashOp(pool, op) },
		Check: func(m *core.Map, c crashsim.Crash) error {
			withC := c.Strategy != "exhaustive" || c.Seed < 2
			if withC {
				if err := writeImage(img, m.Bytes()); err != nil {
					return err
				}
				defer os.Remove(img)
			}
			// Go first: an image that is not a pool may crash C.
			p, err := OpenOnMap(m, &Options{Layout: crashLayout})
			if err != nil {
				return fmt.Errorf("Go recovery: %w", err)
			}
			gs, err := goState(p, sampledBytes)
			p.Close()
			if err != nil {
				return err
			}
			if gs.diff(before) != "" && gs.diff(after) != "" {
				return fmt.Errorf("recovered state is neither before nor after: vs before: %s; vs after: %s", gs.diff(before), gs.diff(after))
			}
			if !withC {
				return nil
			}
			cs, err := openCState(img, crashLayout, sampledBytes)
			if err != nil {
				return fmt.Errorf("C recovery: %w", err)
			}
			if d := gs.diff(cs); d != "" {
				return fmt.Errorf("Go and C recover different states: Go vs C: %s", d)
			}
			if c.Strategy != "pessimistic" && !crashFull() {
				return nil
			}
			// Go reads the pool C recovered as it recovered its own.
			gc, err := openGoState(img, crashLayout, sampledBytes)
			if err != nil {
				return fmt.Errorf("Go opening C's recovered pool: %w", err)
			}
			if d := gc.diff(gs); d != "" {
				return fmt.Errorf("Go reads C's recovered pool differently: %s", d)
			}
			return nil
		},
	}
	if rep := crashsim.Explore(t, w, o); rep.Images == 0 {
		t.Fatal("no crash image checked")
	}
}

// TestInteropCrashGoNewRunRecoveredByC cuts a Go allocation that makes a
// new run of one chunk (the first 300-byte object of the pool C made, in a
// free chunk holding C's stale bytes) at each fence, with every
// combination of the words in flight (up to 16 per point): each image must
// recover, in Go and in C, to the state before or after the allocation.
func TestInteropCrashGoNewRunRecoveredByC(t *testing.T) {
	requireCPeer(t)
	dir := pmemtest.Dir(t)
	cCrashBase(t, dir+"/c-base.obj")
	cBase, err := os.ReadFile(dir + "/c-base.obj")
	if err != nil {
		t.Fatal(err)
	}
	if cl := layout.DefaultClasses().ForSize(300); cl.SizeIdx != 1 {
		t.Fatalf("the class of 300 bytes has runs of %d chunks", cl.SizeIdx)
	}
	op := goCrashOp{"alloc-new-run", func(p *Pool, f *[4]OID) error { return p.AllocTo(&f[2], 300, 14, ctorPattern(14)) }}
	exploreGoCrashOp(t, crashTemplate{cBase, nonZeroPages(cBase)}, op, dir+"/image.obj",
		crashsim.Options{Strategies: []crashsim.Strategy{crashsim.Exhaustive}, ExhaustiveLimit: 16})
}

// goCrashStates runs op uncut on a simulated device and returns the pool
// state before and after it.
func goCrashStates(t *testing.T, template crashTemplate, op goCrashOp) (before, after poolState) {
	t.Helper()
	d, err := crashsim.NewDevice(len(template.img))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err := openTemplate(d.Map(), template)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if before, err = goState(p, sampledBytes); err != nil {
		t.Fatal(err)
	}
	if err := runGoCrashOp(p, op); err != nil {
		t.Fatal(err)
	}
	if after, err = goState(p, sampledBytes); err != nil {
		t.Fatal(err)
	}
	return before, after
}

// buildObjCrash compiles testdata/objcrash.c against C libpmemobj. The C
// peer is compiled in, so gcc and the headers are there: a failure to
// build fails the test.
func buildObjCrash(t *testing.T) string {
	t.Helper()
	bin := t.TempDir() + "/objcrash"
	out, err := exec.Command("gcc", "-O1", "-Wall", "-Werror", "-rdynamic", "-o", bin, "testdata/objcrash.c", "-lpmemobj", "-ldl").CombinedOutput()
	if err != nil {
		t.Fatalf("building the C crash tool: %v\n%s", err, out)
	}
	return bin
}

// runObjCrash runs the C crash tool: op on the pool at path, with the
// tool's environment (CRASH_AT, SNAPSHOT_AT). It returns the persists the
// operation made, 0 when CRASH_AT cut it off.
func runObjCrash(t *testing.T, bin, path, op string, env ...string) int {
	t.Helper()
	cmd := exec.Command(bin, path, op)
	cmd.Env = append(append(os.Environ(), "PMEM_IS_PMEM_FORCE=0"), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return 0
	}
	if err != nil {
		t.Fatalf("objcrash %s %v: %v\n%s", op, env, err, out)
	}
	var n int
	if _, err := fmt.Sscanf(string(out), "persists %d", &n); err != nil || n == 0 {
		t.Fatalf("objcrash %s: %q", op, out)
	}
	return n
}

// cCrashBase makes with C, at path, the pool goCrashTemplate makes with Go.
func cCrashBase(t *testing.T, path string) {
	t.Helper()
	c, err := cobj.Create(path, crashLayout, crashPoolSize, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root, err := c.Root(rootFieldsSize)
	if err != nil {
		t.Fatal(err)
	}
	f := cFields(cobj.Bytes(root))
	if err := c.AllocTo(&f[0], 100, 7); err != nil {
		t.Fatal(err)
	}
	cFill(c, f[0], 7)
	if err := c.AllocTo(&f[1], 3<<20, 9); err != nil {
		t.Fatal(err)
	}
	cFill(c, f[1], 9)
	for i, size := range []int{64, 5000, 64} {
		o, err := c.Alloc(size, uint64(20+i))
		if err != nil {
			t.Fatal(err)
		}
		cFill(c, o, 20+i)
	}
}

// crossRecover opens the pool file cPath in C and a copy of it in Go, and
// returns the state both recovered, an error if they differ. With cross,
// each library then reopens the file the other recovered and must see the
// same. It removes both files.
func crossRecover(cPath string, cross bool) (poolState, error) {
	goPath := cPath + ".go"
	defer os.Remove(cPath)
	defer os.Remove(goPath)
	if err := copyFile(goPath, cPath); err != nil {
		return poolState{}, err
	}
	cs, err := openCState(cPath, crashLayout, sampledBytes)
	if err != nil {
		return poolState{}, fmt.Errorf("C recovery: %w", err)
	}
	gs, err := openGoState(goPath, crashLayout, sampledBytes)
	if err != nil {
		return poolState{}, fmt.Errorf("Go recovery: %w", err)
	}
	if d := gs.diff(cs); d != "" {
		return gs, fmt.Errorf("Go and C recover different states: Go vs C: %s", d)
	}
	if !cross {
		return gs, nil
	}
	if gc, err := openGoState(cPath, crashLayout, sampledBytes); err != nil || gc.diff(gs) != "" {
		return gs, fmt.Errorf("Go reopening what C recovered: %v %s", err, gc.diff(gs))
	}
	if cg, err := openCState(goPath, crashLayout, sampledBytes); err != nil || cg.diff(gs) != "" {
		return gs, fmt.Errorf("C reopening what Go recovered: %v %s", err, cg.diff(gs))
	}
	return gs, nil
}

// copyFile copies the file src to dst (in the kernel where it can).
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cCrashOps are the operations of testdata/objcrash.c: those of goCrashOps
// and three Go has no counterpart of here: a publication of more values
// than the lane's redo log holds, a transaction, and a transaction whose
// snapshot outgrows the lane's undo log (C extends both logs with heap
// objects).
var cCrashOps = append(opNames(goCrashOps), "publish-many", "tx", "tx-big")

func opNames(ops []goCrashOp) []string {
	var names []string
	for _, op := range ops {
		names = append(names, op.name)
	}
	return names
}

// TestInteropCrashCOpRecoveredByGo is the reverse: C libpmemobj runs the
// same operations (testdata/objcrash.c) on a pool made by Go and on one
// made by C, cut off after its persists. On tmpfs every store before the
// cut is in the file and none after: the file is a real crash image of C.
// The tool takes the images of the sampled persists in one run (copies
// of the file right after them) and, at one of them, is really cut off
// there, which must recover to the same state as the copy. Go and C
// recover copies of each image to the same state, the state before the
// operation or after it, and each reopens what the other recovered.
func TestInteropCrashCOpRecoveredByGo(t *testing.T) {
	requireCPeer(t)
	tool := buildObjCrash(t)
	dir := pmemtest.Dir(t)
	work := dir + "/work.obj"
	cCrashBase(t, dir+"/c-base.obj")
	cBase, err := os.ReadFile(dir + "/c-base.obj")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 0))
	// C's own pool, where its operations are best known, has a smaller
	// sample.
	for _, base := range []struct {
		name   string
		img    crashTemplate
		sample int
	}{{"go-made", goCrashTemplate(t), crashPoints() - 2}, {"c-made", crashTemplate{cBase, nonZeroPages(cBase)}, crashPoints() / 2}} {
		t.Run(base.name, func(t *testing.T) {
			reset := func() {
				t.Helper()
				if err := writePages(work, base.img.img, base.img.pages); err != nil {
					t.Fatal(err)
				}
			}
			reset()
			before, err := crossRecover(work, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range cCrashOps {
				t.Run(op, func(t *testing.T) {
					reset()
					n := runObjCrash(t, tool, work, op)
					after, err := crossRecover(work, false)
					if err != nil {
						t.Fatalf("after the uncut operation: %v", err)
					}
					if before.diff(after) == "" {
						t.Fatal("the operation changes nothing")
					}
					points := crashSample(r, n, base.sample)
					list := make([]string, len(points))
					for i, k := range points {
						list[i] = strconv.Itoa(k)
					}
					reset()
					runObjCrash(t, tool, work, op, "SNAPSHOT_AT="+strings.Join(list, ","))
					states := map[int]poolState{}
					for i, k := range points {
						// Each library reopens what the other recovered
						// at one point of the sample, or at all in full.
						got, err := crossRecover(fmt.Sprintf("%s.%d", work, k), crashFull() || i == len(points)/2)
						if err != nil {
							t.Errorf("crash after persist %d of %d: %v", k, n, err)
							continue
						}
						if got.diff(before) != "" && got.diff(after) != "" {
							t.Errorf("crash after persist %d of %d: recovered state is neither before nor after: vs before: %s; vs after: %s",
								k, n, got.diff(before), got.diff(after))
						}
						states[k] = got
					}
					// The process really cut off there leaves what the copy
					// shows (at one point, or at every one in full).
					cuts := points[len(points)/2:][:1]
					if crashFull() {
						cuts = points
					}
					for _, k := range cuts {
						reset()
						if runObjCrash(t, tool, work, op, "CRASH_AT="+strconv.Itoa(k)) != 0 {
							t.Fatalf("objcrash did not stop at persist %d", k)
						}
						got, err := crossRecover(work, false)
						if err != nil {
							t.Errorf("crash after persist %d of %d: %v", k, n, err)
						} else if want, ok := states[k]; ok && got.diff(want) != "" {
							t.Errorf("crash after persist %d of %d recovers otherwise than its copy: %s", k, n, got.diff(want))
						}
					}
					t.Logf("%d persists, images after %v, cut off after %v", n, points, cuts)
				})
			}
		})
	}
}

// crashSample returns the crash points 1..n, or in short a seeded sample
// of max of them with n, the last, always in it.
func crashSample(r *rand.Rand, n, max int) []int {
	points := make([]int, n)
	for i := range points {
		points[i] = i + 1
	}
	if crashFull() || n <= max {
		return points
	}
	r.Shuffle(n-1, func(i, j int) { points[i], points[j] = points[j], points[i] })
	points = append(points[:max-1], n)
	slices.Sort(points)
	return points
}

// TestInteropCrashGoFullRedoAfterCExtension: C's recovery of a
// publication too large for one lane's redo log leaves the lane's external
// log linked to the heap object C extended it with, whose data area still
// holds the entries that did not fit. Go's open frees that extension (and
// the checker finds nothing leaked). Go then publishes exactly as many
// values as the lane's log holds (40) on that lane, and is cut off at each
// fence: recovering what Go stored must not run on into stale entries.
// The words C's entries name were changed since, so replaying them would
// give a state that is neither before nor after Go's publication.
func TestInteropCrashGoFullRedoAfterCExtension(t *testing.T) {
	requireCPeer(t)
	tool := buildObjCrash(t)
	dir := pmemtest.Dir(t)
	work := dir + "/work.obj"
	cCrashBase(t, work)
	base, err := os.ReadFile(work)
	if err != nil {
		t.Fatal(err)
	}
	n := runObjCrash(t, tool, work, "publish-many")
	// An image where C's log is committed and linked, not yet cleared.
	const extLog = layout.LanesOffset + layout.LaneExternalAt
	points := []int{n / 3, n / 2, 2 * n / 3}
	if err := writeImage(work, base); err != nil {
		t.Fatal(err)
	}
	runObjCrash(t, tool, work, "publish-many", fmt.Sprintf("SNAPSHOT_AT=%d,%d,%d", points[0], points[1], points[2]))
	var img []byte
	for _, k := range points {
		b, err := os.ReadFile(fmt.Sprintf("%s.%d", work, k))
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(fmt.Sprintf("%s.%d", work, k))
		le := binary.LittleEndian
		if img == nil && le.Uint64(b[extLog+layout.UlogChecksumAt:]) != 0 && le.Uint64(b[extLog+layout.UlogNextAt:]) != 0 {
			img = b
		}
	}
	if img == nil {
		t.Fatalf("no image of C's publication (%d persists) at %v has lane 0's external log committed and extended", n, points)
	}
	tmpl := crashTemplate{img, nonZeroPages(img)}

	// setup recovers C's image in Go and changes the words C's stale
	// entries name (the first 4 KiB of the object in root field 1).
	setup := func(m *core.Map) (*Pool, []uint64, error) {
		p, err := openTemplate(m, tmpl)
		if err != nil {
			return nil, nil, err
		}
		// Go frees at open the extension C's recovery leaves linked (C
		// frees it at the lane's next logged operation): none may remain,
		// and none may leak.
		if binary.LittleEndian.Uint64(m.Bytes()[extLog+layout.UlogNextAt:]) != 0 {
			return nil, nil, errors.New("lane 0's external log is still extended after Go's recovery")
		}
		if probs := p.Check(); len(probs) > 0 {
			return nil, nil, errors.Join(probs...)
		}
		root, err := p.Root(0)
		if err != nil {
			return nil, nil, err
		}
		b := p.Bytes(goFields(p.Bytes(root))[1])
		w := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), 60*8)
		for i := range 60 {
			w[i*8] = 7
		}
		p.Persist(b[:60*64])
		return p, w, nil
	}
	publish := func(p *Pool, w []uint64) error {
		acts := make([]Action, 40)
		for i := range acts {
			acts[i] = p.SetValue(&w[i*8], 5000+uint64(i))
		}
		return p.Publish(acts...)
	}

	d, err := crashsim.NewDeviceConfig(crashsim.DeviceConfig{Size: len(img), KeepOnClose: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, w, err := setup(d.Map())
	if err != nil {
		t.Fatal(err)
	}
	before, err := goState(p, sampledBytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := publish(p, w); err != nil {
		t.Fatal(err)
	}
	after, err := goState(p, sampledBytes)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()

	var pool *Pool
	var words []uint64
	cw := crashsim.Workload{
		Size: len(img),
		Setup: func(m *core.Map) (err error) {
			pool, words, err = setup(m)
			return err
		},
		Run: func(*core.Map) error { return publish(pool, words) },
		Check: func(m *core.Map, _ crashsim.Crash) error {
			if err := writeImage(work, m.Bytes()); err != nil {
				return err
			}
			got, err := crossRecover(work, false)
			if err != nil {
				return err
			}
			if got.diff(before) != "" && got.diff(after) != "" {
				return fmt.Errorf("recovered state is neither before nor after: vs before: %s; vs after: %s", got.diff(before), got.diff(after))
			}
			return nil
		},
	}
	o := crashOptions()
	o.MaxPoints = 0
	crashsim.Explore(t, cw, o)
}
