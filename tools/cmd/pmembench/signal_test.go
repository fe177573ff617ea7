package main

import (
	"os"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/tools/internal/cmdtest"
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
	// The machine description is printed once the pool directory exists:
	// the run is under way.
	cmdtest.InterruptRemovesDir(t, "PMEMBENCH_TEST_AS_MAIN=1",
		[]string{"-run", "^memcpy-persist$", "-sizes", "64", "-reps", "1000", "-duration", "50ms", "-no-c"},
		func(t *testing.T) string { return pmemtest.Dir(t) }, "machine:", "pmembench-")
}
