package conformance_test

import (
	"errors"
	"testing"

	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/obj"
	"github.com/gopmdk/pmdk/obj/objtest"
)

// obj's cases: a pool on every backend, and the atomic operations at every
// crash point (objtest's workloads, which obj's own tests explore too).
func init() {
	conformance.Register("obj",
		conformance.Case{Name: "alloc-free-reopen", Run: objReopen},
	)
	conformance.RegisterCrash("obj",
		conformance.CrashCase{Name: "atomic-ops", Workload: objtest.AtomicOps(), RecoveryPoints: 2, ShortPoints: 8},
		conformance.CrashCase{Name: "publish-extended", Workload: objtest.PublishExtended(), ShortPoints: 6},
		conformance.CrashCase{Name: "unlogged-publish", Workload: objtest.UnloggedPublish(), Broken: true},
		conformance.CrashCase{Name: "transactions", Workload: objtest.Transactions(), ShortPoints: 6},
	)
}

// objReopen makes objects of run and huge classes, frees one, grows the
// root, and checks after a reopen that what was made is what is there and
// the heap checker passes.
func objReopen(t *testing.T, b conformance.Backend) {
	m := b.NewMap(t, 16<<20)
	p, err := obj.CreateOnMap(m, &obj.Options{Layout: "conformance"})
	if err != nil {
		t.Fatal(err)
	}
	root, err := p.Root(64)
	if err != nil {
		t.Fatal(err)
	}
	want := map[obj.OID]byte{}
	for i, size := range []int{8, 100, 5000, 300_000, 2_100_000} {
		oid, err := p.Alloc(size, uint64(i+1), func(b []byte) error {
			b[0], b[len(b)-1] = byte('a'+i), byte('a'+i)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want[oid] = byte('a' + i)
	}
	for oid := range want {
		if err := p.Free(oid); err != nil {
			t.Fatal(err)
		}
		delete(want, oid)
		break
	}
	if root, err = p.Root(4000); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	m = b.Reopen(t, m)
	if p, err = obj.OpenOnMap(m, &obj.Options{Layout: "conformance"}); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if r, err := p.Root(0); err != nil || r != root || p.RootSize() != 4000 {
		t.Fatalf("root %v (%v), size %d", r, err, p.RootSize())
	}
	n := 0
	for oid := range p.Objects() {
		c, ok := want[oid]
		b := p.Bytes(oid)
		if !ok || b[0] != c || b[len(b)-1] != c {
			t.Fatalf("object %v not as made", oid)
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%d objects, want %d", n, len(want))
	}
	if probs := p.Check(); len(probs) > 0 {
		t.Fatal(errors.Join(probs...))
	}
}
