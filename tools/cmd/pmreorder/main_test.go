package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/crashsim/examples"
	pmemlog "github.com/gopmdk/pmdk/log"
	"github.com/gopmdk/pmdk/tools/pmreorder"
)

// checkerEnv makes the test binary the checker program: it checks the
// record example's invariant on the image file named by its last argument.
const checkerEnv = "GOPMDK_PMREORDER_TEST_CHECKER"

func TestMain(m *testing.M) {
	if os.Getenv(checkerEnv) != "" {
		os.Exit(checkerMain(os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

func checkerMain(path string) int {
	img, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	d, err := crashsim.NewDeviceFromImage(img)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer d.Close()
	if err := examples.Record(examples.Correct).Check(d.Map(), crashsim.Crash{}); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// writeLog records w and writes its store log to a file.
func writeLog(t *testing.T, w crashsim.Workload) string {
	t.Helper()
	l, err := pmreorder.Record(w)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "store.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := l.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// The record example with a missing fence, replayed with the test binary
// as the checker program: caught by ReorderFull (exit status 1, the image
// saved, the log at info level written), passed by NoReorderDoCheck; the
// correct version passes.
func TestCheckerProgram(t *testing.T) {
	t.Setenv(checkerEnv, "1")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	broken := writeLog(t, examples.Record(examples.MissingFence))
	saved := filepath.Join(dir, "bad.img")
	outLog := filepath.Join(dir, "out.log")
	code, out, errOut := runCLI(t, "-l", broken, "-r", "ReorderFull", "-o", outLog, "-e", "info",
		"--save-image", saved, "-p", self)
	if code != exitInconsistent || !strings.Contains(out, "inconsistent image at fence 1 (engine ReorderFull)") ||
		!strings.Contains(out, "flagged valid") {
		t.Fatalf("missing fence, ReorderFull: exit %d\n%s%s", code, out, errOut)
	}
	if img, err := os.ReadFile(saved); err != nil || len(img) != examples.RecordSize {
		t.Errorf("saved image: %d bytes, %v", len(img), err)
	}
	if b, err := os.ReadFile(outLog); err != nil || !strings.Contains(string(b), "msg=fence") || !strings.Contains(string(b), "msg=inconsistent") {
		t.Errorf("output log: %v\n%s", err, b)
	}

	if code, out, errOut := runCLI(t, "-l", broken, "-r", "NoReorderDoCheck", "-p", self); code != exitConsistent || !strings.HasPrefix(out, "consistent: ") {
		t.Errorf("missing fence, NoReorderDoCheck: exit %d\n%s%s", code, out, errOut)
	}
	correct := writeLog(t, examples.Record(examples.Correct))
	if code, out, errOut := runCLI(t, "--logfile", correct, "--default-engine", "ReorderFull", "--path", self); code != exitConsistent {
		t.Errorf("correct, ReorderFull: exit %d\n%s%s", code, out, errOut)
	}
	// Checker arguments after the options come before the image file.
	if code, out, errOut := runCLI(t, "-l", broken, "-r", "ReorderReverseAccumulative", "-p", self, "--", "-extra"); code != exitInconsistent {
		t.Errorf("with checker arguments: exit %d\n%s%s", code, out, errOut)
	}
}

// markedLog records a missing fence inside a region named REGION.
func markedLog(t *testing.T) string {
	w := examples.Record(examples.MissingFence)
	run := w.Run
	w.Run = func(m *core.Map) error {
		crashsim.Mark(m, "REGION.BEGIN")
		err := run(m)
		crashsim.Mark(m, "REGION.END")
		return err
	}
	return writeLog(t, w)
}

// -x gives a marked region its engine, from NAME=Engine pairs or a JSON
// file.
func TestMarkers(t *testing.T) {
	t.Setenv(checkerEnv, "1")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l := markedLog(t)
	cfg := filepath.Join(t.TempDir(), "markers.json")
	if err := os.WriteFile(cfg, []byte(`{"REGION": "ReorderFull"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, x := range []string{"REGION=ReorderFull", cfg} {
		if code, out, errOut := runCLI(t, "-l", l, "-x", x, "-p", self); code != exitInconsistent || !strings.Contains(out, "in REGION") {
			t.Errorf("-x %s: exit %d\n%s%s", x, code, out, errOut)
		}
	}
	if code, out, _ := runCLI(t, "-l", l, "-p", self); code != exitConsistent {
		t.Errorf("no -x (NoReorderNoCheck): exit %d\n%s", code, out)
	}
}

// Bad usage exits with status 2 and says why.
func TestUsage(t *testing.T) {
	l := markedLog(t)
	garbage := filepath.Join(t.TempDir(), "garbage.log")
	if err := os.WriteFile(garbage, []byte("not a store log"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "store log is required"},
		{[]string{"-l", l, "-r", "Sometimes"}, "unknown engine"},
		{[]string{"-l", l, "-c", "lib"}, "only prog"},
		{[]string{"-l", l, "-n", "fn"}, "not supported"},
		{[]string{"-l", l, "-e", "loud"}, "output level"},
		{[]string{"-l", l, "-x", "REGION"}, "NAME=Engine"},
		{[]string{"-l", garbage}, "malformed store log"},
		{[]string{"-l", l, "-r", "ReorderFull"}, "no checker"},
		{[]string{"-l", l, "extra"}, "without a checker"},
		{[]string{"-l", l, "-p", "/nonexistent/checker", "-r", "NoReorderDoCheck"}, "checker failed"},
		{[]string{"--bogus"}, "unknown flag"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != exitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, %q: want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, out, _ := runCLI(t, "-h"); code != 0 || !strings.Contains(out, "--extended-macros") {
		t.Errorf("-h: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, "-v"); code != 0 || !strings.Contains(out, "1.12.1") {
		t.Errorf("-v: exit %d\n%s", code, out)
	}
}

// C PMDK's pmempool check as the checker program, on a recording of log
// appends: every image is a consistent log pool.
func TestPmempoolCheck(t *testing.T) {
	pmempool, err := exec.LookPath("pmempool")
	if err != nil {
		t.Skip("C PMDK's pmempool is not installed")
	}
	view := func(m *core.Map) *core.Map { return core.NewMemoryMap(m.Bytes(), m.Granularity(), m.Persister(), nil) }
	w := crashsim.Workload{
		Size: pmemlog.MinPoolSize,
		Setup: func(m *core.Map) error {
			l, err := pmemlog.CreateOnMap(view(m), nil)
			if err != nil {
				return err
			}
			return l.Close()
		},
		Run: func(m *core.Map) error {
			l, err := pmemlog.OpenOnMap(view(m), nil)
			if err != nil {
				return err
			}
			for _, n := range []int{10, 100, 3} {
				if err := l.Append(bytes.Repeat([]byte{'x'}, n)); err != nil {
					return err
				}
			}
			return l.Close()
		},
	}
	l := writeLog(t, w)
	code, out, errOut := runCLI(t, "-l", l, "-r", "ReorderReverseAccumulative", "-p", pmempool, "check")
	if code != exitConsistent {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))
	// A log pool whose header is torn is not: pmempool check says so.
	bad := crashsim.StoreLog{Size: pmemlog.MinPoolSize}
	f, err := os.Open(l)
	if err != nil {
		t.Fatal(err)
	}
	full, err := crashsim.ReadStoreLog(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	bad.Base = full.Base
	bad.Ops = []crashsim.Op{{Kind: crashsim.OpStore, Off: 0, Data: []byte("XXXXXXXX")}, {Kind: crashsim.OpFence}}
	badPath := filepath.Join(t.TempDir(), "bad.log")
	enc, err := bad.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badPath, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "-l", badPath, "-r", "NoReorderDoCheck", "-p", pmempool, "check"); code != exitInconsistent {
		t.Fatalf("torn signature: exit %d\n%s%s", code, out, errOut)
	}
}
