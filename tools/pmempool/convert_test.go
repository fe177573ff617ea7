package pmempool

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/cobj"
)

// convertFixtures are the pools testdata/convert/mkpools.sh made with the
// PMDK releases themselves, xz-compressed: <release>-clean (closed),
// -cut (exited in a transaction) and -recovered (the cut pool reopened by
// its release).
const convertFixtures = "../cmd/pmdk-convert/testdata"

// convertPool decompresses fixture name into dir and returns its path.
func convertPool(t *testing.T, dir, name string) string {
	t.Helper()
	src := filepath.Join(convertFixtures, name+".obj.xz")
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	dst := filepath.Join(dir, name+".obj")
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("xz", "-dc", src)
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		t.Skipf("xz cannot decompress %s: %v", src, err)
	}
	return dst
}

// runConvert runs pmdk-convert with args; it returns the exit code and
// the output.
func runConvert(stdin string, args ...string) (int, string, string) {
	var out, errw bytes.Buffer
	code := RunConvert(args, strings.NewReader(stdin), &out, &errw)
	return code, out.String(), errw.String()
}

var convertReleases = []string{"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"}

// TestInteropConvert converts the pools of every release before 1.7 and
// opens each in C's libpmemobj 1.12.1 and in obj: the objects the release
// wrote are there, both checks pass, both allocate in it. Cut-off pools are
// refused and left unchanged; their recovered copies convert.
func TestInteropConvert(t *testing.T) {
	for _, rel := range convertReleases {
		t.Run(rel, func(t *testing.T) {
			dir := t.TempDir()
			for _, kind := range []string{"clean", "recovered"} {
				p := convertPool(t, dir, rel+"-"+kind)
				code, out, errs := runConvert("", "-X", "fail-safety", "--force-yes=1.2-pmemmutex", p)
				if code != 0 {
					t.Fatalf("%s-%s: exit %d\n%s%s", rel, kind, code, out, errs)
				}
				if !strings.Contains(out, "to v6 (PMDK 1.7") || strings.Count(out, "Done\n") < 1 {
					t.Errorf("%s-%s: output %q", rel, kind, out)
				}
				checkConverted(t, p, kind)
			}

			// A cut-off pool is refused, the file unchanged.
			p := convertPool(t, dir, rel+"-cut")
			before, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			code, _, errs := runConvert("", "-X", "fail-safety", "-X", "1.2-pmemmutex", p)
			if code != convFailed || !strings.Contains(errs, "open the pool once with PMDK ") || !strings.Contains(errs, rel) {
				t.Errorf("cut pool: exit %d, %q; want %d and a refusal", code, errs, convFailed)
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
				t.Errorf("cut pool: refused conversion changed the file")
			}
			l, err := DetectObjLayout(p)
			if want, _ := ObjLayoutOfRelease(releaseNumber(rel)); err != nil || l != want {
				t.Errorf("cut pool: layout %d, %v; want %d", l, err, want)
			}
			for i := range l {
				if err := ConvertObjStep(p, i+1); i+1 == l && !errors.Is(err, ErrConvertPending) {
					t.Errorf("step from %d: %v, want ErrConvertPending", i+1, err)
				} else if i+1 != l && !errors.Is(err, ErrConvertLayout) {
					t.Errorf("step from %d on a layout-%d pool: %v, want ErrConvertLayout", i+1, l, err)
				}
			}
		})
	}
}

// checkConverted opens a converted pool in C 1.12.1 and in obj and checks
// what mkpool.c left in it; kind "clean" has the committed transaction's
// object, "recovered" the same after the cut transaction was rolled back.
func checkConverted(t *testing.T, p, kind string) {
	t.Helper()
	// Converting again: nothing to do, nothing changed.
	before, _ := os.ReadFile(p)
	if code, out, _ := runConvert("", p); code != 0 || out != "The pool is in the requested layout verison, conversion is not needed" {
		t.Errorf("second conversion: exit %d, %q", code, out)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
		t.Errorf("second conversion changed the file")
	}

	if cPath, err := exec.LookPath("pmempool"); err == nil {
		if r, out := cCheck(t, cPath, p); r != Consistent {
			t.Errorf("C pmempool check: %v\n%s", r, out)
		}
	}
	if r, _, err := Check(p, nil); err != nil || r != Consistent {
		t.Errorf("our check: %v, %v", r, err)
	}

	// Objects by type number: mkpool.c allocates 21 of types 1-3 and frees
	// every third (all of type 1), one of type 7 and, in a transaction,
	// one of type 9.
	want := map[uint64]int{1: 0, 2: 7, 3: 7, 7: 1, 9: 1}
	gp, err := obj.Open(p, nil)
	if err != nil {
		t.Fatalf("obj.Open of the converted pool: %v", err)
	}
	if n := gp.RootSize(); n != 256 {
		t.Errorf("obj root size %d, want 256", n)
	}
	if r, _ := gp.Root(256); string(gp.Bytes(r)[:9]) != "committed" {
		t.Errorf("obj root holds %q", gp.Bytes(r)[:9])
	}
	if got := goObjects(t, gp); !mapsEqual(got, want) {
		t.Errorf("obj sees objects %v, want %v", got, want)
	}
	// Allocations of every size class the release used, then more.
	for i, size := range []int{100, 500, 1000, 2000} {
		if _, err := gp.Alloc(size, 12, nil); err != nil {
			t.Errorf("obj alloc %d in the converted pool: %v", size, err)
		}
		want[12] = i + 1
	}
	if got := goObjects(t, gp); !mapsEqual(got, want) {
		t.Errorf("after allocating, obj sees objects %v, want %v", got, want)
	}
	if err := gp.Close(); err != nil {
		t.Fatal(err)
	}
	if r, _, err := Check(p, nil); err != nil || r != Consistent {
		t.Errorf("our check after obj allocated: %v, %v", r, err)
	}
	if !cobj.Available {
		return
	}
	if r, err := cobj.Check(p, "convert"); r != 1 {
		t.Errorf("C pmemobj_check: %d, %v", r, err)
	}
	cp, err := cobj.Open(p, "convert")
	if err != nil {
		t.Fatalf("C 1.12.1 pmemobj_open of the converted pool: %v", err)
	}
	defer cp.Close()
	if n := cp.RootSize(); n != 256 {
		t.Errorf("C root size %d, want 256", n)
	}
	root, _ := cp.Root(256)
	if got := string(cobj.Bytes(root)[:9]); got != "committed" {
		t.Errorf("C root holds %q", got)
	}
	if got := cObjects(cp); !mapsEqual(got, want) {
		t.Errorf("C sees objects %v, want %v", got, want)
	}
	// C 1.12.1 takes a legacy run (a 1.0-1.4 run, without the flexible
	// bitmap) for empty when its free blocks number the nallocs of its
	// size's class today, which counts fewer blocks: its first
	// allocation in a converted pool can reclaim runs with live objects
	// (reported, not asserted: it is C's behaviour; obj counts the
	// run's own blocks).
	if _, err := cp.Alloc(5000, 11); err != nil {
		t.Errorf("C alloc: %v", err)
	}
	want[11] = 1
	if got := cObjects(cp); !mapsEqual(got, want) {
		t.Logf("after C 1.12.1 allocates, it sees objects %v, want %v", got, want)
	}
}

func goObjects(t *testing.T, gp *obj.Pool) map[uint64]int {
	got := map[uint64]int{1: 0}
	for o := range gp.Objects() {
		tn, err := gp.TypeNum(o)
		if err != nil {
			t.Fatal(err)
		}
		got[tn]++
	}
	return got
}

func cObjects(cp *cobj.Pool) map[uint64]int {
	got := map[uint64]int{1: 0}
	for o := cp.First(); !o.IsNull(); o = cobj.Next(o) {
		got[cobj.TypeNum(o)]++
	}
	return got
}

func mapsEqual(a, b map[uint64]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestConvertCLI runs pmdk-convert's option errors and refusals: C's exit
// codes and messages.
func TestConvertCLI(t *testing.T) {
	dir := t.TempDir()
	p := convertPool(t, dir, "1.1-clean")
	notObj := filepath.Join(dir, "not-obj")
	if err := os.WriteFile(notObj, make([]byte, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args      []string
		stdin     string
		code      int
		out, errs string // substrings
	}{
		{args: nil, code: convNotEnoughArgs, out: "Usage: pmdk-convert"},
		{args: []string{"-h"}, code: 0, out: "    v4 (PMDK 1.3, PMDK 1.4)\n"},
		{args: []string{"--version"}, code: 0, out: "pmdk-convert "},
		{args: []string{"-z", p}, code: convUnknownArg, errs: "invalid option -- 'z'"},
		{args: []string{"--bogus", p}, code: convUnknownArg, errs: "unrecognized option '--bogus'"},
		{args: []string{"-X", "bogus", p}, code: convUnknownFlag, errs: "unknown parameter bogus"},
		{args: []string{"-f", "1.1", "-F", "2", p}, code: convFromExclusive, errs: "exclusive"},
		{args: []string{"-t", "1.4", "-T", "4", p}, code: convToExclusive, errs: "exclusive"},
		{args: []string{"--from=11", p}, code: convFromInvalid, errs: "Invalid \"from\" version format"},
		{args: []string{"--to=x.y", p}, code: convToInvalid, errs: "Invalid \"to\" version format"},
		{args: []string{"-F", "two", p}, code: convFromLayoutBad, errs: "Invalid \"from-layout\" version."},
		{args: []string{"-T", "-1", p}, code: convToLayoutBad, errs: "Invalid \"to-layout\" version."},
		{args: []string{"-X", "fail-safety"}, code: convNoPool, errs: "Missing pool argument."},
		{args: []string{notObj}, code: convPoolDetection, errs: "Cannot detect pool version."},
		{args: []string{"-f", "0.9", p}, code: convUnsupportedFrom, errs: "Unsupported pool 'from' version"},
		{args: []string{"-T", "9", p}, code: convUnsupportedTo, errs: "Unsupported pool 'to-layout' version"},
		{args: []string{"-t", "1.0", p}, code: convBackward, errs: "Backward conversion is not implemented."},
		{args: []string{"-t", "1.1", p}, code: 0, out: "conversion is not needed"},
		{args: []string{p}, code: convStdinEOF, errs: "EOF, aborting"},
		// The 1.2 question answered no on stdin: the step fails, the
		// pool keeps layout 2.
		{args: []string{p}, stdin: "\nn\n", code: convFailed, out: "convert the pool? [y/N] n\n", errs: "failed: Operation canceled by user (Operation canceled)"},
		// Layout 2 to 3 (answered yes), then 3 to 6.
		{args: []string{"-T", "3", p}, stdin: "\ny\n", code: 0, out: "Converting from v2 (PMDK 1.1) to v3 (PMDK 1.2)... \n"},
		{args: []string{"-X", "fail-safety", p}, code: 0, out: "Converting from v5 (PMDK 1.5, PMDK 1.6) to v6"},
	} {
		code, out, errs := runConvert(c.stdin, c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errs, c.errs) {
			t.Errorf("pmdk-convert %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, out, errs, c.code, c.out, c.errs)
		}
	}
	if l, err := DetectObjLayout(p); err != nil || l != ObjLayoutCurrent {
		t.Errorf("after the conversion: layout %d, %v", l, err)
	}
}
