package log

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/log/layout"
)

var peer struct {
	once   sync.Once
	path   string // the compiled testdata/logpeer.c
	why    string // why it is not available
	broken bool   // gcc and C PMDK are installed, yet the peer does not build
}

// logPeer returns the path of testdata/logpeer.c compiled against C
// libpmemlog. It skips the test without gcc or the libpmemlog header, and
// fails it when they are there but the peer does not build.
func logPeer(t *testing.T) string {
	t.Helper()
	peer.once.Do(func() {
		gcc, err := exec.LookPath("gcc")
		if err != nil {
			peer.why = "gcc not found"
			return
		}
		if _, err := os.Stat("/usr/include/libpmemlog.h"); err != nil {
			peer.why = "C PMDK not installed (no /usr/include/libpmemlog.h; Debian: libpmemlog-dev)"
			return
		}
		dir, err := os.MkdirTemp("", "gopmdk-logpeer-")
		if err != nil {
			peer.why = err.Error()
			return
		}
		bin := filepath.Join(dir, "logpeer")
		out, err := exec.Command(gcc, "-O2", "-Wall", "-o", bin, filepath.Join("testdata", "logpeer.c"), "-lpmemlog").CombinedOutput()
		if err != nil {
			peer.why = fmt.Sprintf("cannot build the C peer: %v\n%s", err, out)
			peer.broken = true
			return
		}
		peer.path = bin
	})
	if peer.broken {
		t.Fatal(peer.why)
	}
	if peer.path == "" {
		t.Skip("C libpmemlog peer unavailable: " + peer.why)
	}
	return peer.path
}

// runPeer runs the C peer and returns its output; it fails the test when
// the peer exits non-zero.
func runPeer(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(logPeer(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("logpeer %s:\n%s: %v", strings.Join(args, " "), out, err)
	}
	return string(out)
}

// peerWalk is what the C peer's walk printed.
type peerWalk struct {
	tell, nbyte int64
	chunks      [][]byte
}

func (w peerWalk) content() []byte { return bytes.Join(w.chunks, nil) }

func cWalk(t *testing.T, path string, chunksize int) peerWalk {
	t.Helper()
	var w peerWalk
	for line := range strings.Lines(runPeer(t, "walk", path, strconv.Itoa(chunksize))) {
		f := strings.Fields(line)
		switch f[0] {
		case "tell":
			w.tell, _ = strconv.ParseInt(f[1], 10, 64)
		case "nbyte":
			w.nbyte, _ = strconv.ParseInt(f[1], 10, 64)
		case "chunk":
			var b []byte
			if len(f) > 2 {
				var err error
				b, err = hex.DecodeString(f[2])
				if err != nil {
					t.Fatal(err)
				}
			}
			n, _ := strconv.Atoi(f[1])
			if got, want := len(b), n; got != want {
				t.Fatalf("len(b) = %d, want %d", got, want)
			}
			w.chunks = append(w.chunks, b)
		}
	}
	return w
}

// records returns n random records of 0..maxLen bytes (seeded).
func records(seed uint64, n, maxLen int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0))
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = make([]byte, r.IntN(maxLen+1))
		for j := range recs[i] {
			recs[i][j] = byte(r.Uint32())
		}
	}
	return recs
}

func appendOp(b []byte) string { return "a:" + hex.EncodeToString(b) }

func appendvOp(bufs ...[]byte) string {
	parts := make([]string, len(bufs))
	for i, b := range bufs {
		parts[i] = hex.EncodeToString(b)
	}
	return "v:" + strings.Join(parts, ",")
}

func goContent(t *testing.T, l *Log) []byte {
	t.Helper()
	b, err := l.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInteropCWritesGoReads: records appended by C libpmemlog read back in
// Go, then appends from both sides interleaved across reopens.
func TestInteropCWritesGoReads(t *testing.T) {
	path := pmemtest.Path(t, "c.log")
	recs := records(1, 40, 300)
	args := []string{"create", path, strconv.Itoa(8 << 20)}
	var want []byte
	for i, r := range recs {
		if i%5 == 4 {
			args = append(args, appendvOp(r[:len(r)/2], nil, r[len(r)/2:]))
		} else {
			args = append(args, appendOp(r))
		}
		want = append(want, r...)
	}
	runPeer(t, args...)

	l, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := goContent(t, l), want; !bytes.Equal(got, want) {
		t.Errorf("goContent(t, l) = %q, want %q", got, want)
	}
	if got, want := l.Tell(), int64(len(want)); got != want {
		t.Errorf("l.Tell() = %v, want %v", got, want)
	}
	if got, want := l.NBytes(), int64(8<<20-layout.DataStart); got != want {
		t.Errorf("l.NBytes() = %v, want %v", got, want)
	}
	var walked []byte
	if err := l.Walk(100, func(b []byte) bool { walked = append(walked, b...); return true }); err != nil {
		t.Fatal(err)
	}
	if got, want := walked, want; !bytes.Equal(got, want) {
		t.Errorf("walked = %q, want %q", got, want)
	}

	more := records(2, 10, 5000)
	for _, r := range more {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r...)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	cw := cWalk(t, path, 0)
	if got, want := cw.tell, int64(len(want)); got != want {
		t.Errorf("cw.tell = %v, want %v", got, want)
	}
	if got, want := cw.nbyte, int64(8<<20-layout.DataStart); got != want {
		t.Errorf("cw.nbyte = %v, want %v", got, want)
	}
	if got, want := cw.content(), want; !bytes.Equal(got, want) {
		t.Errorf("cw.content() = %q, want %q", got, want)
	}

	// C appends after Go, then rewinds and appends again; Go sees the last.
	runPeer(t, "open", path, appendOp([]byte("from C")), "r", appendvOp([]byte("after "), []byte("rewind")))
	l, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := goContent(t, l), []byte("after rewind"); !bytes.Equal(got, want) {
		t.Errorf("goContent(t, l) = %q, want %q", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestInteropGoWritesCReads: a pool created and filled in Go, on the
// page cache (msync) and as forced pmem (CPU flushes), is walked by C
// (whole and in chunks), passes pmemlog_check, pmempool check and info.
func TestInteropGoWritesCReads(t *testing.T) {
	for _, force := range []string{"0", "1"} {
		t.Run("PMEM_IS_PMEM_FORCE="+force, func(t *testing.T) {
			t.Setenv("PMEM_IS_PMEM_FORCE", force)
			goWritesCReads(t, force == "1")
		})
	}
}

func goWritesCReads(t *testing.T, forced bool) {
	path := pmemtest.Path(t, "go.log")
	l, err := Create(path, 16<<20, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.msync, !forced; got != want {
		t.Fatalf("persist path: l.msync = %v, want %v", got, want)
	}
	var want []byte
	for i, r := range records(3, 50, 1000) {
		if i%3 == 0 {
			if err := l.Appendv(r[:len(r)/3], r[len(r)/3:]); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := l.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, r...)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	for _, cs := range []int{0, 1000, 4096} {
		cw := cWalk(t, path, cs)
		if got, want := cw.tell, int64(len(want)); got != want {
			t.Errorf("cw.tell = %v, want %v", got, want)
		}
		if got, want := cw.nbyte, int64(16<<20-layout.DataStart); got != want {
			t.Errorf("cw.nbyte = %v, want %v", got, want)
		}
		if got, want := cw.content(), want; !bytes.Equal(got, want) {
			t.Errorf("chunksize %d: cw.content() = %q, want %q", cs, got, want)
		}
		if cs > 0 {
			if got, want := len(cw.chunks), (len(want)+cs-1)/cs; got != want {
				t.Errorf("len(cw.chunks) = %d, want %d", got, want)
			}
		}
	}
	if got, want := runPeer(t, "check", path), "check 1\n"; got != want {
		t.Errorf("got = %v, want %v", got, want)
	}

	problems, err := Check(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("not empty: %v", problems)
	}

	if _, err := exec.LookPath("pmempool"); err != nil {
		t.Log("pmempool not found: skipping pmempool check/info")
		return
	}
	out, err := exec.Command("pmempool", "check", "-v", path).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if !strings.Contains(string(out), "consistent") {
		t.Errorf("%q does not contain %q", string(out), "consistent")
	}
	if strings.Contains(string(out), "not consistent") {
		t.Errorf("%q contains %q", string(out), "not consistent")
	}

	// pmempool dump -b prints the log data as C reads it.
	dump, err := exec.Command("pmempool", "dump", "-b", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dump, want; !bytes.Equal(got, want) {
		t.Errorf("pmempool dump: dump = %q, want %q", got, want)
	}

	out, err = exec.Command("pmempool", "info", path).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	info := string(out)
	if !regexp.MustCompile(`Signature\s+: PMEMLOG`).MatchString(info) {
		t.Errorf("%q does not match %s", info, `Signature\s+: PMEMLOG`)
	}
	if !regexp.MustCompile(`Checksum\s+: 0x[0-9a-f]+ \[OK\]`).MatchString(info) {
		t.Errorf("%q does not match %s", info, `Checksum\s+: 0x[0-9a-f]+ \[OK\]`)
	}
	if !regexp.MustCompile(`Start offset\s+: 0x2000\n`).MatchString(info) {
		t.Errorf("%q does not match %s", info, `Start offset\s+: 0x2000\n`)
	}
	if !regexp.MustCompile(fmt.Sprintf(`Write offset\s+: 0x%x \[OK\]`, layout.DataStart+len(want))).MatchString(info) {
		t.Errorf("%q does not match %s", info, fmt.Sprintf(`Write offset\s+: 0x%x \[OK\]`, layout.DataStart+len(want)))
	}
	if !regexp.MustCompile(fmt.Sprintf(`End offset\s+: 0x%x\n`, 16<<20)).MatchString(info) {
		t.Errorf("%q does not match %s", info, fmt.Sprintf(`End offset\s+: 0x%x\n`, 16<<20))
	}
}

// TestInteropPmempoolCreate: a pool made by `pmempool create log` opens in
// Go, takes appends, and C reads them.
func TestInteropPmempoolCreate(t *testing.T) {
	logPeer(t)
	if _, err := exec.LookPath("pmempool"); err != nil {
		t.Skip("pmempool not found (Debian: pmdk-tools)")
	}
	path := pmemtest.Path(t, "pmempool.log")
	out, err := exec.Command("pmempool", "create", "log", "--size", strconv.Itoa(4<<20), path).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	l, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Tell(), int64(0); got != want {
		t.Errorf("l.Tell() = %v, want %v", got, want)
	}
	if got, want := l.NBytes(), int64(4<<20-layout.DataStart); got != want {
		t.Errorf("l.NBytes() = %v, want %v", got, want)
	}
	if err := l.Append([]byte("written by Go")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := cWalk(t, path, 0).content(), []byte("written by Go"); !bytes.Equal(got, want) {
		t.Errorf("cWalk(t, path, 0).content() = %q, want %q", got, want)
	}
}

// TestInteropExistingFile: Create with size 0 on an existing file whose
// size is not page-aligned gives the same descriptor as C's create.
func TestInteropExistingFile(t *testing.T) {
	logPeer(t)
	const fileSize = 3000000
	dir := pmemtest.Dir(t)
	goPath, cPath := filepath.Join(dir, "go.log"), filepath.Join(dir, "c.log")
	for _, p := range []string{goPath, cPath} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, fileSize); err != nil {
			t.Fatal(err)
		}
	}
	l, err := Create(goPath, 0, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.NBytes(), int64(fileSize&^4095-layout.DataStart); got != want {
		t.Errorf("l.NBytes() = %v, want %v", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	runPeer(t, "create", cPath, "0")

	goImg, err := os.ReadFile(goPath)
	if err != nil {
		t.Fatal(err)
	}
	cImg, err := os.ReadFile(cPath)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := goImg[layout.DescOffset:layout.DescOffset+layout.DescSize], cImg[layout.DescOffset:layout.DescOffset+layout.DescSize]; !bytes.Equal(got, want) {
		t.Errorf("got = %q, want %q", got, want)
	}
	cw := cWalk(t, goPath, 0)
	if got, want := cw.nbyte, int64(fileSize&^4095-layout.DataStart); got != want {
		t.Errorf("cw.nbyte = %v, want %v", got, want)
	}
	l, err = Open(cPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.NBytes(), int64(fileSize&^4095-layout.DataStart); got != want {
		t.Errorf("l.NBytes() = %v, want %v", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// A file with a non-zero header is not an empty pool: Create refuses.
	_, err = Create(cPath, 0, 0o600, nil)
	if err == nil {
		t.Fatal("Create took a file with a non-zero header")
	}
}

// TestInteropCorruptDescriptor: descriptors damaged on media are refused
// by Go's Open and reported by Check, as C's check and pmempool check do.
func TestInteropCorruptDescriptor(t *testing.T) {
	logPeer(t)
	cases := []struct {
		name  string
		at    int
		value uint64
	}{
		{"write offset past end", layout.WriteOffsetAt, 4<<20 + 1},
		{"write offset below start", layout.WriteOffsetAt, 4096},
		{"start above end", layout.StartOffsetAt, 8 << 20},
		{"start misaligned", layout.StartOffsetAt, 8192 + 8},
		{"end beyond pool", layout.EndOffsetAt, 8 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := pmemtest.Path(t, "bad.log")
			l, err := Create(path, 4<<20, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Append([]byte("some data")); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}

			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], c.value)
			_, err = f.WriteAt(b[:], int64(c.at))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			_, err = Open(path, nil)
			if !errors.Is(err, core.ErrCorrupt) {
				t.Fatalf("%v, want %v", err, core.ErrCorrupt)
			}
			problems, err := Check(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) == 0 {
				t.Fatalf("empty")
			}
			for _, p := range problems {
				if err := p; !errors.Is(err, core.ErrCorrupt) {
					t.Errorf("%v, want %v", err, core.ErrCorrupt)
				}
			}
			// C refuses the pool too: its check opens it, and fails (-1)
			// or reports it inconsistent (0).
			out := runPeer(t, "check", path)
			if got, want := out, "check 1\n"; got == want {
				t.Errorf("out = %v, want anything else", got)
			}
			if _, err := exec.LookPath("pmempool"); err == nil {
				out, err := exec.Command("pmempool", "check", path).CombinedOutput()
				if err == nil {
					t.Errorf("pmempool check accepted it:\n%s: no error", out)
				}
			}
		})
	}
}
