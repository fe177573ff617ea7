//go:build race

package obj

// underRace is 1 under the race detector, 0 otherwise.
const underRace = 1
