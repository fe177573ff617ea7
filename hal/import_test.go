package hal_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopmdk/pmdk/hal/cpmem"
)

// initOnlyEnv makes the test binary exit in TestMain, before any test: run
// that way it has done nothing but its package initialisers.
const initOnlyEnv = "GOPMDK_HAL_INIT_ONLY"

func TestMain(m *testing.M) {
	if os.Getenv(initOnlyEnv) == "1" {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestImportDoesNoIO runs this test binary's initialisers under strace:
// importing hal must not read sysfs or /proc/cpuinfo (features and the
// kernel set are chosen on first use). The Go runtime's own reads (the
// transparent huge page size, the cgroup CPU limit) are not hal's.
func TestImportDoesNoIO(t *testing.T) {
	if cpmem.Available {
		t.Skip("this build links C libpmem, whose constructor reads sysfs: run without -tags cpeer")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("no strace")
	}
	out := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", out, os.Args[0])
	cmd.Env = append(os.Environ(), initOnlyEnv+"=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	opens := 0
	for sc.Scan() {
		line := sc.Text()
		_, p, ok := strings.Cut(line, `"`)
		if !ok {
			continue
		}
		p, _, _ = strings.Cut(p, `"`)
		opens++
		if strings.HasPrefix(p, "/sys/kernel/mm/transparent_hugepage/") || strings.HasPrefix(p, "/sys/fs/cgroup/") {
			continue
		}
		if strings.HasPrefix(p, "/sys/") || p == "/sys" || p == "/proc/cpuinfo" {
			t.Errorf("opened at init: %s", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if opens == 0 {
		t.Skip("strace recorded no open at all: not tracing this binary")
	}
}
