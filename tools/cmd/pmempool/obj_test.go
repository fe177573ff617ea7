package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/cobj"
)

// cObjPool makes an obj pool with C's libpmemobj (a gcc-built program):
// a root object, objects of several types and sizes in runs, a huge one,
// some freed, one changed in a transaction. It returns the pool's path.
func cObjPool(t *testing.T) string {
	p, _ := cObjPools(t, false)
	return p
}

// cObjPools is cObjPool and, with crashed, a second pool left by a
// transaction that never ended (its undo log pending).
func cObjPools(t *testing.T, crashed bool) (string, string) {
	t.Helper()
	bin := cProgram(t, `
#include <libpmemobj.h>
#include <string.h>
#include <stdio.h>
int main(int argc, char **argv) {
	PMEMobjpool *pop = pmemobj_create(argv[1], "objlay", 16 << 20, 0644);
	if (!pop) { perror("create"); return 1; }
	PMEMoid root = pmemobj_root(pop, 200);
	if (OID_IS_NULL(root)) { perror("root"); return 1; }
	PMEMoid o[40];
	for (int i = 0; i < 40; i++) {
		size_t size = 24 + (size_t)(i * 97) % 3000;
		if (pmemobj_alloc(pop, &o[i], size, 1 + i % 4, NULL, NULL)) { perror("alloc"); return 1; }
		memset(pmemobj_direct(o[i]), i, size);
	}
	for (int i = 0; i < 40; i += 7)
		pmemobj_free(&o[i]);
	PMEMoid huge;
	if (pmemobj_alloc(pop, &huge, 3 << 20, 9, NULL, NULL)) { perror("huge"); return 1; }
	TX_BEGIN(pop) {
		pmemobj_tx_add_range(root, 0, 64);
		memset(pmemobj_direct(root), 7, 64);
		pmemobj_tx_alloc(500, 5);
	} TX_END
	pmemobj_close(pop);
	if (argc < 3)
		return 0;
	/* A transaction cut short: its undo log is left for recovery. */
	pop = pmemobj_create(argv[2], "crash", 16 << 20, 0644);
	if (!pop) { perror("create"); return 1; }
	root = pmemobj_root(pop, 4096);
	PMEMoid f;
	if (pmemobj_alloc(pop, &f, 100, 3, NULL, NULL)) { perror("alloc"); return 1; }
	TX_BEGIN(pop) {
		pmemobj_tx_add_range(root, 0, 64);
		pmemobj_tx_add_range(root, 1000, 300);
		memset(pmemobj_direct(root), 9, 64);
		pmemobj_tx_alloc(700, 4);
		pmemobj_tx_free(f);
		_exit(0);
	} TX_END
	return 0;
}
`, "-lpmemobj")
	p, crash := pmemtest.Path(t, "c.obj"), ""
	args := []string{p}
	if crashed {
		crash = pmemtest.Path(t, "crash.obj")
		args = append(args, crash)
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return p, crash
}

// goObjPool makes an obj pool with gopmdk's obj library: root, objects in
// runs of several classes, a huge one, some freed.
func goObjPool(t *testing.T) string {
	t.Helper()
	path := pmemtest.Path(t, "go.obj")
	p, err := obj.Create(path, 16<<20, 0o644, &obj.Options{Layout: "golay", Arenas: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Root(300); err != nil {
		t.Fatal(err)
	}
	var oids []obj.OID
	for i := range 60 {
		o, err := p.Zalloc(1+(i*131)%5000, uint64(i%5))
		if err != nil {
			t.Fatal(err)
		}
		oids = append(oids, o)
	}
	for i := 0; i < len(oids); i += 4 {
		if err := p.Free(oids[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Alloc(2<<20, 11, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// objInfoOptions are the info option sets compared on obj pools.
var objInfoOptions = [][]string{
	nil, {"-v"}, {"-x"}, {"-n"}, {"-vx"}, {"-f", "obj"}, {"-O"}, {"-OA"}, {"-OAa"}, {"-Od"}, {"-o"}, {"-od"}, {"-oA"},
	{"-H"}, {"-HZ"}, {"-HC"}, {"-HZCx"}, {"-HZCb"}, {"-HZC", "-T", "footer,free,used,run"}, {"-s"}, {"-sO"}, {"-ns"},
	{"-s", "-t", "1-2"}, {"-O", "-t", "3"}, {"-O", "-r", "3-7"}, {"-OC", "-r", "2-5"}, {"-HZ", "-r", "0"}, {"-l", "-r", "1-2,1000-"},
	{"-lR"}, {"-v", "-O"}, {"-E", "-O"}, {"-r", "1"}, {"-b", "-A"}, {"-p", "1"}, {"-p", "x"}, {"-T", "foo", "-C", "-H"}, {"-S", "x"},
}

// sameAsC runs args through C's pmempool and ours and wants the same exit
// code and the same text (stdout and stderr).
func sameAsC(t *testing.T, args ...string) {
	t.Helper()
	wantCode, want := cRun(t, "", args...)
	code, got, stderr := runCmd(t, "", false, args...)
	if code != wantCode || got+stderr != want {
		t.Errorf("%v: exit %d, C's %d; ours\n%s\nC's\n%s", args, code, wantCode, got+stderr, want)
	}
}

// TestInteropObjInfo: our info of obj pools made by C's library and by
// C's pmempool is C's text, for each option that applies.
func TestInteropObjInfo(t *testing.T) {
	lib, crash := cObjPools(t, true)
	empty := pmemtest.Path(t, "empty.obj")
	if code, out := cRun(t, "", "create", "obj", empty); code != 0 {
		t.Fatalf("C create: %s", out)
	}
	gp := goObjPool(t)
	for _, p := range []string{lib, empty, gp} {
		for _, args := range objInfoOptions {
			sameAsC(t, append(append([]string{"info"}, args...), p)...)
		}
	}
	// The walks found what the pools hold.
	for p, want := range map[string]string{lib: "Object                   : 35", gp: "Object                   : 45"} {
		_, out, _ := runCmd(t, "", false, "info", "-O", p)
		if !strings.Contains(out, want) {
			t.Errorf("info -O %s: no %q in\n%s", p, want, out)
		}
	}
	// A heap too small for a zone: no zone, C's "-nan %" of used zones.
	b, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[0x1820:], 4096)
	small := filepath.Join(t.TempDir(), "small.obj")
	if err := os.WriteFile(small, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sameAsC(t, "info", "-s", small)
	// The pending undo log of the cut transaction, and -R finding it.
	for _, args := range [][]string{{"-l"}, {"-lR"}, {"-lRn"}, {"-l", "-r", "0-3"}, {"-s"}, {"-HZC"}} {
		sameAsC(t, append(append([]string{"info"}, args...), crash)...)
	}
	_, out, _ := runCmd(t, "", false, "info", "-lR", crash)
	if !strings.Contains(out, "Size: 300") {
		t.Errorf("info -lR of the cut transaction shows no snapshot of 300 bytes:\n%s", out)
	}
}

// TestInteropObjCreate: pools our create makes are consistent for C's
// pmempool, show the same info as C's own, and open in gopmdk's obj and,
// with the cpeer tag, in C's libpmemobj, with their layout.
func TestInteropObjCreate(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	for _, c := range []struct {
		args   []string
		layout string
		size   int64
	}{
		{nil, "", obj.MinPoolSize}, {[]string{"-l", "lay"}, "lay", obj.MinPoolSize},
		{[]string{"-s", "20000000", "-l", strings.Repeat("x", obj.MaxLayout-1)}, strings.Repeat("x", obj.MaxLayout-1), 20000000},
		{[]string{"-m", "0600", "-s", "32M", "--layout=a b"}, "a b", 32 << 20},
	} {
		t.Run(fmt.Sprintf("%.40s", strings.Join(c.args, " ")), func(t *testing.T) {
			ours, theirs := filepath.Join(dir, "go.obj"), filepath.Join(dir, "c.obj")
			defer os.Remove(ours)
			defer os.Remove(theirs)
			a := append(append([]string{"create"}, c.args...), "obj")
			if code, _, stderr := runCmd(t, "", false, append(a, ours)...); code != 0 {
				t.Fatalf("create: exit %d: %s", code, stderr)
			}
			if code, out := cRun(t, "", append(a, theirs)...); code != 0 {
				t.Fatalf("C create: %s", out)
			}
			st, err := os.Stat(ours)
			if err != nil {
				t.Fatal(err)
			}
			cst, err := os.Stat(theirs)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() != c.size || st.Mode() != cst.Mode() {
				t.Errorf("size %d mode %v; want %d and C's %v", st.Size(), st.Mode(), c.size, cst.Mode())
			}
			if code, out := cRun(t, "", "check", "-v", ours); code != 0 || !strings.Contains(out, "consistent") {
				t.Errorf("C check: exit %d\n%s", code, out)
			}
			// The same descriptor text as C's pool (the header differs in
			// UUIDs and time only).
			_, cInfo := cRun(t, "", "info", theirs)
			_, goInfo := cRun(t, "", "info", ours)
			if got, want := after(goInfo, "PMEM OBJ Header:"), after(cInfo, "PMEM OBJ Header:"); got != want || got == "" {
				t.Errorf("C's info of our pool:\n%s\nof C's:\n%s", got, want)
			}
			sameAsC(t, "info", ours)
			p, err := obj.Open(ours, &obj.Options{Layout: c.layout})
			if err != nil {
				t.Fatalf("obj.Open: %v", err)
			}
			if got, want := p.Layout(), c.layout; got != want {
				t.Errorf("Layout() = %q, want %q", got, want)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			cp, err := cobj.Open(ours, c.layout)
			switch {
			case err == cobj.ErrUnavailable:
			case err != nil:
				t.Errorf("C's pmemobj_open: %v", err)
			default:
				if _, err := cp.Root(64); err != nil {
					t.Errorf("C's pmemobj_root: %v", err)
				}
				cp.Close()
			}
		})
	}
	// Refusals: C's message and exit code.
	for _, args := range [][]string{
		{"-s", "4M", "obj"}, {"obj", "512"}, {"-w", "obj"}, {"-l", strings.Repeat("y", obj.MaxLayout), "obj"},
	} {
		sameAsC(t, append(append([]string{"create"}, args...), filepath.Join(dir, "refused"))...)
		if _, err := os.Stat(filepath.Join(dir, "refused")); !os.IsNotExist(err) {
			t.Errorf("%v left a file: %v", args, err)
		}
	}
}

// after returns the text of s from the line marker on.
func after(s, marker string) string {
	if i := strings.Index(s, marker); i >= 0 {
		return s[i:]
	}
	return ""
}

// TestInteropObjCheck: check of obj pools gives C's messages and exit code
// where C looks (the pool header), and our heap checker's verdict beyond.
func TestInteropObjCheck(t *testing.T) {
	lib, crash := cObjPools(t, true)
	dir := pmemtest.Dir(t)
	// A transaction cut short: consistent once recovered. The check
	// (which recovers in memory) leaves the file as it was; the repair
	// recovers the logs in the file, after which C's check, ours and both
	// libraries' opens accept the pool, and there is nothing left to
	// recover.
	before, err := os.ReadFile(crash)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "-v"}, {"check", "-vryd"}} {
		code, out, stderr := runCmd(t, "", false, append(args, crash)...)
		if code != 0 || !strings.Contains(out, "pmemobj heap correct") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
	}
	if after, err := os.ReadFile(crash); err != nil || string(after) != string(before) {
		t.Errorf("check changed the pool with a pending log (%v)", err)
	}
	if _, out, _ := runCmd(t, "", false, "info", "-lR", crash); !strings.Contains(out, "Lane ") {
		t.Fatalf("info -lR shows no lane to recover:\n%s", out)
	}
	code, out, stderr := runCmd(t, "", false, "check", "-vry", crash)
	if code != 0 || !strings.Contains(out, "pending lane logs recovered") || !strings.HasSuffix(out, "repaired\n") {
		t.Errorf("check -vry of a pool with a pending log: exit %d\n%s%s", code, out, stderr)
	}
	if _, out, _ := runCmd(t, "", false, "info", "-lR", crash); strings.Contains(out, "Lane ") {
		t.Errorf("info -lR after the repair shows lanes to recover:\n%s", out)
	}
	if code, out := cRun(t, "", "check", "-v", crash); code != 0 {
		t.Errorf("C's check after the recovery: exit %d\n%s", code, out)
	}
	if code, out, stderr := runCmd(t, "", false, "check", "-vry", crash); code != 0 || !strings.HasSuffix(out, ": consistent\n") {
		t.Errorf("check -vry after the recovery: exit %d\n%s%s", code, out, stderr)
	}
	op, err := obj.Open(crash, &obj.Options{Layout: "crash"})
	if err != nil {
		t.Fatalf("obj.Open after the recovery: %v", err)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	if cp, err := cobj.Open(crash, "crash"); err == nil {
		cp.Close()
	} else if err != cobj.ErrUnavailable {
		t.Errorf("C's pmemobj_open after the recovery: %v", err)
	}
	b, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, damage func([]byte)) string {
		c := append([]byte(nil), b...)
		if damage != nil {
			damage(c)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	healthy := write("healthy", nil)
	for _, args := range [][]string{{"check"}, {"check", "-v"}, {"check", "-vry"}, {"check", "-vr", "-d"}} {
		// -v: ours also says it checked the heap.
		args = append(args, healthy)
		wantCode, want := cRun(t, "", args...)
		code, got, stderr := runCmd(t, "", false, args...)
		got = strings.Replace(got, "checking pmemobj heap\npmemobj heap correct\n", "", 1)
		if code != wantCode || got+stderr != want {
			t.Errorf("%v: exit %d, C's %d; ours\n%s\nC's\n%s", args, code, wantCode, got+stderr, want)
		}
	}
	// A damaged pool header: C's verdict and messages, checking. C does
	// not repair obj pools; ours repairs their header as a log or blk
	// pool's where the right value is known (a field with one valid
	// value), and C accepts the result; a new checksum is refused, with -a
	// too (the damage might be the poolset UUID, the pool's id in OIDs).
	hdr := write("hdr", func(c []byte) { c[4088] ^= 1 })
	for _, args := range [][]string{{"check"}, {"check", "-v"}} {
		sameAsC(t, append(args, hdr)...)
	}
	for _, flags := range []string{"-vry", "-vrya"} {
		if code, out, _ := runCmd(t, "", false, "check", flags, hdr); code != 1 || !strings.Contains(out, "invalid pool_hdr.checksum") {
			t.Errorf("check %s of a bad header checksum: exit %d\n%s", flags, code, out)
		}
	}
	major := write("major", func(c []byte) { c[8] ^= 2 })
	if code, out, _ := runCmd(t, "", false, "check", "-vry", major); code != 0 || !strings.Contains(out, "setting pool_hdr.major to 0x6") {
		t.Errorf("check -vry of a bad major: exit %d\n%s", code, out)
	}
	if code, out := cRun(t, "", "check", "-v", major); code != 0 {
		t.Errorf("C's check of the repaired header: exit %d\n%s", code, out)
	}
	// Beyond C: a damaged descriptor and a damaged heap are found; C
	// says consistent. Fields of known value are repaired (C's check and
	// ours say consistent afterwards); the others are refused.
	for _, c := range []struct {
		name     string
		off      int
		want     string
		repaired bool
	}{
		{"desc", 0x1408, "obj descriptor", true}, // nlanes (checksum now wrong)
		{"heap", 0x302000 + 40, "heap", true},    // the heap header's chunk size
		{"zone", 0x302400 + 4, "zone", false},    // zone 0's size_idx
		{"chunk", 0x302440 + 4, "chunk", false},  // chunk 0's size_idx
	} {
		p := write(c.name, func(b []byte) { b[c.off] ^= 0x10 })
		if code, out := cRun(t, "", "check", p); code != 0 {
			t.Errorf("%s: C's check: exit %d, want 0 (it looks at the header only)\n%s", c.name, code, out)
		}
		code, out, stderr := runCmd(t, "", false, "check", "-v", p)
		if code != 1 || !strings.Contains(out, "not consistent") || !strings.Contains(stderr+out, c.want) {
			t.Errorf("%s: exit %d, want 1 with a problem naming %q\n%s%s", c.name, code, c.want, out, stderr)
		}
		before, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		code, out, stderr = runCmd(t, "", false, "check", "-ry", p)
		if c.repaired {
			if code != 0 || !strings.Contains(out, "repaired") {
				t.Errorf("%s: repair: exit %d, want 0, repaired\n%s%s", c.name, code, out, stderr)
			}
			if code, out, stderr := runCmd(t, "", false, "check", p); code != 0 {
				t.Errorf("%s: our check of the repaired pool: exit %d\n%s%s", c.name, code, out, stderr)
			}
			if code, out := cRun(t, "", "check", p); code != 0 {
				t.Errorf("%s: C's check of the repaired pool: exit %d\n%s", c.name, code, out)
			}
			continue
		}
		if code != 1 || !strings.Contains(out, "cannot repair") {
			t.Errorf("%s: repair: exit %d, want 1, cannot repair\n%s%s", c.name, code, out, stderr)
		}
		if after, err := os.ReadFile(p); err != nil || string(after) != string(before) {
			t.Errorf("%s: the refused repair changed the file (%v)", c.name, err)
		}
	}
}

// TestInteropObjDumpRm: dump refuses obj pools as C does; rm removes them.
func TestInteropObjDumpRm(t *testing.T) {
	lib := cObjPool(t)
	sameAsC(t, "dump", lib)
	sameAsC(t, "dump", "-b", "-r", "0-10", lib)
	code, out, stderr := runCmd(t, "", false, "rm", "-v", lib)
	if code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("rm: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(lib); !os.IsNotExist(err) {
		t.Errorf("rm left the pool: %v", err)
	}
}

// TestInteropObjInfoTwoZones: a pool of two zones (an 18 GiB sparse file,
// about 4 MiB of it written): zone 0 filled by one huge object, zone 1
// holding runs and a huge block; info's zones, chunks, objects and
// statistics (with the all-zone totals) are C's.
func TestInteropObjInfoTwoZones(t *testing.T) {
	if testing.Short() {
		t.Skip("an 18 GiB sparse pool: not with -short")
	}
	cTool(t)
	path := filepath.Join(t.TempDir(), "two.obj")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = f.Truncate(18 << 30)
	f.Close()
	if err != nil {
		t.Skipf("no sparse file of 18 GiB here: %v", err)
	}
	p, err := obj.Create(path, 0, 0o644, &obj.Options{Arenas: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Alloc(obj.MaxAllocSize, 1, nil); err != nil {
		p.Close()
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := p.Alloc(1<<20+i*1000, 2, nil); err != nil {
			p.Close()
			t.Fatal(err)
		}
		if _, err := p.Alloc(100+i, 3, nil); err != nil {
			p.Close()
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-s"}, {"-HZ"}, {"-HZC"}, {"-O"}, {"-HZC", "-r", "1"}, {"-sO", "-t", "2"}} {
		sameAsC(t, append(append([]string{"info"}, args...), path)...)
	}
	_, out, _ := runCmd(t, "", false, "info", "-s", path)
	if !strings.Contains(out, "Number of used zones     : 2 [100 %]") || !strings.Contains(out, "Total zone's statistics") {
		t.Errorf("info -s of a two-zone pool:\n%s", out)
	}
}
