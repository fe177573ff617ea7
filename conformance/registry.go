package conformance

import (
	"slices"
	"sync"
	"testing"

	"github.com/gopmdk/pmdk/core/crashsim"
)

// Case is one behaviour test of a library, run once per [Backend] as the
// subtest <lib>/<backend>/<name>.
type Case struct {
	Name string
	Run  func(t *testing.T, b Backend)
}

// CrashCase is one crash-consistency workload of a library. On a crash
// simulator backend every crash point is explored (within the [Budget]); on
// the others the workload runs uncut, the storage is remapped and Check sees
// the final state (Crash.Point is then Fences+1).
type CrashCase struct {
	Name     string
	Workload crashsim.Workload
	// Broken marks a workload with a deliberate bug: the simulator must
	// report at least one failure for it (and the uncut run must pass).
	Broken bool
	// Strategies, if not nil, replace the budget's (a missing fence, say,
	// needs Exhaustive or Random to show).
	Strategies []crashsim.Strategy
	// RecoveryPoints, if not zero, replaces the budget's number of crash
	// points explored in the Recover of each image (-1: all).
	RecoveryPoints int
	// ShortPoints, if > 0, caps the crash points of -short runs (the race
	// run) for a workload whose images are costly to check; its own
	// package's tests explore them all.
	ShortPoints int
}

var registry struct {
	sync.Mutex
	cases map[string][]Case
	crash map[string][]CrashCase
}

// Register adds behaviour cases of library lib ("core", "log", "blk"...).
// Call it from an init function of a file of this package.
func Register(lib string, cases ...Case) {
	registry.Lock()
	defer registry.Unlock()
	if registry.cases == nil {
		registry.cases = make(map[string][]Case)
	}
	registry.cases[lib] = append(registry.cases[lib], cases...)
}

// RegisterCrash adds crash cases of library lib.
func RegisterCrash(lib string, cases ...CrashCase) {
	registry.Lock()
	defer registry.Unlock()
	if registry.crash == nil {
		registry.crash = make(map[string][]CrashCase)
	}
	registry.crash[lib] = append(registry.crash[lib], cases...)
}

// Libraries returns the libraries with registered cases, sorted.
func Libraries() []string {
	registry.Lock()
	defer registry.Unlock()
	var libs []string
	for l := range registry.cases {
		libs = append(libs, l)
	}
	for l := range registry.crash {
		if !slices.Contains(libs, l) {
			libs = append(libs, l)
		}
	}
	slices.Sort(libs)
	return libs
}

// Cases returns the behaviour cases of lib in registration order.
func Cases(lib string) []Case {
	registry.Lock()
	defer registry.Unlock()
	return slices.Clone(registry.cases[lib])
}

// CrashCases returns the crash cases of lib in registration order.
func CrashCases(lib string) []CrashCase {
	registry.Lock()
	defer registry.Unlock()
	return slices.Clone(registry.crash[lib])
}
