// Package log implements libpmemlog of PMDK 1.12.1 in Go: a pool holding
// one append-only byte log whose appends are atomic across crashes.
//
// Work in progress: the log algorithm on a mapping; pool files follow.
package log
