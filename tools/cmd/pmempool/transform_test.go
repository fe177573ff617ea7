package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/cobj"
)

// TestTransformInterop adds a replica to an obj pool made by C with our
// transform and removes it with C's, then adds it with C's and removes it
// with ours: C's check and pmemobj_open pass at every step, the replicas
// we add hold the primary's data, our obj.Open passes too, and the
// removed parts are deleted.
func TestTransformInterop(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	one := pmemtest.Poolset(t, dir, "one.set", "8M {dir}/p0", "8M {dir}/p1")
	two := pmemtest.Poolset(t, dir, "two.set", syncSetLines...)
	if code, out := cRun(t, "", "create", "--layout=tlay", "obj", one); code != 0 {
		t.Fatalf("C create: %d %s", code, out)
	}
	cOK := func(set, step string) {
		t.Helper()
		if code, out := cRun(t, "", "check", set); code != 0 {
			t.Errorf("%s: C check: %d %s", step, code, out)
		}
		if p, err := obj.Open(set, &obj.Options{Layout: "tlay"}); err != nil {
			t.Errorf("%s: obj.Open: %v", step, err)
		} else if err := p.Close(); err != nil {
			t.Errorf("%s: obj Close: %v", step, err)
		}
		cp, err := cobj.Open(set, "tlay")
		switch {
		case err == cobj.ErrUnavailable:
		case err != nil:
			t.Errorf("%s: C's pmemobj_open: %v", step, err)
		default:
			cp.Close()
		}
	}
	r0 := filepath.Join(dir, "r0")
	// A dry run writes nothing.
	if code, _, stderr := runCmd(t, "", false, "transform", "-d", one, two); code != 0 {
		t.Fatalf("transform -d: %d %s", code, stderr)
	}
	if _, err := os.Stat(r0); !os.IsNotExist(err) {
		t.Errorf("transform -d made the new replica's part: %v", err)
	}
	for _, ours := range []bool{true, false} {
		if ours {
			if code, stdout, stderr := runCmd(t, "", false, "transform", "-v", one, two); code != 0 || stdout != one+" -> "+two+": transformed\n" {
				t.Fatalf("our add: %d %q %q", code, stdout, stderr)
			}
			if p, r := replicaData(t, dir); !bytes.Equal(p, r) {
				t.Errorf("the added replica differs from the primary")
			}
		} else if code, out := cRun(t, "", "transform", one, two); code != 0 {
			t.Fatalf("C add: %d %s", code, out)
		}
		cOK(two, "after the add")
		if ours {
			if code, out := cRun(t, "", "transform", two, one); code != 0 {
				t.Fatalf("C remove: %d %s", code, out)
			}
		} else if code, _, stderr := runCmd(t, "", false, "transform", two, one); code != 0 {
			t.Fatalf("our remove: %d %s", code, stderr)
		}
		if _, err := os.Stat(r0); !os.IsNotExist(err) {
			t.Errorf("the removed replica's part is still there: %v", err)
		}
		cOK(one, "after the remove")
	}
	// Refusals, C's words and exit code: equal poolsets, adding and removing at once, a
	// replica too small, a part being added that exists.
	other := pmemtest.Poolset(t, dir, "other.set", "8M {dir}/p0", "8M {dir}/p1", "REPLICA", "16M {dir}/x0")
	swapped := pmemtest.Poolset(t, dir, "swap.set", "8M {dir}/x0", "8M {dir}/x1", "REPLICA", "16M {dir}/r0")
	small := pmemtest.Poolset(t, dir, "small.set", "8M {dir}/p0", "8M {dir}/p1", "REPLICA", "8M {dir}/s0")
	if err := os.WriteFile(filepath.Join(dir, "x0"), make([]byte, 16<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct{ src, dst, want string }{
		{one, one, "both poolsets are equal"},
		{one, small, "target poolset is too small"},
		{one, other, "some parts being added already exist"},
		{two, swapped, "adding and removing replicas at the same time is not allowed"},
	} {
		if i == 3 {
			if code, out := cRun(t, "", "transform", one, two); code != 0 {
				t.Fatalf("C add: %d %s", code, out)
			}
		}
		code, _, stderr := runCmd(t, "", false, "transform", c.src, c.dst)
		cCode, cOut := cRun(t, "", "transform", c.src, c.dst)
		if code != 1 || cCode != 1 || stderr != cOut || !strings.Contains(stderr, c.want) {
			t.Errorf("%s -> %s: ours %d %q; C %d %q", filepath.Base(c.src), filepath.Base(c.dst), code, stderr, cCode, cOut)
		}
	}
	cOK(two, "after the refusals")
	// Removing the primary: the replica becomes the pool.
	rOnly := pmemtest.Poolset(t, dir, "r.set", "16M {dir}/r0")
	if code, _, stderr := runCmd(t, "", false, "transform", two, rOnly); code != 0 {
		t.Fatalf("our remove of the primary: %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "p0")); !os.IsNotExist(err) {
		t.Errorf("the removed primary's part is still there: %v", err)
	}
	cOK(rOnly, "after the remove of the primary")
}
