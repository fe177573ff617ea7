package main

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/blk"
	"github.com/gopmdk/pmdk/core/pmemtest"
	pmemlog "github.com/gopmdk/pmdk/log"
)

// runCmd runs our pmempool with args and stdin and returns the exit code,
// stdout and stderr. outTTY pretends stdout is a terminal.
func runCmd(t *testing.T, stdin string, outTTY bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{in: bufio.NewReader(strings.NewReader(stdin)), out: &out, err: &errb, outTTY: outTTY}
	code := run(e, args)
	return code, out.String(), errb.String()
}

func cTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("pmempool")
	if err != nil {
		t.Skip("C PMDK's pmempool is not installed (apt install pmdk-tools): interop test skipped")
	}
	return p
}

// cRun runs C's pmempool and returns its exit code and combined output.
func cRun(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(cTool(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// cPools makes a log and a blk pool with C's libraries (a gcc-built
// program): appends of varied sizes, written, zeroed and error blocks.
func cPools(t *testing.T) (logPath, blkPath string) {
	t.Helper()
	bin := cProgram(t, `
#include <libpmemlog.h>
#include <libpmemblk.h>
#include <string.h>
#include <stdio.h>
int main(int argc, char **argv) {
	PMEMlogpool *l = pmemlog_create(argv[1], 8 << 20, 0644);
	if (!l) { perror("log"); return 1; }
	for (int i = 0; i < 300; i++) {
		char b[200];
		memset(b, 'a' + i % 26, sizeof b);
		if (pmemlog_append(l, b, 1 + (i * 37) % 200)) { perror("append"); return 1; }
	}
	pmemlog_close(l);
	PMEMblkpool *p = pmemblk_create(argv[2], 512, 32 << 20, 0644);
	if (!p) { perror("blk"); return 1; }
	char blk[512];
	for (int i = 0; i < 40; i++) {
		memset(blk, i, sizeof blk);
		snprintf(blk, 32, "block %d", i);
		if (pmemblk_write(p, blk, i * 3)) { perror("write"); return 1; }
	}
	pmemblk_set_zero(p, 3);
	pmemblk_close(p);
	return 0;
}
`, "-lpmemlog", "-lpmemblk")
	logPath, blkPath = pmemtest.Path(t, "c.log"), pmemtest.Path(t, "c.blk")
	if out, err := exec.Command(bin, logPath, blkPath).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return logPath, blkPath
}

// cProgram builds the C program src with gcc, linked with libs, and
// returns its path; without C's pmempool, gcc or the library headers the
// test is skipped.
func cProgram(t *testing.T, src string, libs ...string) string {
	t.Helper()
	cTool(t)
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed: interop test skipped")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "prog.c")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "prog")
	if out, err := exec.Command(gcc, append([]string{"-o", bin, file}, libs...)...).CombinedOutput(); err != nil {
		t.Skipf("cannot build the C pool maker (%v headers missing?): %v\n%s", libs, err, out)
	}
	return bin
}

// TestInteropInfo: our info prints what C's prints for C-made pools.
func TestInteropInfo(t *testing.T) {
	lp, bp := cPools(t)
	for _, c := range []struct {
		pool string
		args []string
	}{
		{lp, nil}, {bp, nil}, {lp, []string{"-d"}}, {lp, []string{"-d", "-r", "10-300,2000-"}},
		{lp, []string{"-d", "-w", "100"}}, {lp, []string{"-d", "-w", "64", "-r", "3-5,90-"}},
		{bp, []string{"-m"}}, {bp, []string{"-m", "-r", "0-20,100-120"}}, {bp, []string{"-m", "-z"}},
		{bp, []string{"-m", "-u"}}, {bp, []string{"-m", "-e", "-z"}}, {bp, []string{"-g"}}, {bp, []string{"-B"}},
		{bp, []string{"-mgB", "-r", "5-9"}}, {bp, []string{"-d", "-r", "0-12"}}, {bp, []string{"-d", "-u", "-r", "0-200"}},
		{bp, []string{"-dm", "-z", "-r", "0-50,3000-3010"}}, {bp, []string{"-s"}}, {bp, []string{"-s", "-z"}}, {bp, []string{"-u"}}, {bp, []string{"-r", "1"}}, {lp, []string{"-r", "1"}},
		{bp, []string{"-ms", "-r", "0-9"}}, {lp, []string{"-s"}}, {lp, []string{"-sd", "-r", "0-99"}},
		{lp, []string{"-x"}}, {bp, []string{"-x"}}, {bp, []string{"-xB"}}, {lp, []string{"-ns"}}, {bp, []string{"-nB"}},
	} {
		t.Run(filepath.Ext(c.pool)+strings.Join(c.args, ""), func(t *testing.T) {
			args := append(append([]string{"info"}, c.args...), c.pool)
			wantCode, want := cRun(t, "", args...)
			code, got, stderr := runCmd(t, "", false, args...)
			if got, want := code, wantCode; got != want {
				t.Fatalf("%v: code = %v, want %v", stderr, got, want)
			}
			if got, want := got+stderr, want; got != want {
				t.Errorf("got+stderr = %v, want %v", got, want)
			}
		})
	}
	code, got, _ := runCmd(t, "", false, "info", "--json", bp)
	if got, want := code, 0; got != want {
		t.Fatalf("code = %v, want %v", got, want)
	}
	if !strings.Contains(got, `"external_lbasize": 512`) {
		t.Errorf("%q does not contain %q", got, `"external_lbasize": 512`)
	}
}

// TestInteropDump: the same bytes as C's dump, hex and binary, for several
// ranges and chunk sizes, on the same pools.
func TestInteropDump(t *testing.T) {
	lp, bp := cPools(t)
	cases := []struct {
		pool string
		args []string
	}{
		{lp, nil}, {lp, []string{"-b"}}, {lp, []string{"-r", "100-2000"}}, {lp, []string{"-r", "5000-,10-20,1-3"}},
		{lp, []string{"-c", "64"}}, {lp, []string{"-c", "100", "-r", "3-7,40-"}}, {lp, []string{"-b", "-c", "33", "-r", "-9"}},
		{lp, []string{"-r", "1K-2K"}},
		{bp, nil}, {bp, []string{"-b"}}, {bp, []string{"-r", "0-10"}}, {bp, []string{"-r", "90-100,3,7-8,200-"}},
		{bp, []string{"-b", "-r", "1-9"}}, {bp, []string{"-r", "1-2,3-4,9"}}, {bp, []string{"-r", "99999999"}},
		{lp, []string{"-c", "64", "-r", "1000000"}},
	}
	for _, c := range cases {
		t.Run(filepath.Ext(c.pool)+strings.Join(c.args, ""), func(t *testing.T) {
			args := append(append([]string{"dump"}, c.args...), c.pool)
			wantCode, want := cRun(t, "", args...)
			code, got, stderr := runCmd(t, "", false, args...)
			if got, want := code, wantCode; got != want {
				t.Errorf("%v: code = %v, want %v", stderr, got, want)
			}
			if wantCode != 0 {
				if got, want := got+stderr, want; got != want {
					t.Errorf("got+stderr = %v, want %v", got, want)
				}
				return
			}
			if want != got {
				t.Errorf("dump %v differs from C's: %d vs %d bytes", c.args, len(got), len(want))
			}
		})
	}
	// -o writes the same bytes to a file.
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCmd(t, "", false, "dump", "-b", "-o", out, lp)
	if got, want := code, 0; got != want {
		t.Fatalf("%v: code = %v, want %v", stderr, got, want)
	}
	_, want := cRun(t, "", "dump", "-b", lp)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want != string(got) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestInteropCreate: pools our create makes are consistent for C's check
// and open with C's tools.
func TestInteropCreate(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	for _, args := range [][]string{
		{"log", "l1"}, {"-s", "16M", "log", "l2"}, {"blk", "512", "b1"}, {"-w", "-s", "40M", "blk", "4096", "b2"},
		{"-m", "0600", "blk", "520", "b3"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			p := filepath.Join(dir, args[len(args)-1])
			a := append(append([]string{"create"}, args[:len(args)-1]...), p)
			code, _, stderr := runCmd(t, "", false, a...)
			if got, want := code, 0; got != want {
				t.Fatalf("%v: code = %v, want %v", stderr, got, want)
			}
			c, out := cRun(t, "", "check", "-v", p)
			if got, want := c, 0; got != want {
				t.Errorf("%v: c = %v, want %v", out, got, want)
			}
			if !strings.Contains(out, "consistent") {
				t.Errorf("%q does not contain %q", out, "consistent")
			}
			c, out = cRun(t, "", "info", p)
			if got, want := c, 0; got != want {
				t.Errorf("%v: c = %v, want %v", out, got, want)
			}
		})
	}
	// Refusals: the same message and exit code as C's.
	for _, args := range [][]string{
		{"log", "x", "-s", "1M"}, {"blk", "0", "x"}, {"blk", "512", "x", "-s", "1M"}, {"foo", "x"}, {"log", "l1"},
	} {
		p := filepath.Join(dir, args[len(args)-1])
		if args[len(args)-1] != "l1" {
			p = filepath.Join(dir, "x")
			for i, a := range args {
				if a == "x" {
					args[i] = p
				}
			}
		} else {
			args[len(args)-1] = p
		}
		wantCode, want := cRun(t, "", append([]string{"create"}, args...)...)
		code, out, stderr := runCmd(t, "", false, append([]string{"create"}, args...)...)
		if got, want := code, wantCode; got != want {
			t.Errorf("%v: code = %v, want %v", args, got, want)
		}
		if got, want := out+stderr, want; got != want {
			t.Errorf("%v: out+stderr = %v, want %v", args, got, want)
		}
	}
	// --inherit copies type, size and block size.
	code, _, stderr := runCmd(t, "", false, "create", "-i", filepath.Join(dir, "b2"), filepath.Join(dir, "b4"))
	if got, want := code, 0; got != want {
		t.Fatalf("%v: code = %v, want %v", stderr, got, want)
	}
	_, a := cRun(t, "", "info", filepath.Join(dir, "b4"))
	if !strings.Contains(a, "Block size               : 4096") {
		t.Errorf("%q does not contain %q", a, "Block size               : 4096")
	}
	if !strings.Contains(a, "size                     : 41943040") {
		t.Errorf("%q does not contain %q", a, "size                     : 41943040")
	}
}

// TestInteropCheckCommand: the command's output and exit code are C's on
// damaged pools, checking and repairing.
func TestInteropCheckCommand(t *testing.T) {
	cTool(t)
	dir := pmemtest.Dir(t)
	tpl := filepath.Join(dir, "tpl")
	l, err := pmemlog.Create(tpl, 8<<20, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := os.ReadFile(tpl)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), img...)
	copy(bad[4096+16:], []byte{0xff, 0xff, 0xff, 0xff, 0xff}) // write_offset
	for _, c := range []struct {
		name, stdin string
		args        []string
	}{
		{"check", "", nil}, {"check-v", "", []string{"-v"}}, {"check-q", "", []string{"-q"}},
		{"repair-no", "n\n", []string{"-v", "-r"}}, {"repair-eof", "", []string{"-r"}},
		{"repair-yes-answer", "y\n", []string{"-v", "-r"}}, {"repair-y", "", []string{"-ry"}},
		{"dry-run", "", []string{"-vryd"}}, {"dry-run-no-r", "", []string{"-d"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "pool")
			if err := os.WriteFile(p, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			a := append(append([]string{"check"}, c.args...), p)
			wantCode, want := cRun(t, c.stdin, a...)
			after, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			code, got, stderr := runCmd(t, c.stdin, false, a...)
			if got, want := code, wantCode; got != want {
				t.Errorf("code = %v, want %v", got, want)
			}
			// C writes stderr unbuffered, before its stdout: compare each.
			const empty = "error: input is empty\n"
			if strings.Contains(want, empty) {
				want = strings.Replace(want, empty, "", 1)
				if got, want := stderr, empty; got != want {
					t.Errorf("stderr = %v, want %v", got, want)
				}
				stderr = ""
			}
			if got, want := got+stderr, want; got != want {
				t.Errorf("got+stderr = %v, want %v", got, want)
			}
			ours, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, ours) {
				t.Errorf("the pool differs from C's after %v", c.args)
			}
		})
	}
}

// TestInteropFeature: our feature changes are what C's feature reads, and
// the pools stay consistent for C's check.
func TestInteropFeature(t *testing.T) {
	cTool(t)
	p := pmemtest.Path(t, "f.log")
	code, _, _ := runCmd(t, "", false, "create", "log", p)
	if got, want := code, 0; got != want {
		t.Fatalf("code = %v, want %v", got, want)
	}
	steps := []struct {
		args []string
		code int
	}{
		{[]string{"-d", "CKSUM_2K"}, 1}, // SHUTDOWN_STATE needs it
		{[]string{"-d", "SHUTDOWN_STATE"}, 0},
		{[]string{"-d", "SHUTDOWN_STATE"}, 0}, // already off
		{[]string{"-d", "CKSUM_2K"}, 0},
		{[]string{"-e", "SHUTDOWN_STATE"}, 1}, // needs CKSUM_2K
		{[]string{"-e", "CKSUM_2K"}, 0},
		{[]string{"-e", "SHUTDOWN_STATE"}, 0},
		{[]string{"-e", "SINGLEHDR"}, 1},
		{[]string{"-d", "CHECK_BAD_BLOCKS"}, 0},
		{[]string{"-e", "CHECK_BAD_BLOCKS"}, 0},
	}
	for _, s := range steps {
		code, _, stderr := runCmd(t, "", false, append(append([]string{"feature"}, s.args...), p)...)
		if got, want := code, s.code; got != want {
			t.Errorf("%v: %s: code = %v, want %v", s.args, stderr, got, want)
		}
		for _, f := range []string{"SINGLEHDR", "CKSUM_2K", "SHUTDOWN_STATE", "CHECK_BAD_BLOCKS"} {
			_, want := cRun(t, "", "feature", "-q", f, p)
			_, got, _ := runCmd(t, "", false, "feature", "-q", f, p)
			if got != want {
				t.Errorf("after %v, query %s: got = %v, want %v", s.args, f, got, want)
			}
		}
		c, out := cRun(t, "", "check", p)
		if got, want := c, 0; got != want {
			t.Errorf("after %v: %s: c = %v, want %v", s.args, out, got, want)
		}
	}
}

// TestCheckProgress: the bar is drawn only when stdout is a terminal.
func TestCheckProgress(t *testing.T) {
	p := pmemtest.Path(t, "p.blk")
	b, err := blk.Create(p, 64<<20, 0o644, &blk.Options{BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteBlock(make([]byte, 512), 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "", false, "check", "-v", p)
	if got, want := code, 0; got != want {
		t.Fatalf("code = %v, want %v", got, want)
	}
	if strings.Contains(out, "\r") {
		t.Errorf("progress drawn on a non-terminal: %q contains %q", out, "\r")
	}
	if strings.Contains(out, "#") {
		t.Errorf("%q contains %q", out, "#")
	}
	code, out, _ = runCmd(t, "", true, "check", "-v", p)
	if got, want := code, 0; got != want {
		t.Fatalf("code = %v, want %v", got, want)
	}
	if !strings.Contains(out, "] 100%") {
		t.Errorf("%q does not contain %q", out, "] 100%")
	}
	if !strings.Contains(out, ": consistent\n") {
		t.Errorf("%q does not contain %q", out, ": consistent\n")
	}
}

func TestUsageAndRm(t *testing.T) {
	code, _, _ := runCmd(t, "", false)
	if got, want := code, 0; got != want { // bare pmempool: usage, exit 0, as C
		t.Errorf("code = %v, want %v", got, want)
	}
	code, out, _ := runCmd(t, "", false, "--help")
	if got, want := code, 0; got != want {
		t.Errorf("code = %v, want %v", got, want)
	}
	if !strings.Contains(out, "check") {
		t.Errorf("%q does not contain %q", out, "check")
	}
	code, _, _ = runCmd(t, "", false, "frobnicate")
	if got, want := code, 1; got != want {
		t.Errorf("code = %v, want %v", got, want)
	}
	code, _, _ = runCmd(t, "", false, "check")
	if got, want := code, 1; got != want {
		t.Errorf("code = %v, want %v", got, want)
	}

	p := pmemtest.Path(t, "rm.log")
	l, err := pmemlog.Create(p, 2<<20, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "n\n", false, "rm", "-i", p)
	if got, want := code, 0; got != want {
		t.Errorf("code = %v, want %v", got, want)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("answered no, yet: %v", err)
	}
	if got, want := out, "remove file '"+p+"' ? [Y/n] n\n"; got != want {
		t.Errorf("out = %v, want %v", got, want)
	}
	if tool, err := exec.LookPath("pmempool"); err == nil {
		cmd := exec.Command(tool, "rm", "-i", p)
		cmd.Stdin = strings.NewReader("n\n")
		cout, _ := cmd.CombinedOutput()
		if got, want := out, string(cout); got != want {
			t.Errorf("C's prompt: out = %v, want %v", got, want)
		}
		cmd = exec.Command(tool, "rm", p+".none")
		cout, _ = cmd.CombinedOutput()
		_, _, stderr := runCmd(t, "", false, "rm", p+".none")
		if got, want := stderr, string(cout); got != want {
			t.Errorf("C's error: stderr = %v, want %v", got, want)
		}
	}
	code, _, _ = runCmd(t, "", false, "rm", p)
	if got, want := code, 0; got != want {
		t.Errorf("code = %v, want %v", got, want)
	}
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed file: stat says %v", err)
	}
	code, _, _ = runCmd(t, "", false, "rm", p)
	if got, want := code, 1; got != want {
		t.Errorf("code = %v, want %v", got, want)
	}
	code, _, _ = runCmd(t, "", false, "rm", "-f", p)
	if got, want := code, 0; got != want {
		t.Errorf("code = %v, want %v", got, want)
	}
}

// TestInteropMissingFile: the errors and exit codes of each command on a
// file that does not exist are C's.
func TestInteropMissingFile(t *testing.T) {
	cTool(t)
	p := filepath.Join(t.TempDir(), "nope")
	for _, args := range [][]string{{"check", p}, {"check", "-r", p}, {"info", p}, {"rm", p}} {
		wantCode, want := cRun(t, "", args...)
		code, out, stderr := runCmd(t, "", false, args...)
		if got, want := code, wantCode; got != want {
			t.Errorf("%v: code = %v, want %v", args, got, want)
		}
		if got, want := out+stderr, want; got != want {
			t.Errorf("%v: out+stderr = %v, want %v", args, got, want)
		}
	}
}
