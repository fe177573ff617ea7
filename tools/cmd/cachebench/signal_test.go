package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestMain runs the test binary as cachebench itself when asked, so that
// the signal test can start it as a process.
func TestMain(m *testing.M) {
	if os.Getenv("CACHEBENCH_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestInterruptRemovesDir: SIGINT or SIGTERM during a run stops it, exit
// 130, with its work directory (vmemcache's file system home) removed.
func TestInterruptRemovesDir(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-size", "2M", "-heapsize", "2M", "-value", "200",
				"-reps", "100000", "-duration", "20ms", "-dir", dir)
			cmd.Env = append(os.Environ(), "CACHEBENCH_TEST_AS_MAIN=1")
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
			// The throughput table's header is printed once the caches
			// exist: the run is under way.
			sc := bufio.NewScanner(out)
			for sc.Scan() && !strings.HasPrefix(sc.Text(), "op ") {
			}
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "cachebench-") {
				t.Fatalf("work directory while running: %v, %v", entries, err)
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
