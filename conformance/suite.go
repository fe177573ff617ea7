package conformance

import (
	"testing"

	"github.com/gopmdk/pmdk/core/crashsim"
)

// RunAll runs every registered behaviour case of every library on every
// backend, as subtests <lib>/<backend>/<case>.
func RunAll(t *testing.T) {
	bs := Backends(t)
	for _, lib := range Libraries() {
		cases := Cases(lib)
		if len(cases) == 0 {
			continue
		}
		t.Run(lib, func(t *testing.T) {
			for _, b := range bs {
				t.Run(b.Name, func(t *testing.T) {
					for _, c := range cases {
						t.Run(c.Name, func(t *testing.T) { c.Run(t, b) })
					}
				})
			}
		})
	}
}

// RunAllCrash runs every registered crash case of every library on every
// backend: explored on the crash simulator, uncut elsewhere.
func RunAllCrash(t *testing.T) {
	bs := Backends(t)
	for _, lib := range Libraries() {
		cases := CrashCases(lib)
		if len(cases) == 0 {
			continue
		}
		t.Run(lib, func(t *testing.T) {
			for _, b := range bs {
				t.Run(b.Name, func(t *testing.T) {
					for _, c := range cases {
						t.Run(c.Name, func(t *testing.T) { RunCrashCase(t, c, b) })
					}
				})
			}
		})
	}
}

// RunCrashCase runs one crash case on one backend. A Broken case must be
// flagged by the simulator (and pass uncut elsewhere); any other must pass.
func RunCrashCase(t *testing.T, c CrashCase, b Backend) {
	if !b.Crash {
		if err := RunUncut(t, b, c.Workload); err != nil {
			t.Error(err)
		}
		return
	}
	o := Budget(t, c, b)
	if !c.Broken {
		crashsim.Explore(t, c.Workload, o)
		return
	}
	rep, err := crashsim.Run(c.Workload, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Errorf("broken workload passed (%v, seed %d)", rep, o.Seed)
		return
	}
	t.Logf("caught as expected: %v; first: %v", rep, rep.Failures[0])
}
