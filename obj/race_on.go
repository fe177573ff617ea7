//go:build race

package obj

// raceEnabled: the race detector makes sync.Pool drop a quarter of what is
// put back, so lanes would wait for the garbage collector to return them.
const raceEnabled = true
