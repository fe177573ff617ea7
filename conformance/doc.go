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
// points (and those of its Recover) on the crash simulator backends; on the
// others run uncut with [RunUncut] (Setup, remap, Run, remap, Recover,
// Check with Crash.Point one past Run's fences, as after the last crash
// point). A CrashCase marked Broken must be flagged by the simulator and
// pass uncut. A workload must not assume its Map's Persister is a
// *crashsim.Device unless it is registered for the simulator only.
//
// # Budget
//
// By default a crash case explores at most 200 crash points (50 with
// -short) with the pessimistic, optimistic and one random strategy;
// CONFORMANCE_FULL=1 (make conformance-full) explores all of them with more
// seeds, Exhaustive and crashes during recovery, on every kernel set.
// CONFORMANCE_SEED sets the seed; failures print the options that
// reproduce them. A case can ask for more ([CrashCase] Strategies and
// RecoveryPoints); [Budget] gives the options a case runs with.
//
// # Examples
//
// The crash simulator's example structures (package
// github.com/gopmdk/pmdk/core/crashsim/examples: a flagged record, a
// copy-on-write pair, a linked append, an undo log) run here on every
// backend in their correct and broken versions, and so do core's memmove
// and memset with each MemFlags kind followed by a persisted flag (the
// NoDrain and NoFlush versions without the caller's drain or flush are
// the broken ones).
//
// # Interop
//
// Cases that need C PMDK use [RequireTool], [RequireCHeaders] and
// [CompileC]: they skip with a clear message when the tools, headers or gcc
// are absent, and run when present.
package conformance
