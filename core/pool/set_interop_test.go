package pool

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// cSets are the poolsets of the interop tests: C 1.12.1 allows replicas
// for obj pools only.
var cSets = []struct {
	args  []string // pmempool create arguments before the poolset file
	kind  Kind
	lines []string
}{
	{[]string{"obj", "--layout", "x"}, Obj, []string{"8M {dir}/p0", "8M {dir}/p1", "REPLICA", "16M {dir}/r0"}},
	{[]string{"obj"}, Obj, []string{"OPTION SINGLEHDR", "8M {dir}/p0", "8M {dir}/p1", "REPLICA", "8M {dir}/r0", "8M {dir}/r1"}},
	{[]string{"log"}, Log, []string{"8M {dir}/p0", "8M {dir}/p1", "8M {dir}/p2"}},
	{[]string{"blk", "512"}, Blk, []string{"OPTION SINGLEHDR", "8M {dir}/p0", "16M {dir}/p1"}},
	{[]string{"blk", "4096"}, Blk, []string{"16M {dir}/p0", "8M {dir}/p1"}},
}

// TestInteropCPoolsetsOpenInGo: poolsets pmempool creates open here, and
// after Go opened and closed them pmempool check still finds them
// consistent (Go left every header and SDS as C expects).
func TestInteropCPoolsetsOpenInGo(t *testing.T) {
	pmempool := needPmempool(t)
	for _, c := range cSets {
		t.Run(strings.Join(c.args, "-")+"-"+c.lines[0][:2], func(t *testing.T) {
			dir := pmemtest.Dir(t)
			set := pmemtest.Poolset(t, dir, "c.set", c.lines...)
			if out, err := exec.Command(pmempool, append(append([]string{"create"}, c.args...), set)...).CombinedOutput(); err != nil {
				t.Fatalf("pmempool create: %v\n%s", err, out)
			}
			p, err := Open(set, c.kind, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := p.Set()
			if p.Size() != s.PoolSize() || p.Replicas() != len(s.Replicas) {
				t.Fatalf("size %d replicas %d, set says %d, %d", p.Size(), p.Replicas(), s.PoolSize(), len(s.Replicas))
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			requirePmempoolCheck(t, pmempool, set)
		})
	}
}

// TestInteropGoPoolsetsCheckInC: poolsets Go creates (the headers, links
// and SDS of every part and replica) pass pmempool check and info. The
// pools' own layouts are the libraries' (tested in log, blk, obj); here
// a log pool gets an empty log so that check has a whole pool to look at.
func TestInteropGoPoolsetsCheckInC(t *testing.T) {
	pmempool := needPmempool(t)
	for _, lines := range [][]string{
		{"8M {dir}/p0", "8M {dir}/p1"},
		{"OPTION SINGLEHDR", "8M {dir}/p0", "8M {dir}/p1", "8M {dir}/p2"},
	} {
		t.Run(lines[0][:2], func(t *testing.T) {
			dir := pmemtest.Dir(t)
			set := pmemtest.Poolset(t, dir, "go.set", lines...)
			requireGoLogSetInC(t, pmempool, set, "Number of replicas       : 1")
		})
	}
}

func requirePmempoolCheck(t *testing.T, pmempool, set string) {
	t.Helper()
	out, err := exec.Command(pmempool, "check", "-v", set).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": consistent") {
		t.Fatalf("pmempool check: %v\n%s", err, out)
	}
}
