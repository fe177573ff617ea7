//go:build invariants

package core

// checkRanges makes every Map persist call verify that its slices lie in
// the mapping (a caller bug otherwise), at a cost, in -tags invariants builds.
const checkRanges = true
