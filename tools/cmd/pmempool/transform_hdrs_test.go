package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/obj"
)

// hdrSetParts are the part files of the SINGLEHDR transform tests.
var hdrSetParts = []string{"p0", "p1", "p2", "r0", "r1"}

// hdrSets writes, in dir, the poolset with headers in every part and the
// same poolset with OPTION SINGLEHDR.
func hdrSets(t *testing.T, dir string) (hdrs, single string) {
	lines := []string{"8M {dir}/p0", "8M {dir}/p1", "8M {dir}/p2", "REPLICA", "16M {dir}/r0", "8M {dir}/r1"}
	return pmemtest.Poolset(t, dir, "hdrs.set", lines...),
		pmemtest.Poolset(t, dir, "single.set", append([]string{"OPTION SINGLEHDR"}, lines...)...)
}

// objContents returns every object of the pool at set, its type number
// and bytes, in the pool's order.
func objContents(t *testing.T, set string) string {
	t.Helper()
	p, err := obj.Open(set, &obj.Options{Layout: "tlay"})
	if err != nil {
		t.Fatalf("obj.Open %s: %v", filepath.Base(set), err)
	}
	defer p.Close()
	var b strings.Builder
	for oid := range p.Objects() {
		tn, _ := p.TypeNum(oid)
		fmt.Fprintf(&b, "%d:%x;", tn, p.Bytes(oid))
	}
	return b.String()
}

// copyParts copies the part files of dir into a new directory, with the
// two poolsets naming them there.
func copyParts(t *testing.T, dir string) (dst, hdrs, single string) {
	t.Helper()
	dst = pmemtest.Dir(t)
	for _, n := range hdrSetParts {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hdrs, single = hdrSets(t, dst)
	return dst, hdrs, single
}

// requireSameParts compares the part files of two directories after the
// same transform by C and by us: byte for byte, but for the UUID links
// and checksum of headers ADD_HDRS writes (new random part UUIDs), their
// creation time and, in the new headers, what C leaves of the data in
// the unused areas and the SDS.
func requireSameParts(t *testing.T, step, c, ours string, addHdrs bool) {
	t.Helper()
	for _, n := range hdrSetParts {
		cb, err := os.ReadFile(filepath.Join(c, n))
		if err != nil {
			t.Fatal(err)
		}
		ob, err := os.ReadFile(filepath.Join(ours, n))
		if err != nil {
			t.Fatal(err)
		}
		if len(cb) != len(ob) {
			t.Fatalf("%s: part %s: C's %d bytes, ours %d", step, n, len(cb), len(ob))
		}
		from := 0
		if addHdrs {
			from = pool.HeaderSize
			ch, err1 := pool.DecodeHeader(cb[:pool.HeaderSize])
			oh, err2 := pool.DecodeHeader(ob[:pool.HeaderSize])
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: part %s headers: C's %v, ours %v", step, n, err1, err2)
			}
			for _, h := range []*pool.Header{ch, oh} {
				h.PrevPartUUID, h.NextPartUUID, h.CrTime, h.Checksum = pool.UUID{}, pool.UUID{}, 0, 0
				if n != "p0" && n != "r0" {
					// A new header: C writes its fields over
					// the bytes the data left there, keeping
					// them in the unused areas and the SDS;
					// ours are zero there.
					h.UUID, h.SDS = pool.UUID{}, pool.ShutdownState{}
					clear(h.Unused[:])
					clear(h.Unused2[:])
				}
			}
			if *ch != *oh {
				t.Errorf("%s: part %s header: C's %s, ours %s", step, n, hdrString(ch), hdrString(oh))
			}
		}
		if !bytes.Equal(cb[from:], ob[from:]) {
			i := from
			for cb[i] == ob[i] {
				i++
			}
			t.Errorf("%s: part %s differs from C's at byte %d", step, n, i)
		}
	}
}

// TestInteropTransformSingleHdr adds the SINGLEHDR option to an obj
// poolset C made (the headers of the parts after the first go, the data
// moves up) and removes it again (headers come back), with our transform
// and C's on copies of the same files: the results are the same bytes
// (but for the new UUIDs), C's check passes, and the objects stay.
func TestInteropTransformSingleHdr(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	hdrs, single := hdrSets(t, dir)
	if code, out := cRun(t, "", "create", "--layout=tlay", "obj", hdrs); code != 0 {
		t.Fatalf("C create: %d %s", code, out)
	}
	// Objects over the whole pool, through every part.
	p, err := obj.Open(hdrs, &obj.Options{Layout: "tlay"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		fill := func(b []byte) error {
			for j := range b {
				b[j] = byte(i*7 + j)
			}
			return nil
		}
		if _, err := p.Alloc(200<<10, uint64(i+1), fill); err != nil {
			t.Fatalf("alloc %d: %v", i, err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	want := objContents(t, hdrs)
	for _, step := range []struct {
		name     string
		src, dst func(hdrs, single string) string
		addHdrs  bool
	}{
		{"add SINGLEHDR", func(h, _ string) string { return h }, func(_, s string) string { return s }, false},
		{"remove SINGLEHDR", func(_, s string) string { return s }, func(h, _ string) string { return h }, true},
	} {
		cDir, ourDir := dir, ""
		var ourHdrs, ourSingle string
		ourDir, ourHdrs, ourSingle = copyParts(t, cDir)
		if code, out := cRun(t, "", "transform", step.src(hdrs, single), step.dst(hdrs, single)); code != 0 {
			t.Fatalf("%s: C transform: %d %s", step.name, code, out)
		}
		if code, stdout, stderr := runCmd(t, "", false, "transform", "-v", step.src(ourHdrs, ourSingle), step.dst(ourHdrs, ourSingle)); code != 0 || !strings.HasSuffix(stdout, ": transformed\n") {
			t.Fatalf("%s: our transform: %d %q %q", step.name, code, stdout, stderr)
		}
		requireSameParts(t, step.name, cDir, ourDir, step.addHdrs)
		dst := step.dst(ourHdrs, ourSingle)
		if code, out := cRun(t, "", "check", dst); code != 0 {
			t.Errorf("%s: C check of ours: %d %s", step.name, code, out)
		}
		if got := objContents(t, dst); got != want {
			t.Errorf("%s: the objects changed", step.name)
		}
	}
	// C's refusals, in C's words: a change of option with a replica
	// added, a target part below 8 MiB, a target too small for the data.
	more := pmemtest.Poolset(t, dir, "more.set", "OPTION SINGLEHDR", "8M {dir}/p0", "8M {dir}/p1", "8M {dir}/p2", "REPLICA", "16M {dir}/r0", "8M {dir}/r1", "REPLICA", "32M {dir}/x0")
	fresh := pmemtest.Dir(t)
	fHdrs, fSingle := hdrSets(t, fresh)
	if code, out := cRun(t, "", "create", "--layout=tlay", "obj", fSingle); code != 0 {
		t.Fatalf("C create: %d %s", code, out)
	}
	small := pmemtest.Poolset(t, dir, "small.set", "8M {dir}/p0", "8M {dir}/p1", "8M {dir}/p2", "REPLICA", "16M {dir}/r0", "8M {dir}/r1", "REPLICA", "4M {dir}/s0", "32M {dir}/s1")
	for _, c := range []struct{ src, dst, want string }{
		{hdrs, more, "cannot add/remove replicas and change the SINGLEHDR option at the same time"},
		{hdrs, small, "part sizes check failed"},
		{fSingle, fHdrs, "target poolset is too small"},
	} {
		code, _, stderr := runCmd(t, "", false, "transform", c.src, c.dst)
		cCode, cOut := cRun(t, "", "transform", c.src, c.dst)
		if code != 1 || cCode != 1 || stderr != cOut || !strings.Contains(stderr, c.want) {
			t.Errorf("%s -> %s: ours %d %q; C %d %q", filepath.Base(c.src), filepath.Base(c.dst), code, stderr, cCode, cOut)
		}
	}
}

// hdrString shows the fields of a header a transform sets.
func hdrString(h *pool.Header) string {
	return fmt.Sprintf("{incompat %#x set %v uuid %v part %v/%v repl %v/%v sds %+v}", h.Incompat, h.PoolsetUUID, h.UUID,
		h.PrevPartUUID, h.NextPartUUID, h.PrevReplUUID, h.NextReplUUID, h.SDS)
}
