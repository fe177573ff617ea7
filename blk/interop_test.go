package blk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core/pmemtest"
)

// cpeer builds testdata/cpeer.c against libpmemblk, or skips the test when
// gcc or C PMDK is missing.
func cpeer(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("interop: gcc not installed")
	}
	if _, err := os.Stat("/usr/include/libpmemblk.h"); err != nil {
		t.Skip("interop: C PMDK (libpmemblk-dev) not installed")
	}
	bin := filepath.Join(t.TempDir(), "cpeer")
	out, err := exec.Command(gcc, "-O2", "-Wall", "-o", bin, "testdata/cpeer.c", "-lpmemblk").CombinedOutput()
	if err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// runC runs the C peer on path with ops and returns its output.
func runC(t *testing.T, bin, path string, ops ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{path}, ops...)...)
	cmd.Env = append(os.Environ(), "PMEM_IS_PMEM_FORCE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpeer %v: %v\n%s", ops, err, out)
	}
	return string(out)
}

func pmempool(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("pmempool")
	if err != nil {
		t.Skip("interop: pmempool (pmdk-tools) not installed")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pmempool %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func requireConsistent(t *testing.T, path string) {
	t.Helper()
	out := pmempool(t, "check", "-v", path)
	if !strings.Contains(out, ": consistent") || strings.Contains(out, "not consistent") {
		t.Fatalf("pmempool check:\n%s", out)
	}
}

// infoFields pulls the BTT Info fields of each arena out of pmempool info.
func infoFields(t *testing.T, path string) []map[string]string {
	out := pmempool(t, "info", path)
	var arenas []map[string]string
	for _, sec := range strings.Split(out, "[ARENA ")[1:] {
		f := map[string]string{}
		for line := range strings.SplitSeq(sec, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok {
				f[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		arenas = append(arenas, f)
	}
	return arenas
}

// TestInteropCWritesGoReads: blocks written, zeroed and failed by
// libpmemblk read back the same in Go, and Go's block count is C's.
func TestInteropCWritesGoReads(t *testing.T) {
	bin := cpeer(t)
	for _, bsize := range []int{512, 4096, 520} {
		t.Run(strconv.Itoa(bsize), func(t *testing.T) {
			path := pmemtest.Path(t, "c.blk")
			out := runC(t, bin, path, fmt.Sprintf("c:%d:%d", bsize, 40<<20), "n",
				"w:0:1", "w:1:2", "w:9000:3", "w:1:4", "w:2:5", "z:2", "w:3:6", "e:3", "w:64:7")
			var nb, bs int64
			fmt.Sscanf(out, "nblock %d bsize %d", &nb, &bs)
			p, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.NBlock() != nb || int64(p.BSize()) != bs {
				t.Fatalf("Go sees %d blocks of %d, C %d of %d", p.NBlock(), p.BSize(), nb, bs)
			}
			mustRead(t, p, 0, 1)
			mustRead(t, p, 1, 4)
			mustRead(t, p, 2, 0)
			mustRead(t, p, 9000, 3)
			mustRead(t, p, 64, 7)
			mustRead(t, p, 5, 0)
			if err := p.ReadBlock(make([]byte, bsize), 3); err == nil {
				t.Fatal("block set to error by C reads fine in Go")
			}
			if probs := p.Check(); len(probs) != 0 {
				t.Fatalf("Go check of a C pool: %v", probs)
			}
		})
	}
}

// TestInteropGoWritesCReads: a Go-made pool reads back right in C, passes
// pmempool check and pmemblk_check, and pmempool info shows C's geometry.
func TestInteropGoWritesCReads(t *testing.T) {
	bin := cpeer(t)
	path := pmemtest.Path(t, "go.blk")
	p, err := Create(path, 32<<20, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	writes := [][2]int{{0, 1}, {1, 2}, {64699, 3}, {1, 4}, {2, 5}, {3, 6}, {100, 8}}
	for _, w := range writes {
		if err := p.WriteBlock(pattern(int64(w[0]), w[1], 512), int64(w[0])); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.SetZero(2); err != nil {
		t.Fatal(err)
	}
	if err := p.SetError(3); err != nil {
		t.Fatal(err)
	}
	// Use every lane's free block at least once.
	for i := range 600 {
		lba := int64(1000 + i%50)
		if err := p.WriteBlock(pattern(lba, i%200+1, 512), lba); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	requireConsistent(t, path)
	out := runC(t, bin, path, "o:512", "n", "r:0:1", "r:1:4", "r:2:0", "r:3:-1", "r:64699:3", "r:100:8", "r:5:0",
		"r:1049:"+strconv.Itoa(599%200+1), "w:7:9", "r:7:9", "k")
	if !strings.Contains(out, "nblock 64700 bsize 512") || !strings.Contains(out, "check 1") {
		t.Fatalf("C peer:\n%s", out)
	}
	arenas := infoFields(t, path)
	if len(arenas) != 1 {
		t.Fatalf("pmempool info shows %d arenas", len(arenas))
	}
	a := arenas[0]
	for k, want := range map[string]string{
		"External LBA count": "64700", "Internal LBA count": "64956", "Free blocks": "256",
		"Area map offset": "0x1fb9000", "Area flog offset": "0x1ff9000", "Info block backup offset": "0x1ffd000",
	} {
		if a[k] != want {
			t.Errorf("pmempool info %s = %q, want %q", k, a[k], want)
		}
	}
	// Go reads what C wrote into the Go pool.
	p, err = Open(path, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mustRead(t, p, 7, 9)
}

// TestInteropGeometry: for several pool and block sizes Go offers exactly
// the blocks C offers, and after the first write pmempool info shows the
// arena fields C would write.
func TestInteropGeometry(t *testing.T) {
	bin := cpeer(t)
	for _, tc := range []struct {
		bsize int
		size  int64
	}{{512, MinPoolSize}, {512, 100 << 20}, {4096, 64 << 20}, {1, 20 << 20}, {65536, 200 << 20}, {4000, 50<<20 + 12288}, {768, 40<<20 + 1000}} {
		t.Run(fmt.Sprintf("%d-%d", tc.bsize, tc.size), func(t *testing.T) {
			dir := pmemtest.Dir(t)
			cpath, gpath := filepath.Join(dir, "c"), filepath.Join(dir, "g")
			out := runC(t, bin, cpath, fmt.Sprintf("c:%d:%d", tc.bsize, tc.size), "n", "w:0:1")
			p, err := Create(gpath, tc.size, 0o600, &Options{BlockSize: tc.bsize})
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("nblock %d bsize %d\n", p.NBlock(), p.BSize())
			if out != want {
				t.Fatalf("C: %q, Go: %q", out, want)
			}
			if err := p.WriteBlock(pattern(0, 1, tc.bsize), 0); err != nil {
				t.Fatal(err)
			}
			p.Close()
			requireConsistent(t, gpath)
			ca, ga := infoFields(t, cpath), infoFields(t, gpath)
			if len(ca) != len(ga) {
				t.Fatalf("arenas: C %d, Go %d", len(ca), len(ga))
			}
			for i := range ca {
				for k, v := range ca[i] {
					if k == "UUID of container" || k == "Checksum" {
						continue
					}
					if ga[i][k] != v {
						t.Errorf("arena %d %s: C %q, Go %q", i, k, v, ga[i][k])
					}
				}
			}
		})
	}
}

// TestInteropMultiArena: a sparse pool past BTT_MAX_ARENA (512 GiB) has two
// arenas; Go lays them out, writes in both, and C checks and reads them.
func TestInteropMultiArena(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-arena interop in -short mode")
	}
	bin := cpeer(t)
	path := pmemtest.Path(t, "big.blk")
	const size = 512<<30 + 64<<20
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		t.Skipf("interop: %s cannot hold a sparse %d-byte file: %v", filepath.Dir(path), int64(size), err)
	}
	f.Close()
	const bsize = 65536 // keeps the maps (what check walks) small
	p, err := Create(path, 0, 0o600, &Options{BlockSize: bsize})
	if err != nil {
		t.Fatal(err)
	}
	n := p.NBlock()
	last := n - 1
	first1 := int64(0) // first block of arena 1, from pmempool info below
	for _, lba := range []int64{0, 1, last - 1, last} {
		if err := p.WriteBlock(pattern(lba, 1+int(lba%100), bsize), lba); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	arenas := infoFields(t, path)
	if len(arenas) != 2 {
		t.Fatalf("pmempool info shows %d arenas, want 2", len(arenas))
	}
	var ext0, ext1 int64
	fmt.Sscan(arenas[0]["External LBA count"], &ext0)
	fmt.Sscan(arenas[1]["External LBA count"], &ext1)
	if ext0+ext1 != n || arenas[0]["Next arena offset"] != fmt.Sprintf("%#x", int64(1)<<39) {
		t.Fatalf("arenas %v; Go NBlock %d", arenas, n)
	}
	first1 = ext0
	requireConsistent(t, path)
	ops := []string{"o:0", "n"}
	for _, lba := range []int64{0, 1, last - 1, last} {
		ops = append(ops, fmt.Sprintf("r:%d:%d", lba, 1+int(lba%100)))
	}
	ops = append(ops, fmt.Sprintf("w:%d:77", first1), fmt.Sprintf("r:%d:77", first1))
	out := runC(t, bin, path, ops...)
	if !regexp.MustCompile(fmt.Sprintf(`nblock %d bsize %d`, n, bsize)).MatchString(out) {
		t.Fatalf("C peer: %s", out)
	}
	p, err = Open(path, &Options{BlockSize: bsize})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mustRead(t, p, first1, 77)
	if probs := p.Check(); len(probs) != 0 {
		t.Fatalf("Go check: %v", probs)
	}
}

// TestInteropCheckAgreesOnDamage: a Go-made pool with a map entry that
// duplicates another block is inconsistent for Go's Check, for
// pmemblk_check and for pmempool check alike.
func TestInteropCheckAgreesOnDamage(t *testing.T) {
	bin := cpeer(t)
	path := pmemtest.Path(t, "dmg.blk")
	p, err := Create(path, 32<<20, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	for lba := range int64(4) {
		if err := p.WriteBlock(pattern(lba, 1, 512), lba); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	requireConsistent(t, path)
	// Point map entry 3 at the block entry 2 uses.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	const mapOff = dataOff + 0x1fb9000
	e := make([]byte, 4)
	f.ReadAt(e, mapOff+2*4)
	f.WriteAt(e, mapOff+3*4)
	f.Close()

	probs, err := Check(path, nil)
	if err != nil || len(probs) == 0 {
		t.Fatalf("Go check: %v %v", probs, err)
	}
	t.Log(probs[0])
	if out := runC(t, bin, path, "k"); !strings.Contains(out, "check 0") {
		t.Fatalf("pmemblk_check: %s", out)
	}
	out, _ := exec.Command("pmempool", "check", path).CombinedOutput()
	if !strings.Contains(string(out), "not consistent") {
		t.Fatalf("pmempool check:\n%s", out)
	}
}

// TestInteropLazyLayout: like pmemblk_create, Create writes no BTT: C
// tools see "BTT Layout not written"; C's first write lays it out in a
// Go-made pool and Go reads it; a Go read or SetZero does not lay it out.
func TestInteropLazyLayout(t *testing.T) {
	bin := cpeer(t)
	path := pmemtest.Path(t, "lazy.blk")
	p, err := Create(path, 32<<20, 0o600, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, 3, 0)
	if err := p.SetZero(3); err != nil {
		t.Fatal(err)
	}
	p.Close()
	out := pmempool(t, "check", "-v", path)
	if !strings.Contains(out, "BTT Layout not written") || !strings.Contains(out, ": consistent") {
		t.Fatalf("pmempool check of a fresh Go pool:\n%s", out)
	}
	runC(t, bin, path, "o:0", "r:3:0", "w:3:4")
	requireConsistent(t, path)
	p, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mustRead(t, p, 3, 4)
}

// TestInteropRecoverCInterruptedWrite: a C-made pool whose last write
// reached the flog but not the map (made by hand here, as a crash would
// leave it) is completed by Go's open, then reads right in Go and C.
func TestInteropRecoverCInterruptedWrite(t *testing.T) {
	bin := cpeer(t)
	path := pmemtest.Path(t, "c.blk")
	runC(t, bin, path, "c:512:33554432", "w:7:1")
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	in := layout.DecodeInfo(img[dataOff:])
	arena := img[dataOff:]
	// Lane 1's flog pair still holds its initial entry (C used lane 0).
	pair := arena[in.FlogOff+64:]
	if le.Uint32(pair[12:]) != 1 || le.Uint32(pair[28:]) != 0 {
		t.Fatalf("flog pair 1 is not in its initial state: % x", pair[:32])
	}
	free := le.Uint32(pair[4:]) & layout.MapLBAMask
	copy(arena[in.DataOff+uint64(free)*uint64(in.InternalLBASize):], pattern(7, 2, 512))
	old := le.Uint32(arena[in.MapOff+7*4:])
	if old == 0 {
		t.Fatal("map entry 7 not written by C")
	}
	le.PutUint32(pair[16:], 7)
	le.PutUint32(pair[20:], old)
	le.PutUint32(pair[24:], free|layout.MapNormal)
	le.PutUint32(pair[28:], 2)
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}

	p, err := Open(path, &Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, 7, 2)
	if probs := p.Check(); len(probs) != 0 {
		t.Fatalf("check after recovery: %v", probs)
	}
	p.Close()
	requireConsistent(t, path)
	runC(t, bin, path, "o:512", "r:7:2", "w:7:3", "w:8:3", "r:7:3")
}

// TestInteropBackupInfoRestored: a pool whose backup info block was never
// written (a crash between the layout's two info writes) is inconsistent
// for pmempool check and for Go's Check; Go's next open restores the
// backup and both tools are satisfied.
func TestInteropBackupInfoRestored(t *testing.T) {
	bin := cpeer(t)
	path := pmemtest.Path(t, "bk.blk")
	runC(t, bin, path, "c:512:33554432", "w:1:1")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, layout.InfoSize), dataOff+0x1ffd000)
	f.Close()
	if out, _ := exec.Command("pmempool", "check", path).CombinedOutput(); !strings.Contains(string(out), "not consistent") {
		t.Fatalf("pmempool check of a pool without backup info:\n%s", out)
	}
	probs, err := Check(path, nil)
	if err != nil || len(probs) != 1 {
		t.Fatalf("Go check: %v %v", probs, err)
	}
	t.Log(probs[0])
	p, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, p, 1, 1)
	p.Close()
	requireConsistent(t, path)
	if probs, err := Check(path, nil); err != nil || len(probs) != 0 {
		t.Fatalf("Go check after the repair: %v %v", probs, err)
	}
}

// TestInteropFlogSeq7 settles what a flog entry with sequence number 7 (a
// value no writer produces) means, by what C libpmemblk does at run time:
// C compares sequence numbers as they are and steps from one to the next
// with their low two bits (btt_flog_get_valid, NSEQ). A stale entry that
// still sorts before the current one changes nothing: C opens the pool,
// writes and reads through the pair and pmemblk_check and pmempool check
// call it consistent. Go must then do exactly what C does, byte for byte.
// A stale entry that sorts first is taken for the current one: C hands
// out its free block, which is live, and the next write through the lane
// overwrites another block's data. Go refuses writes to that arena
// instead (reads work) and its Check reports the pair, as pmemblk_check
// and pmempool check report the damage.
func TestInteropFlogSeq7(t *testing.T) {
	bin := cpeer(t)
	for _, tc := range []struct {
		name   string
		writes []string // one C process each, so each write goes through lane 0
		entry  int      // entry of flog pair 0 whose seq becomes 7
		broken bool
	}{
		{"stale seq 3 before current 1", []string{"w:5:1", "w:6:2", "w:7:3"}, 0, false},
		{"stale seq 2 after current 3", []string{"w:5:1", "w:6:2"}, 1, false},
		{"stale seq 1 before current 2", []string{"w:5:1"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := pmemtest.Dir(t)
			cpath, gpath := filepath.Join(dir, "c"), filepath.Join(dir, "g")
			runC(t, bin, cpath, "c:512:33554432")
			for _, w := range tc.writes {
				runC(t, bin, cpath, "o:0", w)
			}
			img, err := os.ReadFile(cpath)
			if err != nil {
				t.Fatal(err)
			}
			in := layout.DecodeInfo(img[dataOff:])
			seqAt := dataOff + in.FlogOff + uint64(tc.entry)*layout.FlogSize + 12
			pair := layout.DecodeFlogPair(img[dataOff+in.FlogOff:])
			if pair[tc.entry].Seq == 0 || pair[1-tc.entry].Seq == 0 {
				t.Fatalf("flog pair 0 is %+v: C used another lane", pair)
			}
			binary.LittleEndian.PutUint32(img[seqAt:], 7)
			for _, p := range []string{cpath, gpath} {
				if err := os.WriteFile(p, img, 0o600); err != nil {
					t.Fatal(err)
				}
			}

			// The same operations through C and through Go, all through
			// lane 0: C takes lanes round robin from 0, so one process
			// per operation; Go gets a single lane.
			ops := []string{"w:9:4", "r:9:4", "w:9:5", "r:9:5"}
			for _, w := range tc.writes {
				ops = append(ops, "r"+w[1:]) // read back what C wrote
			}
			var cout []byte
			var cerr error
			for _, op := range ops {
				cmd := exec.Command(bin, cpath, "o:0", op)
				cmd.Env = append(os.Environ(), "PMEM_IS_PMEM_FORCE=1")
				out, err := cmd.CombinedOutput()
				cout = append(cout, out...)
				if err != nil {
					cerr = err
					break
				}
			}
			p, err := Open(gpath, nil)
			if err != nil {
				t.Fatalf("Go open: %v", err)
			}
			p.lanes.init(1)
			gerr := goOps(p, ops)
			probs := p.Check()
			p.Close()
			if !tc.broken {
				if cerr != nil || gerr != nil || len(probs) != 0 {
					t.Fatalf("C: %v %s; Go: %v, check %v", cerr, cout, gerr, probs)
				}
				requireConsistent(t, cpath)
				requireConsistent(t, gpath)
				if out := runC(t, bin, gpath, "k"); !strings.Contains(out, "check 1") {
					t.Fatalf("pmemblk_check of the Go pool: %s", out)
				}
				c, _ := os.ReadFile(cpath)
				g, _ := os.ReadFile(gpath)
				if !bytes.Equal(c[dataOff:], g[dataOff:]) {
					t.Fatal("after the same operations the BTTs of C and Go differ")
				}
				return
			}
			// C reads back another block's data where block 5 was.
			if cerr == nil || !strings.Contains(string(cout), "r:5:1: content differs") {
				t.Fatalf("C: %v %s; want block 5 overwritten", cerr, cout)
			}
			if !errors.Is(gerr, ErrArenaError) || len(probs) == 0 {
				t.Fatalf("Go: %v, check %v; want ErrArenaError and problems", gerr, probs)
			}
			t.Log(probs[0])
			if out, _ := exec.Command("pmempool", "check", gpath).CombinedOutput(); !strings.Contains(string(out), "not consistent") {
				t.Fatalf("pmempool check of the damaged pool:\n%s", out)
			}
			p, err = Open(gpath, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			mustRead(t, p, 5, 1) // nothing was overwritten
		})
	}
}

// goOps runs the C peer's w:LBA:GEN and r:LBA:GEN operations on p and
// returns the first failure.
func goOps(p *Pool, ops []string) error {
	buf := make([]byte, p.BSize())
	for _, op := range ops {
		var lba int64
		var gen int
		if _, err := fmt.Sscanf(op[2:], "%d:%d", &lba, &gen); err != nil {
			return fmt.Errorf("%s: %v", op, err)
		}
		switch op[0] {
		case 'w':
			if err := p.WriteBlock(pattern(lba, gen, p.BSize()), lba); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
		case 'r':
			if err := p.ReadBlock(buf, lba); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if !bytes.Equal(buf, pattern(lba, gen, p.BSize())) {
				return fmt.Errorf("%s: content differs", op)
			}
		}
	}
	return nil
}
