package conformance_test

import (
	"testing"

	"github.com/gopmdk/pmdk/conformance"
)

func TestConformance(t *testing.T) {
	t.Logf("seed %d, full %v", conformance.Seed(), conformance.Full())
	conformance.RunAll(t)
}

func TestCrashConformance(t *testing.T) {
	t.Logf("seed %d, full %v", conformance.Seed(), conformance.Full())
	conformance.RunAllCrash(t)
}
