//go:build race

package obj

// raceEnabled is 1 under the race detector.
const raceEnabled = 1
