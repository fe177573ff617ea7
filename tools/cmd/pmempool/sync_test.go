package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core/pmemtest"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/cobj"
)

// syncSetLines is the poolset the sync tests use: a primary of two 8 MiB
// parts and a replica of one 16 MiB part.
var syncSetLines = []string{"8M {dir}/p0", "8M {dir}/p1", "REPLICA", "16M {dir}/r0"}

// replicaData returns the data of the test poolset's replicas past the
// pool header, read from the part files (each next part past its own
// header), cut to the pool's size.
func replicaData(t *testing.T, dir string) (primary, replica []byte) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	primary = append(read("p0")[4096:], read("p1")[4096:]...)
	replica = read("r0")[4096:]
	n := min(len(primary), len(replica))
	return primary[:n], replica[:n]
}

// syncDamages are the damages sync repairs, each applied to a fresh
// poolset in dir.
var syncDamages = []struct {
	name   string
	damage func(t *testing.T, dir string)
}{
	{"replica part deleted", func(t *testing.T, dir string) { rmPart(t, dir, "r0") }},
	{"primary part deleted", func(t *testing.T, dir string) { rmPart(t, dir, "p1") }},
	{"primary first part deleted", func(t *testing.T, dir string) { rmPart(t, dir, "p0") }},
	{"primary part header zeroed", func(t *testing.T, dir string) { zeroAt(t, dir, "p1", 0, 4096) }},
	{"replica header checksum damaged", func(t *testing.T, dir string) { zeroAt(t, dir, "r0", 4088, 8) }},
	{"replica part truncated", func(t *testing.T, dir string) {
		if err := os.Truncate(filepath.Join(dir, "r0"), 12<<20); err != nil {
			t.Fatal(err)
		}
	}},
}

func rmPart(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func zeroAt(t *testing.T, dir, name string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, n), off); err != nil {
		t.Fatal(err)
	}
}

// TestSyncObjInterop damages obj poolsets made by C's pmempool create and
// syncs each with C's pmempool and with ours: the same exit codes and
// output, C's check and pmemobj_open and our obj.Open pass on what we
// synced, and our replicas hold the same data.
func TestSyncObjInterop(t *testing.T) {
	cTool(t)
	for i, d := range syncDamages {
		if testing.Short() && i >= 2 {
			break
		}
		t.Run(d.name, func(t *testing.T) {
			var sets [2]string
			for i := range sets {
				dir := pmemtest.Dir(t)
				sets[i] = pmemtest.Poolset(t, dir, "pool.set", syncSetLines...)
				if code, out := cRun(t, "", "create", "--layout=synclay", "obj", sets[i]); code != 0 {
					t.Fatalf("C create: %d %s", code, out)
				}
				d.damage(t, dir)
			}
			// Dry run: nothing changes.
			before := listDir(t, filepath.Dir(sets[0]))
			if code, _, stderr := runCmd(t, "", false, "sync", "-d", sets[0]); code != 0 {
				t.Fatalf("sync -d: %d %s", code, stderr)
			}
			if after := listDir(t, filepath.Dir(sets[0])); after != before {
				t.Errorf("sync -d changed the directory: %s -> %s", before, after)
			}
			code, stdout, stderr := runCmd(t, "", false, "sync", "-b", "-v", sets[0])
			cCode, cOut := cRun(t, "", "sync", "-b", "-v", sets[1])
			if code != cCode || strings.ReplaceAll(stdout, sets[0], "S") != strings.ReplaceAll(cOut, sets[1], "S") {
				t.Errorf("ours: %d %q %q; C: %d %q", code, stdout, stderr, cCode, cOut)
			}
			for i, set := range sets {
				if code, out := cRun(t, "", "check", "-v", set); code != 0 {
					t.Errorf("set %d: C check after sync: %d %s", i, code, out)
				}
			}
			// Ours copies the whole pool; C's only what its heap uses,
			// so only our replicas are compared.
			if p, r := replicaData(t, filepath.Dir(sets[0])); !bytes.Equal(p, r) {
				t.Errorf("the replicas differ after our sync")
			}
			p, err := obj.Open(sets[0], &obj.Options{Layout: "synclay"})
			if err != nil {
				t.Fatalf("obj.Open: %v", err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			cp, err := cobj.Open(sets[0], "synclay")
			switch {
			case err == cobj.ErrUnavailable:
			case err != nil:
				t.Errorf("C's pmemobj_open: %v", err)
			default:
				cp.Close()
			}
		})
	}
}

func listDir(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// TestSyncRefusals: a healthy poolset is left alone, and with no healthy
// replica sync fails as C's does.
func TestSyncRefusals(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "pool.set", syncSetLines...)
	if code, out := cRun(t, "", "create", "obj", set); code != 0 {
		t.Fatalf("C create: %d %s", code, out)
	}
	if code, stdout, stderr := runCmd(t, "", false, "sync", set); code != 0 || stdout != "" || stderr != "" {
		t.Errorf("sync of a healthy set: %d %q %q", code, stdout, stderr)
	}
	// Data that differs between healthy replicas is not a damage C's
	// sync sees: both leave the poolset alone.
	zeroAt(t, dir, "r0", 1<<20, 4096)
	before, _ := replicaData(t, dir)
	if code, _, stderr := runCmd(t, "", false, "sync", set); code != 0 {
		t.Errorf("sync of a set whose data differs: %d %q", code, stderr)
	}
	if after, _ := replicaData(t, dir); !bytes.Equal(before, after) {
		t.Errorf("sync changed the primary of a healthy set")
	}
	if code, out := cRun(t, "", "sync", set); code != 0 {
		t.Errorf("C's sync of a set whose data differs: %d %q", code, out)
	}
	zeroAt(t, dir, "p0", 0, 4096)
	zeroAt(t, dir, "r0", 0, 4096)
	code, _, stderr := runCmd(t, "", false, "sync", set)
	cCode, cOut := cRun(t, "", "sync", set)
	if code != 1 || cCode != 1 || stderr != cOut || !strings.Contains(stderr, "no healthy replica") {
		t.Errorf("ours: %d %q; C: %d %q", code, stderr, cCode, cOut)
	}
}

// TestSyncLog: a log poolset with a replica, made by our library (C's
// libpmemlog refuses replicas), repaired by our sync; the log reads back.
func TestSyncLog(t *testing.T) {
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "log.set", syncSetLines...)
	l, err := pmemlog.Create(set, 0, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("replicated "), 1000)
	if err := l.Append(msg); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, d := range syncDamages {
		if testing.Short() && i >= 2 {
			break
		}
		d.damage(t, dir)
		if code, _, stderr := runCmd(t, "", false, "sync", set); code != 0 {
			t.Fatalf("%s: sync: %d %s", d.name, code, stderr)
		}
		p, r := replicaData(t, dir)
		if !bytes.Equal(p, r) {
			t.Errorf("%s: the replicas differ after sync", d.name)
		}
		l, err := pmemlog.Open(set, nil)
		if err != nil {
			t.Fatalf("%s: open after sync: %v", d.name, err)
		}
		got, err := l.Bytes()
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%s: log after sync: %d bytes, %v", d.name, len(got), err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSyncBlk: a blk poolset with a replica, made by our library (C's
// libpmemblk refuses replicas), a block written, a replica part deleted
// and the primary's second header damaged, each repaired by our sync;
// the block reads back.
func TestSyncBlk(t *testing.T) {
	dir := pmemtest.Dir(t)
	// Larger parts: a blk pool is at least 16 MiB and a page.
	set := pmemtest.Poolset(t, dir, "blk.set", "12M {dir}/p0", "12M {dir}/p1", "REPLICA", "24M {dir}/r0")
	p, err := blk.Create(set, 0, 0o600, &blk.Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte{0xb1}, 512)
	if err := p.WriteBlock(want, 7); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, damage := range []func(){
		func() { rmPart(t, dir, "r0") },
		func() { zeroAt(t, dir, "p1", 0, 4096) },
	} {
		damage()
		if code, _, stderr := runCmd(t, "", false, "sync", set); code != 0 {
			t.Fatalf("sync: %d %s", code, stderr)
		}
		if p, r := replicaData(t, dir); !bytes.Equal(p, r) {
			t.Errorf("the replicas differ after sync")
		}
		p, err := blk.Open(set, nil)
		if err != nil {
			t.Fatalf("open after sync: %v", err)
		}
		got := make([]byte, 512)
		if err := p.ReadBlock(got, 7); err != nil || !bytes.Equal(got, want) {
			t.Errorf("block 7 after sync: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSyncSingleHdr: an obj poolset with OPTION SINGLEHDR made by C, a
// header-less part of the replica deleted and the primary's only header
// damaged, each repaired by our sync; C's check and pmemobj_open pass.
func TestSyncSingleHdr(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "pool.set", "OPTION SINGLEHDR", "8M {dir}/p0", "8M {dir}/p1", "REPLICA", "8M {dir}/r0", "8M {dir}/r1")
	if code, out := cRun(t, "", "create", "--layout=shlay", "obj", set); code != 0 {
		t.Fatalf("C create: %d %s", code, out)
	}
	for _, damage := range []func(){
		func() { rmPart(t, dir, "r1") },
		func() { zeroAt(t, dir, "p0", 0, 4096) },
	} {
		damage()
		if code, _, stderr := runCmd(t, "", false, "sync", set); code != 0 {
			t.Fatalf("sync: %d %s", code, stderr)
		}
		if code, out := cRun(t, "", "check", set); code != 0 {
			t.Errorf("C check after sync: %d %s", code, out)
		}
		cp, err := cobj.Open(set, "shlay")
		switch {
		case err == cobj.ErrUnavailable:
		case err != nil:
			t.Errorf("C's pmemobj_open: %v", err)
		default:
			cp.Close()
		}
	}
}

// TestSyncRelinks: a sync cut short after the rebuilt replica's header
// and before the primary's (its link to the replica stale) is finished by
// the next sync; C's check passes then.
func TestSyncRelinks(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "pool.set", syncSetLines...)
	if code, out := cRun(t, "", "create", "obj", set); code != 0 {
		t.Fatalf("C create: %d %s", code, out)
	}
	p0 := filepath.Join(dir, "p0")
	old, err := os.ReadFile(p0)
	if err != nil {
		t.Fatal(err)
	}
	rmPart(t, dir, "r0")
	if code, _, stderr := runCmd(t, "", false, "sync", set); code != 0 {
		t.Fatalf("sync: %d %s", code, stderr)
	}
	// The primary's first header as before the sync: links to the old r0.
	f, err := os.OpenFile(p0, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(old[:4096], 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := cRun(t, "", "check", set); code == 0 {
		t.Fatalf("C check passes with a stale replica link: the test damages nothing")
	}
	if code, _, stderr := runCmd(t, "", false, "sync", set); code != 0 {
		t.Fatalf("second sync: %d %s", code, stderr)
	}
	if code, out := cRun(t, "", "check", set); code != 0 {
		t.Errorf("C check after the second sync: %d %s", code, out)
	}
}
