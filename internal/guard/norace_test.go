//go:build !race

package guard

// raceEnabled is true when the race detector is on.
const raceEnabled = false
