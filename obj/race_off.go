//go:build !race

package obj

const raceEnabled = false
