package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/rpma/rpmem"
	"github.com/gopmdk/pmdk/rpma/rpmem/rpmemtest"
)

// remoteNode starts an in-process rpmemd serving a fresh directory holding
// rep.set (one 8 MiB part, rep.part) and points $RPMEM_PSK_FILE at its
// key. It returns the node and the directory.
func remoteNode(t *testing.T) (node, rdir string) {
	t.Helper()
	key := []byte("pmempool transform key, 32 bytes")
	rdir = pmemtest.Dir(t)
	pmemtest.Poolset(t, rdir, "rep.set", "8M {dir}/rep.part")
	node = rpmemtest.Serve(t, rdir, key)
	psk := filepath.Join(t.TempDir(), "psk")
	if err := os.WriteFile(psk, key, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(rpmem.EnvPSKFile, psk)
	return node, rdir
}

// createLog creates a log pool on the poolset at path holding data.
func createLog(t *testing.T, path, data string) {
	t.Helper()
	l, err := pmemlog.Create(path, 0, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data != "" {
		if err := l.Append([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// transform adds a remote replica to a log pool: the remote pool is made
// through rpmemd equal to the primary, the pool opens with it and keeps
// it in step; removing it again leaves a pool that opens without it.
func TestTransformRemoteLog(t *testing.T) {
	node, rdir := remoteNode(t)
	dir := pmemtest.Dir(t)
	local := pmemtest.Poolset(t, dir, "local.set", "8M {dir}/p0")
	withRemote := pmemtest.Poolset(t, dir, "remote.set", "8M {dir}/p0", "REPLICA "+node+" rep.set")
	createLog(t, local, "before the remote replica")
	if code, _, stderr := runCmd(t, "", false, "transform", local, withRemote); code != 0 {
		t.Fatalf("transform (add): exit %d: %s", code, stderr)
	}
	p0, remote := filepath.Join(dir, "p0"), filepath.Join(rdir, "rep.part")
	rpmemtest.SameData(t, p0, remote)
	l, err := pmemlog.Open(withRemote, nil)
	if err != nil {
		t.Fatalf("open with the remote replica: %v", err)
	}
	if err := l.Append([]byte("with it")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rpmemtest.SameData(t, p0, remote)
	if code, _, stderr := runCmd(t, "", false, "transform", withRemote, local); code != 0 {
		t.Fatalf("transform (remove): exit %d: %s", code, stderr)
	}
	if l, err = pmemlog.Open(local, nil); err != nil {
		t.Fatalf("open without the remote replica: %v", err)
	}
	var got []byte
	l.Walk(0, func(b []byte) bool { got = append(got, b...); return true })
	l.Close()
	if want := "before the remote replicawith it"; string(got) != want {
		t.Fatalf("log holds %q, want %q", got, want)
	}
	// The node keeps the removed pool: adding it again is refused.
	code, _, stderr := runCmd(t, "", false, "transform", local, withRemote)
	if code == 0 || !strings.Contains(stderr, "exists") {
		t.Fatalf("re-adding over an existing remote pool: exit %d: %s", code, stderr)
	}
}

// The same with an obj pool, the remote replica between two local ones.
func TestTransformRemoteObj(t *testing.T) {
	node, rdir := remoteNode(t)
	dir := pmemtest.Dir(t)
	local := pmemtest.Poolset(t, dir, "local.set", "8M {dir}/p0", "REPLICA", "8M {dir}/r1")
	withRemote := pmemtest.Poolset(t, dir, "remote.set", "8M {dir}/p0", "REPLICA "+node+" rep.set", "REPLICA", "8M {dir}/r1")
	p, err := obj.Create(local, 0, 0o600, &obj.Options{Layout: "xf"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "", false, "transform", local, withRemote); code != 0 {
		t.Fatalf("transform (add): exit %d: %s", code, stderr)
	}
	rpmemtest.SameData(t, filepath.Join(dir, "p0"), filepath.Join(rdir, "rep.part"))
	if p, err = obj.Open(withRemote, &obj.Options{Layout: "xf"}); err != nil {
		t.Fatalf("open with the remote replica: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "", false, "transform", withRemote, local); code != 0 {
		t.Fatalf("transform (remove): exit %d: %s", code, stderr)
	}
	if p, err = obj.Open(local, &obj.Options{Layout: "xf"}); err != nil {
		t.Fatalf("open without the remote replica: %v", err)
	}
	p.Close()
}

// Refusals: a remote replica named twice, an unreachable node; the local
// pool is left as it was.
func TestTransformRemoteRefused(t *testing.T) {
	node, _ := remoteNode(t)
	dir := pmemtest.Dir(t)
	local := pmemtest.Poolset(t, dir, "local.set", "8M {dir}/p0")
	createLog(t, local, "")
	before, err := os.ReadFile(filepath.Join(dir, "p0"))
	if err != nil {
		t.Fatal(err)
	}
	twice := pmemtest.Poolset(t, dir, "twice.set", "8M {dir}/p0", "REPLICA "+node+" rep.set", "REPLICA "+node+" rep.set")
	unreachable := pmemtest.Poolset(t, dir, "gone.set", "8M {dir}/p0", "REPLICA 127.0.0.1:1 rep.set")
	for _, c := range []struct{ dst, want string }{
		{twice, "used multiple times"},
		{unreachable, "127.0.0.1:1"},
	} {
		code, _, stderr := runCmd(t, "", false, "transform", local, c.dst)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("transform to %s: exit %d, stderr %q, want %q", filepath.Base(c.dst), code, stderr, c.want)
		}
		after, err := os.ReadFile(filepath.Join(dir, "p0"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("transform to %s changed the local pool", filepath.Base(c.dst))
		}
	}
	l, err := pmemlog.Open(local, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// A remote replica kept while a local one is added after it and removed
// again: its header on the node is relinked to its new neighbours.
func TestTransformKeepsRemote(t *testing.T) {
	node, rdir := remoteNode(t)
	dir := pmemtest.Dir(t)
	two := pmemtest.Poolset(t, dir, "two.set", "8M {dir}/p0", "REPLICA "+node+" rep.set")
	three := pmemtest.Poolset(t, dir, "three.set", "8M {dir}/p0", "REPLICA "+node+" rep.set", "REPLICA", "8M {dir}/r2")
	createLog(t, two, "kept remote")
	p0, remote := filepath.Join(dir, "p0"), filepath.Join(rdir, "rep.part")
	for _, step := range []struct{ from, to string }{{two, three}, {three, two}} {
		if code, _, stderr := runCmd(t, "", false, "transform", step.from, step.to); code != 0 {
			t.Fatalf("transform %s -> %s: exit %d: %s", filepath.Base(step.from), filepath.Base(step.to), code, stderr)
		}
		l, err := pmemlog.Open(step.to, nil)
		if err != nil {
			t.Fatalf("open %s: %v", filepath.Base(step.to), err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rpmemtest.SameData(t, p0, remote)
	}
	if _, err := os.Stat(filepath.Join(dir, "r2")); err == nil {
		t.Fatal("the removed replica's part is still there")
	}
}
