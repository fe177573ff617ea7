package conformance_test

import (
	"github.com/gopmdk/pmdk/conformance"
	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/core/crashsim/examples"
)

// The crash simulator's own proof, on every backend: each broken example
// structure must be flagged, each correct one must pass.
func init() {
	for _, st := range examples.Structures {
		for _, bug := range st.Bugs {
			conformance.RegisterCrash("crashsim", conformance.CrashCase{
				Name:     st.Name + "-" + bug.String(),
				Workload: st.Workload(bug),
				Broken:   bug != examples.Correct,
				// Small enough to enumerate the combinations of words; a
				// missing fence only shows when they are reordered.
				Strategies: []crashsim.Strategy{crashsim.Pessimistic, crashsim.Optimistic,
					crashsim.Random(conformance.Seed()), crashsim.Exhaustive},
				RecoveryPoints: -1,
			})
		}
	}
}
