package main

import (
	"os"
	"testing"

	"github.com/gopmdk/pmdk/tools/internal/cmdtest"
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
	// The throughput table's header is printed once the caches exist: the
	// run is under way.
	cmdtest.InterruptRemovesDir(t, "CACHEBENCH_TEST_AS_MAIN=1",
		[]string{"-size", "2M", "-heapsize", "2M", "-value", "200", "-reps", "100000", "-duration", "20ms"},
		func(t *testing.T) string { return t.TempDir() }, "op ", "cachebench-")
}
