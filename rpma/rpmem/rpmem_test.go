package rpmem_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/rpma/rpmem"
	"github.com/gopmdk/pmdk/rpma/rpmem/rpmemtest"
)

var testKey = []byte("rpmem test pre-shared key, 32 b.")

// serve starts an in-process rpmemd over a fresh poolset directory with
// one 8 MiB remote poolset, rep.set, and makes it the default
// configuration's peer. It returns the node and the part's path.
func serve(t *testing.T) (node, part string) { return serveB(t) }

func serveB(t testing.TB) (node, part string) {
	t.Helper()
	dir := pmemtest.Dir(t)
	pmemtest.Poolset(t, dir, "rep.set", "8M {dir}/rep.part")
	node = rpmemtest.Serve(t, dir, testKey)
	rpmem.SetDefault(&rpmem.Config{PSK: testKey, Timeout: 10 * time.Second})
	t.Cleanup(func() { rpmem.SetDefault(nil) })
	return node, filepath.Join(dir, "rep.part")
}

// localSet writes a local poolset of one 8 MiB part replicated to node.
func localSet(t *testing.T, node string) (set, part string) {
	dir := pmemtest.Dir(t)
	return pmemtest.Poolset(t, dir, "local.set", "8M {dir}/p0", "REPLICA "+node+" rep.set"), filepath.Join(dir, "p0")
}

func TestRemoteReplica(t *testing.T) {
	node, remote := serve(t)
	set, local := localSet(t, node)
	p, err := pool.Create(set, 0, 0o600, pool.Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Replicas() != 2 {
		t.Fatalf("%d replicas", p.Replicas())
	}
	m := p.Map()
	for i := range 100 {
		off := pool.HeaderSize + i*4096 + i
		copy(m.Bytes()[off:], fmt.Sprintf("record %d", i))
		m.Persist(m.Bytes()[off : off+10])
	}
	m.Memset(m.Bytes()[1<<20:2<<20], 0xab, 0)
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	hdr := p.Header()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	rpmemtest.SameData(t, local, remote)
	b, err := os.ReadFile(remote)
	if err != nil {
		t.Fatal(err)
	}
	rh, err := pool.DecodeHeader(b[:pool.HeaderSize])
	if err != nil {
		t.Fatal(err)
	}
	if rh.UUID != hdr.NextReplUUID || rh.PrevReplUUID != hdr.UUID || rh.PoolsetUUID != hdr.PoolsetUUID {
		t.Fatalf("remote header not linked: %+v, local %+v", rh, hdr)
	}

	// Read-only: the remote pool is opened for reads only.
	ro, err := pool.Open(set, pool.Log, &pool.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}

	// A lagging replica is repaired at open.
	f, err := os.OpenFile(remote, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("stale"), 3<<20)
	f.Close()
	reopen(t, set)
	rpmemtest.SameData(t, local, remote)

	// A damaged header is refused, and SyncRemote rebuilds it.
	f, _ = os.OpenFile(remote, os.O_RDWR, 0)
	f.WriteAt(make([]byte, pool.HeaderSize), 0)
	f.WriteAt([]byte("stale"), 5<<20)
	f.Close()
	if p, err := pool.Open(set, pool.Log, nil); err == nil {
		p.Close()
		t.Fatal("open with a zeroed remote header succeeded")
	}
	if n, err := pool.SyncRemote(set, false); err != nil || n == 0 {
		t.Fatalf("SyncRemote: %d bytes, %v", n, err)
	}
	rpmemtest.SameData(t, local, remote)
	reopen(t, set)

	// A missing replica too.
	if err := os.Remove(remote); err != nil {
		t.Fatal(err)
	}
	if p, err := pool.Open(set, pool.Log, nil); !errors.Is(err, rpmem.ErrRemote) {
		if err == nil {
			p.Close()
		}
		t.Fatalf("open with the remote part missing: %v", err)
	}
	if _, err := pool.SyncRemote(set, true); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if _, err := os.Stat(remote); err == nil {
		t.Fatal("the dry run created the remote part")
	}
	if _, err := pool.SyncRemote(set, false); err != nil {
		t.Fatal(err)
	}
	rpmemtest.SameData(t, local, remote)
	reopen(t, set)
}

func reopen(t *testing.T, set string) {
	t.Helper()
	p, err := pool.Open(set, pool.Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNotRegistered(t *testing.T) {
	set, _ := localSet(t, "127.0.0.1:1")
	rpmem.Unregister(t)
	if _, err := pool.Create(set, 0, 0o600, pool.Log, nil); !errors.Is(err, pool.ErrRemoteReplica) || !strings.Contains(err.Error(), "rpma/rpmem") {
		t.Fatalf("create without an opener: %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	node, _ := serve(t)
	set, _ := localSet(t, node)
	rpmem.SetDefault(&rpmem.Config{PSK: []byte("another key of more than 16 bytes"), Timeout: 2 * time.Second})
	if p, err := pool.Create(set, 0, 0o600, pool.Log, nil); err == nil {
		p.Close()
		t.Fatal("create with the wrong key succeeded")
	}
}

func TestBadDescriptor(t *testing.T) {
	node, _ := serve(t)
	dir := pmemtest.Dir(t)
	for _, desc := range []string{"../rep.set", "a/../../rep.set", "missing.set"} {
		set := pmemtest.Poolset(t, dir, "l.set", "8M {dir}/p0", "REPLICA "+node+" "+desc)
		p, err := pool.Create(set, 0, 0o600, pool.Log, nil)
		if !errors.Is(err, rpmem.ErrRemote) {
			if err == nil {
				p.Close()
			}
			t.Fatalf("descriptor %s: %v", desc, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "p0")); err == nil {
			t.Fatalf("descriptor %s: the local part was left behind", desc)
		}
	}
}

// A remote poolset of two parts with OPTION NOHDRS: rpmemd maps them as
// one range, the pool header at the start of the first.
func TestRemoteParts(t *testing.T) {
	rdir := pmemtest.Dir(t)
	pmemtest.Poolset(t, rdir, "two.set", "OPTION NOHDRS", "4M {dir}/a", "4M {dir}/b")
	node := rpmemtest.Serve(t, rdir, testKey)
	rpmem.SetDefault(&rpmem.Config{PSK: testKey})
	t.Cleanup(func() { rpmem.SetDefault(nil) })
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "l.set", "8M {dir}/p0", "REPLICA "+node+" two.set")
	p, err := pool.Create(set, 0, 0o600, pool.Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Map()
	at := 6 << 20 // in the second part
	copy(m.Bytes()[at:], "second part")
	m.Persist(m.Bytes()[at : at+11])
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(rdir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b[at-4<<20:][:11]); got != "second part" {
		t.Fatalf("second part holds %q", got)
	}
	a, _ := os.ReadFile(filepath.Join(rdir, "a"))
	if _, err := pool.DecodeHeader(a[:pool.HeaderSize]); err != nil {
		t.Fatalf("first part's header: %v", err)
	}
	reopen(t, set)
}

// A create on a remote pool that already holds one is refused, as on a
// local part whose header is not zero.
func TestCreateOnExisting(t *testing.T) {
	node, _ := serve(t)
	set, _ := localSet(t, node)
	p, err := pool.Create(set, 0, 0o600, pool.Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	other, _ := localSet(t, node)
	if p, err := pool.Create(other, 0, 0o600, pool.Log, nil); !errors.Is(err, pool.ErrNotEmpty) {
		if err == nil {
			p.Close()
		}
		t.Fatalf("create over an existing remote pool: %v", err)
	}
	reopen(t, set)
}

// A create that fails on the local side after rpmemd created the remote
// part (the local part is not empty) leaves no remote part behind.
func TestFailedCreateRemovesRemote(t *testing.T) {
	node, remote := serve(t)
	set, local := localSet(t, node)
	junk := make([]byte, 8<<20)
	copy(junk, "not a pool header")
	if err := os.WriteFile(local, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := pool.Create(set, 0, 0o600, pool.Log, nil); !errors.Is(err, pool.ErrNotEmpty) {
		if err == nil {
			p.Close()
		}
		t.Fatalf("create over a non-empty local part: %v", err)
	}
	if _, err := os.Stat(remote); err == nil {
		t.Fatal("the remote part created for the failed create is left")
	}
}
