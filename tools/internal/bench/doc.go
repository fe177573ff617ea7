// Package bench is the engine of pmembench: scenarios mirroring PMDK's
// pmembench, run for a duration per repetition on pool files of a
// directory, Go and the C peer (package cpeer) alternating repetition by
// repetition so drift of the machine hits both alike, with the medians,
// spreads and ratios reported as a table or as JSON lines.
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
// offsets, a non-temporal store loop with no flush and no fence per
// operation (the memory write bandwidth: the physical limit of a persisting
// copy, column limit) and a plain copy into the mapping (column copy).
//
// MB means 10^6 bytes.
package bench
