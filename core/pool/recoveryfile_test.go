package pool

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestBadBlockRecoveryFile: a pool with CHECK_BAD_BLOCKS beside a bad
// block recovery file of C's sync (<pool>_r<R>_p<P>_badblocks.txt) does
// not open, IgnoreBadBlocks or not; once the file is gone it opens; a
// pool without the feature ignores such files.
func TestBadBlockRecoveryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pool.obj")
	p, err := Create(path, testSize, 0o600, Obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	rec := recoveryFileName(path, 0, 0)
	if err := os.WriteFile(rec, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*Options{nil, {IgnoreBadBlocks: true}} {
		if _, err := Open(path, Obj, o); !errors.Is(err, ErrBadBlockRecoveryFile) || !errors.Is(err, ErrBadBlocks) {
			t.Fatalf("open beside %s: %v, want ErrBadBlockRecoveryFile", rec, err)
		}
	}
	os.Remove(rec)
	if p, err = Open(path, Obj, nil); err != nil {
		t.Fatalf("open once the file is gone: %v", err)
	}
	p.Close()

	noCheck := Log
	noCheck.Compat = 0
	logPath := filepath.Join(dir, "pool.log")
	if p, err = Create(logPath, testSize, 0o600, noCheck, nil); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := os.WriteFile(recoveryFileName(logPath, 0, 0), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err = Open(logPath, noCheck, nil); err != nil {
		t.Fatalf("a pool without CHECK_BAD_BLOCKS: %v", err)
	}
	p.Close()
}

// TestInteropBadBlockRecoveryFile: a recovery file beside the second part
// of a C-made obj poolset makes C's pmempool info and our open refuse
// it; without it both open it.
func TestInteropBadBlockRecoveryFile(t *testing.T) {
	pmempool := needPmempool(t)
	dir := t.TempDir()
	set := pmemtest.Poolset(t, dir, "c.set", "8M {dir}/p0", "8M {dir}/p1")
	if out, err := exec.Command(pmempool, "create", "obj", set).CombinedOutput(); err != nil {
		t.Fatalf("pmempool create: %v\n%s", err, out)
	}
	rec := recoveryFileName(set, 0, 1)
	if err := os.WriteFile(rec, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pmempool, "info", set).CombinedOutput(); err == nil {
		t.Fatalf("C's pmempool info opened the poolset beside %s:\n%s", rec, out)
	}
	if _, err := Open(set, Obj, nil); !errors.Is(err, ErrBadBlockRecoveryFile) {
		t.Fatalf("open beside %s: %v, want ErrBadBlockRecoveryFile", rec, err)
	}
	os.Remove(rec)
	if out, err := exec.Command(pmempool, "info", set).CombinedOutput(); err != nil {
		t.Fatalf("C's pmempool info without the recovery file: %v\n%s", err, out)
	}
	p, err := Open(set, Obj, nil)
	if err != nil {
		t.Fatalf("open without the recovery file: %v", err)
	}
	p.Close()
}
