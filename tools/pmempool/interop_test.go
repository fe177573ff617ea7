package pmempool

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	blklayout "github.com/gopmdk/pmdk/blk/layout"
	"github.com/gopmdk/pmdk/core/pool"
	loglayout "github.com/gopmdk/pmdk/log/layout"
)

// cPmempool returns the path of C's pmempool or skips the test.
func cPmempool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("pmempool")
	if err != nil {
		t.Skip("C PMDK's pmempool is not installed (apt install pmdk-tools): interop test skipped")
	}
	return p
}

// cCheck runs C's pmempool check with args on path and returns its verdict
// as a Result and its output.
func cCheck(t *testing.T, tool, path string, args ...string) (Result, string) {
	t.Helper()
	cmd := exec.Command(tool, append(append([]string{"check"}, args...), path)...)
	out, err := cmd.CombinedOutput()
	s := string(out)
	switch {
	case strings.Contains(s, ": not consistent"):
		return NotConsistent, s
	case strings.Contains(s, ": cannot repair"):
		return CannotRepair, s
	case strings.Contains(s, ": repaired"):
		return Repaired, s
	case strings.Contains(s, "failed"):
		return CheckError, s
	case err == nil:
		return Consistent, s
	}
	return CheckError, s + err.Error()
}

// corruption damages a pool image in one way.
type corruption struct {
	name string
	pool string // "log", "blk" (laid out), "blk0" (no layout yet)
	edit func(b []byte)
}

func put32(off int) func(v uint32) func([]byte) {
	return func(v uint32) func([]byte) {
		return func(b []byte) { binary.LittleEndian.PutUint32(b[off:], v) }
	}
}

// hdrField overwrites n bytes of the pool header at off with 0xA5 and, when
// resum is set, recomputes the header checksum so only the field is wrong.
func hdrField(off, n int, resum bool) func([]byte) {
	return func(b []byte) {
		for i := range n {
			b[off+i] ^= 0xA5
		}
		if resum {
			h, _ := pool.DecodeHeader(b)
			binary.LittleEndian.PutUint64(b[pool.HeaderSize-8:], h.ComputeChecksum())
		}
	}
}

// arena0 returns the offset of the first arena's info block and its info.
func arena0(b []byte) (uint64, blklayout.Info) {
	return blklayout.BTTOffset, blklayout.DecodeInfo(b[blklayout.BTTOffset:])
}

func infoField(off, n int, resum bool) func([]byte) {
	return func(b []byte) {
		a, _ := arena0(b)
		ib := b[a : a+blklayout.InfoSize]
		for i := range n {
			ib[off+i] ^= 0x5A
		}
		if resum {
			binary.LittleEndian.PutUint64(ib[blklayout.InfoSize-8:], blklayout.InfoChecksum(ib))
		}
	}
}

func backupField(off int) func([]byte) {
	return func(b []byte) {
		a, in := arena0(b)
		b[a+in.InfoOff+uint64(off)] ^= 0x5A
	}
}

func mapEntry(i uint32, v func(in blklayout.Info) uint32) func([]byte) {
	return func(b []byte) {
		a, in := arena0(b)
		binary.LittleEndian.PutUint32(b[a+in.MapOff+uint64(i)*4:], v(in))
	}
}

func flogWord(pair, entry, word int, v func(in blklayout.Info) uint32) func([]byte) {
	return func(b []byte) {
		a, in := arena0(b)
		off := a + in.FlogOff + uint64(pair)*blklayout.FlogPairSize + uint64(entry)*blklayout.FlogSize + uint64(word)*4
		binary.LittleEndian.PutUint32(b[off:], v(in))
	}
}

// flogSeq7 sets the sequence number of the current (or the stale) entry of
// the first flog pair with both entries written to 7.
func flogSeq7(current bool) func([]byte) {
	return func(b []byte) {
		a, in := arena0(b)
		for i := range uint64(in.NFree) {
			off := a + in.FlogOff + i*blklayout.FlogPairSize
			pair := blklayout.DecodeFlogPair(b[off:])
			cur, ok := blklayout.CurrentFlog(pair)
			if !ok || pair[0].Seq == 0 || pair[1].Seq == 0 {
				continue
			}
			if !current {
				cur = 1 - cur
			}
			binary.LittleEndian.PutUint32(b[off+uint64(cur)*blklayout.FlogSize+12:], 7)
			return
		}
		panic("no flog pair with two entries in the template")
	}
}

func sdsDirty(b []byte) {
	h, _ := pool.DecodeHeader(b)
	h.SDS = pool.ShutdownState{USC: 7, Dirty: 1}
	h.SDS.UpdateChecksum()
	sum := h.Checksum
	h.Encode(b)
	binary.LittleEndian.PutUint64(b[pool.HeaderSize-8:], sum) // CKSUM_2K: SDS not covered anyway
}

func corruptions() []corruption {
	var cs []corruption
	hdr := []struct {
		name   string
		off, n int
	}{
		{"signature", 0, 8}, {"major", 8, 4}, {"compat", 12, 4}, {"incompat", 16, 4}, {"ro_compat", 20, 4},
		{"poolset_uuid", 24, 16}, {"uuid", 40, 16}, {"prev_part_uuid", 56, 16}, {"next_part_uuid", 72, 16},
		{"prev_repl_uuid", 88, 16}, {"next_repl_uuid", 104, 16}, {"crtime", 120, 8},
		{"arch.alignment_desc", 128, 8}, {"arch.machine_class", 136, 1}, {"arch.data", 137, 1},
		{"arch.reserved", 138, 4}, {"arch.machine", 142, 2}, {"unused", 1000, 4}, {"checksum", 4088, 8},
	}
	for _, p := range []string{"log", "blk"} {
		for _, f := range hdr {
			cs = append(cs, corruption{"hdr." + f.name, p, hdrField(f.off, f.n, false)})
			if f.name != "checksum" {
				cs = append(cs, corruption{"hdr." + f.name + "+checksum", p, hdrField(f.off, f.n, true)})
			}
		}
		cs = append(cs,
			corruption{"hdr.unused2", p, hdrField(2100, 4, false)},
			corruption{"hdr.zeroed", p, func(b []byte) { clear(b[:pool.HeaderSize]) }},
			corruption{"sds.dirty-adr-failure", p, sdsDirty},
			corruption{"sds.garbage", p, hdrField(4030, 2, false)},
		)
	}
	cs = append(cs,
		corruption{"log.start_offset", "log", func(b []byte) { binary.LittleEndian.PutUint64(b[loglayout.StartOffsetAt:], 0x1000) }},
		corruption{"log.end_offset", "log", func(b []byte) { binary.LittleEndian.PutUint64(b[loglayout.EndOffsetAt:], 0x10000) }},
		corruption{"log.end_offset-huge", "log", func(b []byte) { binary.LittleEndian.PutUint64(b[loglayout.EndOffsetAt:], 1<<62) }},
		corruption{"log.write_offset-low", "log", func(b []byte) { binary.LittleEndian.PutUint64(b[loglayout.WriteOffsetAt:], 0x100) }},
		corruption{"log.write_offset-high", "log", func(b []byte) { binary.LittleEndian.PutUint64(b[loglayout.WriteOffsetAt:], 1<<40) }},
		corruption{"blk.bsize", "blk", put32(blklayout.BSizeAt)(4096)},
		corruption{"blk.bsize-nolayout-small", "blk0", put32(blklayout.BSizeAt)(100)},
		corruption{"blk.bsize-nolayout-ok", "blk0", put32(blklayout.BSizeAt)(4096)},
		corruption{"blk.bsize-nolayout-huge", "blk0", put32(blklayout.BSizeAt)(1 << 30)},
		corruption{"blk.is_zeroed", "blk", put32(blklayout.IsZeroedAt)(7)},
		corruption{"btt.backup-nolayout", "blk0", func(b []byte) { copy(b[len(b)-blklayout.InfoSize:], blklayout.Signature) }},
	)
	info := []struct {
		name   string
		off, n int
	}{
		{"sig", 0, 16}, {"uuid", 16, 16}, {"parent_uuid", 32, 16}, {"flags", 48, 4}, {"major", 52, 2},
		{"minor", 54, 2}, {"external_lbasize", 56, 4}, {"external_nlba", 60, 4}, {"internal_lbasize", 64, 4},
		{"internal_nlba", 68, 4}, {"nfree", 72, 4}, {"infosize", 76, 4}, {"nextoff", 80, 8}, {"dataoff", 88, 8},
		{"mapoff", 96, 8}, {"flogoff", 104, 8}, {"infooff", 112, 8}, {"unused", 200, 4}, {"checksum", 4088, 8},
	}
	for _, f := range info {
		cs = append(cs, corruption{"btt.info." + f.name, "blk", infoField(f.off, f.n, false)})
		cs = append(cs, corruption{"btt.backup." + f.name, "blk", backupField(f.off)})
	}
	for _, f := range []string{"uuid", "parent_uuid", "flags", "major", "minor", "unused"} {
		for _, g := range info {
			if g.name == f {
				cs = append(cs, corruption{"btt.info." + f + "+checksum", "blk", infoField(g.off, g.n, true)})
			}
		}
	}
	cs = append(cs,
		corruption{"btt.info+backup", "blk", func(b []byte) { infoField(0, 1, false)(b); backupField(0)(b) }},
		corruption{"btt.map.out-of-range", "blk", mapEntry(3, func(in blklayout.Info) uint32 { return 0xC0000000 | (in.InternalNLBA + 5) })},
		corruption{"btt.map.duplicate", "blk", mapEntry(3, func(in blklayout.Info) uint32 { return 0xC0000000 | 1 })},
		corruption{"btt.map.zero-flag", "blk", mapEntry(4, func(in blklayout.Info) uint32 { return 0x80000000 | 4 })},
		corruption{"btt.map.error-flag", "blk", mapEntry(5, func(in blklayout.Info) uint32 { return 0x40000000 | 5 })},
		corruption{"btt.map.swap-to-free", "blk", mapEntry(6, func(in blklayout.Info) uint32 { return 0xC0000000 | (in.InternalNLBA - 1) })},
		corruption{"btt.flog.seq-equal", "blk", flogWord(0, 1, 3, func(blklayout.Info) uint32 { return 1 })},
		corruption{"btt.flog.seq-zero", "blk", flogWord(1, 0, 3, func(blklayout.Info) uint32 { return 0 })},
		corruption{"btt.flog.lba", "blk", flogWord(2, 0, 0, func(in blklayout.Info) uint32 { return in.ExternalNLBA + 1 })},
		corruption{"btt.flog.old_map", "blk", flogWord(3, 0, 1, func(in blklayout.Info) uint32 { return in.InternalNLBA + 1 })},
		corruption{"btt.flog.new_map", "blk", flogWord(4, 0, 2, func(in blklayout.Info) uint32 { return in.InternalNLBA + 1 })},
		corruption{"btt.flog.old_map-used", "blk", flogWord(5, 0, 1, func(blklayout.Info) uint32 { return 0 })},
		// Sequence number 7 (which no writer stores) in a stale entry, in a
		// current one, and beside an initial entry: C compares it as it is.
		corruption{"btt.flog.seq7-stale", "blk", flogSeq7(false)},
		corruption{"btt.flog.seq7-current", "blk", flogSeq7(true)},
		corruption{"btt.flog.seq7-initial", "blk", flogWord(blklayout.DefaultNFree-1, 1, 3, func(blklayout.Info) uint32 { return 7 })},
	)
	return cs
}

// templates makes one pool of each kind with Go and returns their bytes.
func templates(t *testing.T) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for name, p := range map[string]string{"log": newLog(t), "blk": newBlk(t, true), "blk0": newBlk(t, false)} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = b
	}
	return m
}

// TestInteropCheckVerdicts damages pools one field at a time and compares
// our check with C's: the same verdict without repair, the same verdict of
// a repair (-r -y -a), and C finds every pool we repaired consistent.
func TestInteropCheckVerdicts(t *testing.T) {
	tool := cPmempool(t)
	tpl := templates(t)
	dir := t.TempDir()
	for _, c := range corruptions() {
		t.Run(c.pool+"/"+c.name, func(t *testing.T) {
			img := append([]byte(nil), tpl[c.pool]...)
			c.edit(img)
			ours := filepath.Join(dir, "ours")
			theirs := filepath.Join(dir, "theirs")
			writeTwins(t, img, ours, theirs)

			want, out := cCheck(t, tool, theirs, "-v")
			got, msgs, err := Check(ours, &CheckOptions{Verbose: true})
			if want == CheckError {
				if got, want := got, Consistent; got == want {
					t.Errorf("C: %s\nours: %v %v: got = %v, want anything else", out, msgs, err, got)
				}
			} else {
				if got != want {
					t.Errorf("C:\n%s\nours: %v %v: got = %v, want %v", out, msgs, err, got, want)
				}
				if got, want := joinMsgs(msgs), cMessages(out, theirs); got != want {
					t.Errorf("messages of -v: joinMsgs(msgs) = %v, want %v", got, want)
				}
			}

			// Repair without advanced steps first, on copies.
			writeTwins(t, img, ours, theirs)
			wantB, outB := cCheck(t, tool, theirs, "-v", "-r", "-y")
			gotB, msgsB, err := Check(ours, &CheckOptions{Repair: true, Yes: true, Verbose: true})
			if wantB != CheckError {
				if got, want := gotB, wantB; got != want {
					t.Errorf("basic repair: C:\n%s\nours: %v %v: gotB = %v, want %v", outB, msgsB, err, got, want)
				}
				if got, want := joinMsgs(msgsB), cMessages(outB, theirs); got != want {
					t.Errorf("messages of -v -r -y: joinMsgs(msgsB) = %v, want %v", got, want)
				}
			}
			if gotB == Repaired {
				// C writes some fixes before it gives up; we write
				// nothing unless the repair completes.
				sameBytes(t, ours, theirs, nil)
			}

			writeTwins(t, img, ours, theirs)
			wantR, outR := cCheck(t, tool, theirs, "-v", "-r", "-y", "-a")
			gotR, msgsR, err := Check(ours, &CheckOptions{Repair: true, Yes: true, Advanced: true, Verbose: true})
			if wantR == CheckError {
				if got, want := gotR, Consistent; got == want {
					t.Errorf("gotR = %v, want anything else", got)
				}
			} else {
				if got, want := gotR, wantR; got != want {
					t.Errorf("C:\n%s\nours: %v %v: gotR = %v, want %v", outR, msgsR, err, got, want)
				}
			}
			if wantR != CheckError {
				want, got := cMessages(outR, theirs), joinMsgs(msgsR)
				if strings.Contains(outR, "setting pool_hdr.uuid to") {
					// Regenerated: random UUIDs and so checksums.
					want, got = uuidRE.ReplaceAllString(want, "<uuid>"), uuidRE.ReplaceAllString(got, "<uuid>")
					want, got = sumRE.ReplaceAllString(want, "<sum>"), sumRE.ReplaceAllString(got, "<sum>")
				}
				if got != want {
					t.Errorf("messages of -v -r -y -a: got = %v, want %v", got, want)
				}
			}
			if gotR == Repaired {
				var random [][2]int
				if strings.Contains(outR, "setting pool_hdr.uuid to") {
					random = [][2]int{{40, 120}, {pool.HeaderSize - 8, pool.HeaderSize}} // regenerated UUID and links
				}
				sameBytes(t, ours, theirs, random)
			}
			if gotR == Repaired {
				after, out := cCheck(t, tool, ours, "-v")
				if got, want := after, Consistent; got != want {
					t.Errorf("C on our repaired pool:\n%s\nour repair: %v: after = %v, want %v", out, msgsR, got, want)
				}
			}
		})
	}
}

// TestInteropCheckMessages: the errors we print are C's, word for word,
// for one case of each checker step.
func TestInteropCheckMessages(t *testing.T) {
	tool := cPmempool(t)
	tpl := templates(t)
	dir := t.TempDir()
	for _, c := range corruptions() {
		switch c.name {
		case "hdr.major", "log.write_offset-high", "log.start_offset", "btt.info.sig", "btt.backup.sig", "btt.map.duplicate", "sds.dirty-adr-failure":
		default:
			continue
		}
		t.Run(c.pool+"/"+c.name, func(t *testing.T) {
			img := append([]byte(nil), tpl[c.pool]...)
			c.edit(img)
			p := filepath.Join(dir, "pool")
			if err := os.WriteFile(p, img, 0o644); err != nil {
				t.Fatal(err)
			}
			_, out := cCheck(t, tool, p, "-v")
			_, msgs, err := Check(p, &CheckOptions{Verbose: true})
			if err != nil {
				t.Fatal(err)
			}
			var ours strings.Builder
			for _, m := range msgs {
				fmt.Fprintln(&ours, m.Msg)
			}
			if got, want := ours.String(), strings.TrimSuffix(out, p+": not consistent\n"); got != want {
				t.Errorf("ours.String() = %v, want %v", got, want)
			}
		})
	}
}

// sameBytes asserts that two pool files are identical but for the skip
// ranges, naming the first differing offset.
func sameBytes(t *testing.T, a, b string, skip [][2]int) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(x), len(y); got != want {
		t.Fatalf("len(x) = %v, want %v", got, want)
	}
	for _, r := range skip {
		copy(x[r[0]:r[1]], y[r[0]:r[1]])
	}
	for i := range x {
		if x[i] != y[i] {
			t.Errorf("our pool differs from C's at offset %d (0x%x): %#x vs %#x", i, i, x[i], y[i])
			return
		}
	}
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	sumRE  = regexp.MustCompile(`checksum to 0x[0-9a-f]+`)
)

// cMessages strips the final verdict line of C's check output.
func cMessages(out, path string) string {
	i := strings.LastIndex(out, path+": ")
	if i < 0 {
		return out
	}
	return out[:i]
}

func joinMsgs(ms []Status) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Msg + "\n")
	}
	return b.String()
}

// TestInteropInfoDamaged: on every damaged pool C's pmempool info can
// read, ours prints the same text, and where C refuses it ours refuses it
// too; both without and with the type forced (-f), the way to read a pool
// whose header is damaged.
func TestInteropInfoDamaged(t *testing.T) {
	tool := cPmempool(t)
	tpl := templates(t)
	dir := t.TempDir()
	for _, c := range corruptions() {
		for _, force := range []bool{false, true} {
			name := c.pool + "/" + c.name
			if force {
				name += "/forced"
			}
			t.Run(name, func(t *testing.T) { infoDamaged(t, tool, tpl, dir, c, force) })
		}
	}
}

func infoDamaged(t *testing.T, tool string, tpl map[string][]byte, dir string, c corruption, force bool) {
	img := append([]byte(nil), tpl[c.pool]...)
	c.edit(img)
	p := filepath.Join(dir, "pool")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	args, o := []string{"info"}, &InfoOptions{}
	if c.pool != "log" {
		args, o = append(args, "-B"), &InfoOptions{Backup: true}
	}
	if force {
		typ := strings.TrimSuffix(c.pool, "0") // blk0: a blk pool without a layout
		args = append(args, "-f", typ)
		o.Type, _ = ParseType(typ)
	}
	args = append(args, p)
	cmd := exec.Command(tool, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, cerr := cmd.Output()
	var ours strings.Builder
	err := WriteInfo(&ours, p, o)
	if cerr != nil {
		// C refuses the pool (exit 1): so must we, for the same
		// reason, as scripts use the exit code.
		if err == nil || !strings.Contains(stderr.String(), err.Error()) {
			t.Fatalf("C refuses (%v: %s), ours: %v", cerr, stderr.String(), err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ours.String(), string(out); got != want {
		t.Errorf("ours.String() = %v, want %v", got, want)
	}
}

// writeTwins writes img to both files with one modification time: a
// repair of crtime sets it from the file's, and two writes may straddle a
// second.
func writeTwins(t *testing.T, img []byte, paths ...string) {
	t.Helper()
	mtime := time.Now().Truncate(time.Second)
	for _, p := range paths {
		if err := os.WriteFile(p, img, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}
