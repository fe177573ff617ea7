// Package cmdtest holds what the commands' tests share: running the test
// binary as the command itself and interrupting it.
package cmdtest

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// InterruptRemovesDir starts the test binary as the command (env set, the
// command's TestMain runs main when it sees it) with args, waits for a
// stdout line starting with ready, checks that dir then holds one entry
// named with prefix, sends SIGINT and SIGTERM (one run each), and checks
// that the command exits 130 and leaves dir empty: its work directory, in
// /dev/shm RAM, must go on every exit path.
func InterruptRemovesDir(t *testing.T, env string, args []string, dir func(*testing.T) string, ready, prefix string) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			d := dir(t)
			cmd := exec.Command(os.Args[0], append(args, "-dir", d)...)
			cmd.Env = append(os.Environ(), env)
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
			sc := bufio.NewScanner(out)
			for sc.Scan() && !strings.HasPrefix(sc.Text(), ready) {
			}
			entries, err := os.ReadDir(d)
			if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), prefix) {
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
			if entries, err := os.ReadDir(d); err != nil || len(entries) != 0 {
				t.Errorf("left behind after %v: %v, %v", sig, entries, err)
			}
		})
	}
}
