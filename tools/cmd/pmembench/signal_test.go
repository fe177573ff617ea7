package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
)

// TestMain runs the test binary as pmembench itself when asked, so that
// the signal tests can start it as a process.
func TestMain(m *testing.M) {
	if os.Getenv("PMEMBENCH_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestInterruptRemovesPools: SIGINT or SIGTERM during a run stops it, exit
// 130, with its pool directory removed (in /dev/shm it would hold RAM).
func TestInterruptRemovesPools(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := pmemtest.Dir(t)
			cmd := exec.Command(os.Args[0], "-run", "^memcpy-persist$", "-sizes", "64", "-reps", "1000",
				"-duration", "50ms", "-no-c", "-dir", dir)
			cmd.Env = append(os.Environ(), "PMEMBENCH_TEST_AS_MAIN=1")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// The machine description is printed once the pool
			// directory exists; the run is under way.
			sc := bufio.NewScanner(out)
			for sc.Scan() && !strings.HasPrefix(sc.Text(), "machine:") {
			}
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "pmembench-") {
				t.Fatalf("pool directory while running: %v, %v", entries, err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Errorf("exit: %v, want code 130; stderr %q", err, stderr.String())
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
				t.Errorf("left behind after %v: %v, %v", sig, entries, err)
			}
		})
	}
}
