package log

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err, "logpeer %s:\n%s", strings.Join(args, " "), out)
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
				require.NoError(t, err)
			}
			n, _ := strconv.Atoi(f[1])
			require.Len(t, b, n)
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
	require.NoError(t, err)
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
	require.NoError(t, err)
	assert.Equal(t, want, goContent(t, l))
	assert.Equal(t, int64(len(want)), l.Tell())
	assert.Equal(t, int64(8<<20-layout.DataStart), l.NBytes())
	var walked []byte
	require.NoError(t, l.Walk(100, func(b []byte) bool { walked = append(walked, b...); return true }))
	assert.Equal(t, want, walked)

	more := records(2, 10, 5000)
	for _, r := range more {
		require.NoError(t, l.Append(r))
		want = append(want, r...)
	}
	require.NoError(t, l.Close())

	cw := cWalk(t, path, 0)
	assert.Equal(t, int64(len(want)), cw.tell)
	assert.Equal(t, int64(8<<20-layout.DataStart), cw.nbyte)
	assert.Equal(t, want, cw.content())

	// C appends after Go, then rewinds and appends again; Go sees the last.
	runPeer(t, "open", path, appendOp([]byte("from C")), "r", appendvOp([]byte("after "), []byte("rewind")))
	l, err = Open(path, nil)
	require.NoError(t, err)
	assert.Equal(t, []byte("after rewind"), goContent(t, l))
	require.NoError(t, l.Close())
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
	require.NoError(t, err)
	require.Equal(t, !forced, l.msync, "persist path")
	var want []byte
	for i, r := range records(3, 50, 1000) {
		if i%3 == 0 {
			require.NoError(t, l.Appendv(r[:len(r)/3], r[len(r)/3:]))
		} else {
			require.NoError(t, l.Append(r))
		}
		want = append(want, r...)
	}
	require.NoError(t, l.Close())

	for _, cs := range []int{0, 1000, 4096} {
		cw := cWalk(t, path, cs)
		assert.Equal(t, int64(len(want)), cw.tell)
		assert.Equal(t, int64(16<<20-layout.DataStart), cw.nbyte)
		assert.Equal(t, want, cw.content(), "chunksize %d", cs)
		if cs > 0 {
			assert.Len(t, cw.chunks, (len(want)+cs-1)/cs)
		}
	}
	assert.Equal(t, "check 1\n", runPeer(t, "check", path))

	problems, err := Check(path, nil)
	require.NoError(t, err)
	assert.Empty(t, problems)

	if _, err := exec.LookPath("pmempool"); err != nil {
		t.Log("pmempool not found: skipping pmempool check/info")
		return
	}
	out, err := exec.Command("pmempool", "check", "-v", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "consistent")
	assert.NotContains(t, string(out), "not consistent")

	// pmempool dump -b prints the log data as C reads it.
	dump, err := exec.Command("pmempool", "dump", "-b", path).Output()
	require.NoError(t, err)
	assert.Equal(t, want, dump, "pmempool dump")

	out, err = exec.Command("pmempool", "info", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	info := string(out)
	assert.Regexp(t, `Signature\s+: PMEMLOG`, info)
	assert.Regexp(t, `Checksum\s+: 0x[0-9a-f]+ \[OK\]`, info)
	assert.Regexp(t, `Start offset\s+: 0x2000\n`, info)
	assert.Regexp(t, fmt.Sprintf(`Write offset\s+: 0x%x \[OK\]`, layout.DataStart+len(want)), info)
	assert.Regexp(t, fmt.Sprintf(`End offset\s+: 0x%x\n`, 16<<20), info)
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
	require.NoError(t, err, "%s", out)
	l, err := Open(path, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(0), l.Tell())
	assert.Equal(t, int64(4<<20-layout.DataStart), l.NBytes())
	require.NoError(t, l.Append([]byte("written by Go")))
	require.NoError(t, l.Close())
	assert.Equal(t, []byte("written by Go"), cWalk(t, path, 0).content())
}

// TestInteropExistingFile: Create with size 0 on an existing file whose
// size is not page-aligned gives the same descriptor as C's create.
func TestInteropExistingFile(t *testing.T) {
	logPeer(t)
	const fileSize = 3000000
	dir := pmemtest.Dir(t)
	goPath, cPath := filepath.Join(dir, "go.log"), filepath.Join(dir, "c.log")
	for _, p := range []string{goPath, cPath} {
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		require.NoError(t, os.Truncate(p, fileSize))
	}
	l, err := Create(goPath, 0, 0o600, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(fileSize&^4095-layout.DataStart), l.NBytes())
	require.NoError(t, l.Close())
	runPeer(t, "create", cPath, "0")

	goImg, err := os.ReadFile(goPath)
	require.NoError(t, err)
	cImg, err := os.ReadFile(cPath)
	require.NoError(t, err)
	assert.Equal(t, cImg[layout.DescOffset:layout.DescOffset+layout.DescSize],
		goImg[layout.DescOffset:layout.DescOffset+layout.DescSize])
	cw := cWalk(t, goPath, 0)
	assert.Equal(t, int64(fileSize&^4095-layout.DataStart), cw.nbyte)
	l, err = Open(cPath, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(fileSize&^4095-layout.DataStart), l.NBytes())
	require.NoError(t, l.Close())

	// A file with a non-zero header is not an empty pool: Create refuses.
	_, err = Create(cPath, 0, 0o600, nil)
	require.Error(t, err)
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
			require.NoError(t, err)
			require.NoError(t, l.Append([]byte("some data")))
			require.NoError(t, l.Close())

			f, err := os.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], c.value)
			_, err = f.WriteAt(b[:], int64(c.at))
			require.NoError(t, err)
			require.NoError(t, f.Close())

			_, err = Open(path, nil)
			require.ErrorIs(t, err, core.ErrCorrupt)
			problems, err := Check(path, nil)
			require.NoError(t, err)
			require.NotEmpty(t, problems)
			for _, p := range problems {
				assert.ErrorIs(t, p, core.ErrCorrupt)
			}
			// C refuses the pool too: its check opens it, and fails (-1)
			// or reports it inconsistent (0).
			out := runPeer(t, "check", path)
			assert.NotEqual(t, "check 1\n", out)
			if _, err := exec.LookPath("pmempool"); err == nil {
				out, err := exec.Command("pmempool", "check", path).CombinedOutput()
				assert.Error(t, err, "pmempool check accepted it:\n%s", out)
			}
		})
	}
}
