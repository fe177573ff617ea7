// Package cpeer calls C libpmem (PMDK 1.12.1) on memory core mapped, so
// core's benchmarks and interop tests can run the C peer in the same
// process and the same run. It is cgo and only built with the cpeer tag
// (the Makefile sets it when the PMDK headers are installed); without the
// tag [Available] is false and the other functions panic.
//
// The loops run in C so that one cgo call covers many operations and the
// call overhead does not count against C.
package cpeer
