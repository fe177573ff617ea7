// Package bench is the engine of pmembench: scenarios mirroring PMDK's
// pmembench, run for a duration per repetition on pool files of a
// directory, Go and the C peer (package cpeer) alternating repetition by
// repetition so drift of the machine hits both alike, with the medians,
// spreads and ratios reported as a table, as JSON lines or as an SVG chart
// ([WriteSVG]).
//
// # Clocks
//
// Every repetition is timed by two clocks at once, and every figure comes
// in both (Result.Wall, Result.CPU): elapsed time, which counts the time
// worker threads spend parked on each other's locks, and the worker
// threads' CPU time, which does not but stays steady when other processes
// take the CPUs. With several threads the two Go/C ratios part where one
// side waits more than the other; Result.GoBusy and CBusy say how much.
//
// # Modes
//
// ModeForcedPmem sets PMEM_IS_PMEM_FORCE=1 before mapping: core maps the
// files with CPU flushes and libpmem's pmem_*_persist flush with the CPU.
// ModePageCache sets PMEM_IS_PMEM_FORCE=0: Go persists with msync and the C
// peer with pmem_msync.
//
// # References
//
// Copy scenarios also measure, on the Go pool file and with the same
// offsets, hal's non-temporal stores with no flush and no fence per
// operation (the memory write bandwidth: the physical limit of a persisting
// copy, column limit) and a plain copy into the mapping (column copy).
//
// # Adding a scenario
//
// Append to the scenarios table (scenario.go) a name, default sizes, a goal
// ratio if there is one, and a setup that gives the row one Go worker per
// thread and, with the C peer, one C worker per thread doing the same
// operations; runs, reports and the chart pick it up.
//
// MB means 10^6 bytes.
package bench
