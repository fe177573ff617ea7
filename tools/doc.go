// Package tools is the root of gopmdk's command-line tools module. The
// commands live under cmd/:
//
//   - cmd/gopmdk-demo: what hal detected on this machine and a persisted
//     copy through core, on a file in a temporary directory (no persistent
//     memory needed). `make demo` runs it.
//   - cmd/pmembench: PMDK's pmembench scenarios (memcpy/memset persist,
//     persist latency) side by side with C PMDK's libpmem when the build
//     has the cpeer tag and Debian's PMDK libraries.
package tools
