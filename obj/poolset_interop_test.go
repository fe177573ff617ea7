package obj

import (
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/obj/cobj"
)

// TestInteropPoolset: obj pools on poolsets with several parts and a
// local replica (which C allows for obj), made by one library and used by
// the other: C's objects read back in Go, Go's in C, and pmemobj_check,
// pmempool check and info accept Go's poolset.
func TestInteropPoolset(t *testing.T) {
	requireCPeer(t)
	pmempoolBin(t)
	dir := pmemtest.Dir(t)
	const layoutName = "interop-set"

	cset := pmemtest.Poolset(t, dir, "c.set", "16M {dir}/c0", "16M {dir}/c1", "REPLICA", "32M {dir}/cr")
	c, err := cobj.Create(cset, layoutName, 0, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	want := cScenario(t, c)
	c.Close()
	p, err := Open(cset, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "Go reads C's poolset", mustGoState(t, p), want)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	gset := pmemtest.Poolset(t, dir, "go.set", "OPTION SINGLEHDR", "16M {dir}/g0", "16M {dir}/g1", "REPLICA", "8M {dir}/gr0", "24M {dir}/gr1")
	p, err = Create(gset, 0, 0o600, &Options{Layout: layoutName})
	if err != nil {
		t.Fatal(err)
	}
	want = goScenario(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	requireCChecks(t, gset, layoutName, want)
	c, err = cobj.Open(gset, layoutName)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "C reads Go's poolset", mustCState(t, c), want)
	c.Close()
}
