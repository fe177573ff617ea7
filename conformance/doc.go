// Package conformance is gopmdk's one test suite run against every backend:
// each hal kernel set on a forced-pmem file, the page cache (msync), a DAX
// mount when PMEM_TEST_DIR points at one, and the crash simulator
// (package crashsim) with a kernel set of each store kind doing its stores
// (every kernel set with CONFORMANCE_FULL=1).
//
// # Adding a library's cases
//
// Libraries cannot import conformance (dependency rule), so their cases live
// here, one file per library, such as log_test.go. A new file needs only an
// init function:
//
//	func init() {
//		conformance.Register("log",
//			conformance.Case{Name: "append-reopen", Run: func(t *testing.T, b conformance.Backend) {
//				m := b.NewMap(t, 8<<20)
//				// ... create a pool on m, append, then:
//				m = b.Reopen(t, m)
//				// ... open it again and check what survived.
//			}})
//		conformance.RegisterCrash("log",
//			conformance.CrashCase{Name: "append", Workload: crashsim.Workload{...}})
//	}
//
// TestConformance runs every [Case] as <lib>/<backend>/<case>;
// TestCrashConformance runs every [CrashCase]: explored over its crash
// points on the crash simulator backends, run uncut then remapped and
// checked on the others. A CrashCase marked Broken must be flagged by the
// simulator.
//
// # Budget
//
// By default a crash case explores at most 200 crash points (50 with
// -short) with the pessimistic, optimistic and one random strategy;
// CONFORMANCE_FULL=1 (make conformance-full) explores all of them with more
// seeds and Exhaustive. CONFORMANCE_SEED sets the seed; failures print the
// options that reproduce them.
//
// # Interop
//
// Cases that need C PMDK use [RequireTool], [RequireCHeaders] and
// [CompileC]: they skip with a clear message when the tools, headers or gcc
// are absent, and run when present.
package conformance
