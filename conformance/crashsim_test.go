package conformance_test

import (
	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/crashsim/examples"
)

// The crash simulator's own proof, on every backend: each broken example
// must be flagged, each correct one must pass.
func init() {
	for _, bug := range examples.Bugs {
		c := conformance.CrashCase{
			Name:     "record-" + bug.String(),
			Workload: examples.Record(bug),
			Broken:   bug != examples.Correct,
			// Small enough to enumerate every combination of words.
			Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic, crashsim.Random(conformance.Seed()), crashsim.Exhaustive},
		}
		conformance.RegisterCrash("crashsim", c)
	}
}
