package blk

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// poolsetLBAs are blocks spread over both parts of the test poolsets (8
// and 16 MiB): the first, those around the part boundary, the last.
func poolsetLBAs(nblock int64) []int64 {
	lbas := []int64{0, nblock - 1}
	for lba := int64(14000); lba < 18000 && lba < nblock; lba += 250 {
		lbas = append(lbas, lba)
	}
	return lbas
}

// TestInteropPoolsetCWritesGoReads: C libpmemblk creates a pool on a
// two-part poolset and writes blocks in both parts; Go reads them and
// writes its own; C reads those; pmempool check agrees.
func TestInteropPoolsetCWritesGoReads(t *testing.T) {
	bin := cpeer(t)
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "c.set", "8M {dir}/p0", "16M {dir}/p1")
	out := runC(t, bin, set, "c:512:0", "n")
	var nblock int64
	if _, err := fmt.Sscanf(out[strings.Index(out, "nblock"):], "nblock %d", &nblock); err != nil {
		t.Fatalf("C peer: %v\n%s", err, out)
	}
	ops := []string{"o:512"}
	for _, lba := range poolsetLBAs(nblock) {
		ops = append(ops, fmt.Sprintf("w:%d:%d", lba, lba%200+1))
	}
	runC(t, bin, set, ops...)
	p, err := Open(set, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if p.NBlock() != nblock {
		t.Fatalf("Go sees %d blocks, C %d", p.NBlock(), nblock)
	}
	buf := make([]byte, 512)
	ops = []string{"o:512"}
	for _, lba := range poolsetLBAs(nblock) {
		if err := p.ReadBlock(buf, lba); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, pattern(lba, int(lba%200+1), 512)) {
			t.Fatalf("block %d: C's data not read back in Go", lba)
		}
		if err := p.WriteBlock(pattern(lba, 201, 512), lba); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, fmt.Sprintf("r:%d:201", lba))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	runC(t, bin, set, ops...)
	requireConsistent(t, set)
}

// TestPoolsetReplicaGoWritesCReads: a blk pool Go creates on a poolset
// with a local replica (C refuses replicas for blk) keeps the replica
// equal to the primary and passes pmempool check; the same pool on a
// poolset without replica reads back in C and passes pmempool check.
func TestPoolsetReplicaGoWritesCReads(t *testing.T) {
	bin := cpeer(t)
	dir := pmemtest.Dir(t)
	for _, c := range []struct {
		name    string
		lines   []string
		replica bool
	}{
		{"replica", []string{"8M {dir}/p0", "16M {dir}/p1", "REPLICA", "24M {dir}/r0"}, true},
		{"single", []string{"OPTION SINGLEHDR", "8M {dir}/s0", "16M {dir}/s1"}, false},
	} {
		set := pmemtest.Poolset(t, dir, c.name+".set", c.lines...)
		p, err := Create(set, 0, 0o600, &Options{BlockSize: 512})
		if err != nil {
			t.Fatal(err)
		}
		nblock := p.NBlock()
		ops := []string{"o:512"}
		for _, lba := range poolsetLBAs(nblock) {
			if err := p.WriteBlock(pattern(lba, 7, 512), lba); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, fmt.Sprintf("r:%d:7", lba))
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if c.replica {
			p0, _ := os.ReadFile(dir + "/p0")
			p1, _ := os.ReadFile(dir + "/p1")
			r0, _ := os.ReadFile(dir + "/r0")
			primary := append(p0[4096:], p1[4096:]...)
			if !bytes.Equal(primary, r0[4096:4096+len(primary)]) {
				t.Fatal("replica differs from the primary")
			}
			if p, err = Open(set, &Options{BlockSize: 512}); err != nil {
				t.Fatal(err)
			}
			p.Close()
			// C's pmempool checks every replica of it although
			// libpmemblk would not open it.
			requireConsistent(t, set)
			continue
		}
		runC(t, bin, set, ops...)
		requireConsistent(t, set)
	}
}
