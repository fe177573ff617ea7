//go:build !invariants

package core

// checkRanges is off in normal builds: the range checks compile away.
const checkRanges = false
