package pool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// needPmempool skips the test when C PMDK's pmempool is not installed.
func needPmempool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("pmempool")
	if err != nil {
		t.Skip("pmempool (C PMDK 1.12.1) not installed: interop test skipped")
	}
	return p
}

// cPool creates a pool with `pmempool create` and returns its path.
func cPool(t *testing.T, args ...string) string {
	t.Helper()
	pmempool := needPmempool(t)
	path := pmemtest.Path(t, args[0])
	cmd := append([]string{"create"}, args...)
	cmd = append(cmd, path)
	if out, err := exec.Command(pmempool, cmd...).CombinedOutput(); err != nil {
		t.Fatalf("pmempool %v: %v\n%s", cmd, err, out)
	}
	return path
}

// cPools are the C-made pools of the interop tests: pmempool arguments
// (type, then type options) and the kind.
var cPools = []struct {
	args []string
	kind Kind
}{
	{[]string{"obj", "-s", "16M"}, Obj},
	{[]string{"blk", "512", "-s", "32M"}, Blk},
	{[]string{"log", "-s", "16M"}, Log},
}

func TestInteropCHeadersValidate(t *testing.T) {
	for _, c := range cPools {
		t.Run(c.args[0], func(t *testing.T) {
			path := cPool(t, c.args...)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			h, err := DecodeHeader(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Validate(c.kind); err != nil {
				t.Fatalf("C header does not validate: %v", err)
			}
			if h.SignatureString() != c.kind.Signature || h.Major != c.kind.Major ||
				h.Compat != c.kind.Compat || h.Incompat != c.kind.Incompat || h.ROCompat != c.kind.ROCompat {
				t.Fatalf("C header %q major %d features %#x/%#x/%#x differ from Kind %+v",
					h.SignatureString(), h.Major, h.Compat, h.Incompat, h.ROCompat, c.kind)
			}
			if h.Arch != LocalArch() {
				t.Fatalf("C arch %+v, Go %+v", h.Arch, LocalArch())
			}
			if !h.SDS.IsZero() {
				t.Fatalf("closed C pool: SDS %+v, want zero", h.SDS)
			}
			if h.UUID[7]>>4 != 4 || h.PoolsetUUID == h.UUID {
				t.Fatalf("C UUIDs: %v %v", h.PoolsetUUID, h.UUID)
			}
			enc := make([]byte, HeaderSize)
			h.Encode(enc)
			if !bytes.Equal(enc, raw[:HeaderSize]) {
				t.Fatal("Go re-encode of a C header is not byte-identical")
			}
			// uuid as pmempool info prints it
			info, err := exec.Command("pmempool", "info", path).CombinedOutput()
			if err != nil {
				t.Fatalf("pmempool info: %v\n%s", err, info)
			}
			if !strings.Contains(string(info), "UUID                     : "+h.UUID.String()) {
				t.Fatalf("pmempool info does not show UUID %s:\n%s", h.UUID, info)
			}
			// Go opens, marks dirty, closes: C still checks consistent.
			p, err := Open(path, c.kind, nil)
			if err != nil {
				t.Fatalf("Go open of C pool: %v", err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, raw) {
				t.Fatal("Go open+close changed a clean C pool")
			}
		})
	}
}

// writeEmptyLog fills the log descriptor of an empty log pool as
// libpmemlog does: start, end and write offsets after the header.
func writeEmptyLog(p *Pool) {
	d := p.Map().Bytes()[HeaderSize : HeaderSize+24]
	binary.LittleEndian.PutUint64(d[0:], 2*HeaderSize)
	binary.LittleEndian.PutUint64(d[8:], uint64(p.Size()))
	binary.LittleEndian.PutUint64(d[16:], 2*HeaderSize)
	p.Map().Persist(d)
}

func TestInteropGoLogPoolAcceptedByC(t *testing.T) {
	pmempool := needPmempool(t)
	path := pmemtest.Path(t, "log")
	p, err := Create(path, 16<<20, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeEmptyLog(p)
	h := p.Header()
	p.Close()
	out, err := exec.Command(pmempool, "info", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pmempool info: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Signature                : PMEMLOG",
		fmt.Sprintf("Checksum                 : %#x [OK]", h.Checksum),
		"Alignment Descriptor     : 0x000007f737777310[OK]",
		"Last shutdown            : clean",
		"UUID                     : " + h.UUID.String(),
		"Write offset             : 0x2000 [OK]",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pmempool info lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(pmempool, "check", "-v", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "consistent") {
		t.Fatalf("pmempool check: %v\n%s", err, out)
	}
}

// buildC compiles a C program linking lib into a temporary directory. It
// skips the test when gcc or the library's header is missing, and fails it
// when they are present but the program does not build.
func buildC(t *testing.T, src, lib string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed: C interop test skipped")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "prog.c")
	if err := os.WriteFile(c, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	header := "/usr/include/lib" + lib + ".h"
	if _, err := os.Stat(header); err != nil {
		t.Skipf("C PMDK dev files missing (no %s): C interop test skipped", header)
	}
	bin := filepath.Join(dir, "prog")
	if out, err := exec.Command(gcc, "-o", bin, c, "-l"+lib).CombinedOutput(); err != nil {
		// The headers are there: a build failure is a bug in the test
		// program, not a missing dependency.
		t.Fatalf("cannot build a C program with -l%s: %v\n%s", lib, err, out)
	}
	return bin
}

// logProg opens (or with "create" creates) a log pool, optionally appends,
// runs a shell command while the pool is open, then closes it. Exit 2:
// open failed, printing errno.
const logProg = `
#include <libpmemlog.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
	PMEMlogpool *p = strcmp(argv[1], "create") == 0 ?
		pmemlog_create(argv[2], 16 << 20, 0600) : pmemlog_open(argv[2]);
	if (p == NULL) {
		printf("open failed: errno %d: %s\n", errno, pmemlog_errormsg());
		return 2;
	}
	if (argc > 3 && argv[3][0] != 0 && pmemlog_append(p, argv[3], strlen(argv[3])) != 0)
		return 4;
	printf("tell %lld\n", (long long)pmemlog_tell(p));
	fflush(stdout);
	int rc = 0;
	if (argc > 4)
		rc = system(argv[4]);
	pmemlog_close(p);
	return rc == 0 ? 0 : 5;
}
`

func TestInteropCOpensGoLogPool(t *testing.T) {
	needPmempool(t)
	prog := buildC(t, logProg, "pmemlog")
	path := pmemtest.Path(t, "log")
	p, err := Create(path, 16<<20, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeEmptyLog(p)
	// While Go holds the pool, C cannot open it.
	out, err := exec.Command(prog, "open", path).CombinedOutput()
	if err == nil || !strings.Contains(string(out), fmt.Sprintf("errno %d", 11)) {
		t.Fatalf("C opened a pool Go holds: %v\n%s", err, out)
	}
	// A copy taken now is the pool as a crash would leave it: C reports
	// the dirty shutdown state, finds it correct and opens the pool.
	crashed := path + ".crashed"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crashed, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	p.Close()
	out, err = exec.Command("pmempool", "info", crashed).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Last shutdown            : dirty") {
		t.Fatalf("pmempool info of a Go pool left open: %v\n%s", err, out)
	}
	out, err = exec.Command("pmempool", "check", "-v", crashed).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "shutdown state correct") {
		t.Fatalf("pmempool check of a Go pool left open: %v\n%s", err, out)
	}
	if out, err := exec.Command(prog, "open", crashed).CombinedOutput(); err != nil {
		t.Fatalf("C open of a Go pool left open: %v\n%s", err, out)
	}
	out, err = exec.Command(prog, "open", path, "hello").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "tell 5") {
		t.Fatalf("C open of a Go pool: %v\n%s", err, out)
	}
	// And back: Go opens the pool C has used.
	p, err = Open(path, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}

// TestInteropLockAndSDSWhileCHoldsPool: C creates a log pool and, while it
// holds it open, the test binary runs as a child that must get ErrLocked,
// and the pool file (copied at that moment, as after a crash) shows C's
// dirty SDS, which Go then opens (same device, no ADR failure).
func TestInteropLockAndSDSWhileCHoldsPool(t *testing.T) {
	prog := buildC(t, logProg, "pmemlog")
	dir := pmemtest.Dir(t)
	path := filepath.Join(dir, "log")
	crashed := filepath.Join(dir, "crashed")
	child := fmt.Sprintf("cp %s %s && GOPMDK_POOL_LOCK_CHILD=%s %s -test.run='^TestLockAcrossProcesses$'; test $? -eq 3",
		path, crashed, path, os.Args[0])
	out, err := exec.Command(prog, "create", path, "", child).CombinedOutput()
	if err != nil {
		t.Fatalf("Go child was not refused while C held the pool: %v\n%s", err, out)
	}
	h := readHeader(t, crashed)
	if h.SDS.Dirty != 1 || !h.SDS.ChecksumOK() {
		t.Fatalf("C pool while open: SDS %+v, want dirty with a valid checksum", h.SDS)
	}
	p, err := Open(crashed, Log, nil)
	if err != nil {
		t.Fatalf("Go open of a C pool left dirty: %v", err)
	}
	p.Close()
	if h := readHeader(t, crashed); !h.SDS.IsZero() {
		t.Fatalf("SDS after Go reopen and close: %+v, want reinitialised to zero", h.SDS)
	}
}

// TestInteropCorruptionRefusedByC corrupts a C-made log pool field by field
// (headerCorruptions) and checks that libpmemlog refuses every file Go
// refuses: Go is no stricter than C. A non-zero unused area with a valid
// checksum is opened by both.
func TestInteropCorruptionRefusedByC(t *testing.T) {
	prog := buildC(t, logProg, "pmemlog")
	base, err := os.ReadFile(cPool(t, "log", "-s", "8M"))
	if err != nil {
		t.Fatal(err)
	}
	dir := pmemtest.Dir(t)
	for _, c := range headerCorruptions {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(base)
			c.mutate(b)
			if c.rechksum {
				le.PutUint64(b[offChecksum:], headerChecksum(b, le.Uint32(b[offIncompat:])))
			}
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(path, Log, nil); err == nil {
				t.Fatal("Go opened it")
			}
			out, err := exec.Command(prog, "open", path).CombinedOutput()
			if err == nil {
				t.Errorf("libpmemlog opened a header Go refuses (%s): %s", c.field, out)
			}
			t.Logf("libpmemlog: %s", bytes.TrimSpace(out))
		})
	}
	t.Run("unused", func(t *testing.T) {
		b := bytes.Clone(base)
		b[offUnused+100] = 1
		le.PutUint64(b[offChecksum:], headerChecksum(b, le.Uint32(b[offIncompat:])))
		path := filepath.Join(dir, "unused")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(prog, "open", path).CombinedOutput(); err != nil {
			t.Fatalf("libpmemlog refuses a non-zero unused area (Validate accepts it): %v\n%s", err, out)
		}
		p, err := Open(path, Log, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
	})
}

// TestInteropGoHeadersOfEveryKind: pmempool info reads the header of a
// Go-made pool of each kind (type-specific part left empty) as valid.
func TestInteropGoHeadersOfEveryKind(t *testing.T) {
	pmempool := needPmempool(t)
	for _, k := range []Kind{Obj, Blk, Log} {
		t.Run(k.Signature, func(t *testing.T) {
			path := pmemtest.Path(t, "pool")
			p, err := Create(path, max(k.MinSize, 16<<20), 0o600, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := p.Header()
			p.Close()
			out, _ := exec.Command(pmempool, "info", path).CombinedOutput()
			for _, want := range []string{
				"Signature                : " + k.Signature,
				fmt.Sprintf("Major                    : %d", k.Major),
				"Mandatory features       : 0x6 [CKSUM_2K, SHUTDOWN_STATE]",
				fmt.Sprintf("Checksum                 : %#x [OK]", h.Checksum),
				"Last shutdown            : clean",
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("pmempool info lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestInteropROCompat: a pool with an unknown ro-compat feature opens
// read-only in both C (appends fail) and Go.
func TestInteropROCompat(t *testing.T) {
	prog := buildC(t, logProg, "pmemlog")
	path := pmemtest.Path(t, "log")
	p, err := Create(path, 16<<20, 0o600, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeEmptyLog(p)
	h := p.Header()
	h.ROCompat = 0x10
	if err := p.WriteHeader(&h); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if out, err := exec.Command(prog, "open", path).CombinedOutput(); err != nil {
		t.Fatalf("C open: %v\n%s", err, out)
	}
	var ee *exec.ExitError
	if out, err := exec.Command(prog, "open", path, "data").CombinedOutput(); !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Fatalf("C append to a read-only pool: %v\n%s", err, out)
	}
	p, err = Open(path, Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.ReadOnly() {
		t.Fatal("Go did not force read-only")
	}
}
