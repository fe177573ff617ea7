// Package tools is the root of gopmdk's command-line tools module. The
// commands live under cmd/:
//
//   - cmd/gopmdk-demo: what hal detected on this machine (CPU features, the
//     kernel set and why, DAX / page cache / eADR of a pool file), a
//     persisted copy through core.MapFile read back after unmapping, a log
//     pool appended and walked after reopening, a blk block written and
//     read after reopening, an obj pool with typed objects and a transaction
//     cut off by a simulated crash at each fence, a vmem pool and a
//     vmemcache, and pmempool check of the
//     pools when C PMDK is installed. No persistent memory is needed.
//     `make demo` runs it.
//
//   - cmd/pmembench: PMDK's pmembench scenarios (memcpy/memset persist,
//     persist latency, log append/walk, blk random read/write, obj atomic
//     and transactional allocation, snapshots, empty transactions) side by
//     side with C PMDK (libpmem, libpmemlog, libpmemblk, libpmemobj through
//     cgo) when built
//     with -tags cpeer, with the Go/C ratio, and for copies the memory write
//     bandwidth limit.
//
//   - cmd/pmempool: PMDK's pmempool for log, blk and obj pools (create, info,
//     check with repair, dump, rm, feature, convert) with C's getopt flags,
//     messages and exit codes, on the libpmempool-like package pmempool.
//
//   - cmd/pmdk-convert: pmem/pmdk-convert, converting obj pools of PMDK
//     1.0-1.6 (layouts v1-v5) to today's layout with C's options, messages
//     and exit codes (pmempool convert runs it), on pmempool.RunConvert.
//
//   - cmd/daxio: PMDK's daxio, copying to, from or between Device DAX
//     devices or zeroing one through mappings, with C's getopt flags,
//     messages and exit codes; Device DAX is recognised through sysfs by
//     core, and written through core's persist path.
//
//   - cmd/pmreorder: PMDK's pmreorder on a store log recorded by the crash
//     simulator (core/crashsim) instead of Valgrind's pmemcheck: the stores
//     between fences replayed in the orders its engines give, each image
//     checked by a program; on the package pmreorder.
//
//   - cmd/cachebench: vmem/vmemcache against the Go caches a user would
//     pick instead (bigcache, ristretto): gets and puts at 1 and 2
//     goroutines, hit ratio under a Zipf workload, the Go heap and GC
//     pauses with much cached. Those caches are dependencies of this module
//     only, never of vmem.
//
// gopmdk-demo and pmembench take Go-style flags (-dir, -json) and use the
// standard flag package; daxio and pmdk-convert parse getopt syntax themselves (C's option
// abbreviations and messages included); pmempool and pmreorder parse getopt syntax with
// github.com/spf13/pflag (with the peers of cachebench, the only third-party
// dependencies of the commands):
// scripts written for C's pmempool combine short flags (-vry) and mix long
// options after the file name, which the standard flag package cannot parse.
package tools
