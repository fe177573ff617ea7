package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/rpma/rpmem/rpmemtest"
)

// sync of a poolset whose remote replica is gone: the command recreates
// it through rpmemd (credentials from $RPMEM_PSK_FILE) equal to the
// primary.
func TestSyncRemote(t *testing.T) {
	node, rdir := remoteNode(t)
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "pool.set", "8M {dir}/p0", "REPLICA "+node+" rep.set")
	createLog(t, set, "replicated")
	remote := filepath.Join(rdir, "rep.part")
	if err := os.Remove(remote); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "", false, "sync", set); code != 0 {
		t.Fatalf("sync: exit %d: %s", code, stderr)
	}
	rpmemtest.SameData(t, filepath.Join(dir, "p0"), remote)
	l, err := pmemlog.Open(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
