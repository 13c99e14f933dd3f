//go:build !race

package passwd

// raceEnabled lets tests skip duplicate slow hashes under the race detector.
const raceEnabled = false
