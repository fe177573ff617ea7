package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestInteropSyncDirPoolset: a directory poolset C made, its replica's
// part file deleted, or its header damaged: our sync rebuilds it where
// C's does (the same file name in the replica's directory), C's check
// passes and the replica holds the primary's data; our transform refuses
// a directory poolset with C's words.
func TestInteropSyncDirPoolset(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	for _, d := range []string{"a", "r"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	set := pmemtest.Poolset(t, dir, "d.set", "OPTION SINGLEHDR", "32M {dir}/a", "REPLICA", "32M {dir}/r")
	if code, out := cRun(t, "", "create", "--layout=tlay", "obj", set); code != 0 {
		t.Fatalf("C create: %d %s", code, out)
	}
	primary, replica := filepath.Join(dir, "a", "000000.pmem"), filepath.Join(dir, "r", "000000.pmem")
	for _, damage := range []string{"deleted", "header"} {
		if damage == "deleted" {
			if err := os.Remove(replica); err != nil {
				t.Fatal(err)
			}
		} else {
			zeroAt(t, dir, "r/000000.pmem", 0, 64)
		}
		if code, stdout, stderr := runCmd(t, "", false, "sync", "-v", set); code != 0 || !strings.HasSuffix(stdout, ": synchronized\n") {
			t.Fatalf("%s: our sync: %d %q %q", damage, code, stdout, stderr)
		}
		if code, out := cRun(t, "", "check", set); code != 0 {
			t.Fatalf("%s: C check after our sync: %d %s", damage, code, out)
		}
		p, err := os.ReadFile(primary)
		if err != nil {
			t.Fatal(err)
		}
		r, err := os.ReadFile(replica)
		if err != nil {
			t.Fatal(err)
		}
		if string(p[4096:]) != string(r[4096:]) {
			t.Fatalf("%s: the rebuilt replica differs from the primary", damage)
		}
	}
	other := pmemtest.Poolset(t, dir, "o.set", "OPTION SINGLEHDR", "32M {dir}/a")
	code, _, stderr := runCmd(t, "", false, "transform", set, other)
	cCode, cOut := cRun(t, "", "transform", set, other)
	if code != 1 || cCode != 1 || stderr != cOut || !strings.Contains(stderr, "transform of directory poolsets is not supported") {
		t.Errorf("transform of a directory poolset: ours %d %q; C %d %q", code, stderr, cCode, cOut)
	}
}
