//go:build race

package guard

// raceEnabled is true when the race detector is on, which slows the
// memory-bound test tenfold.
const raceEnabled = true
