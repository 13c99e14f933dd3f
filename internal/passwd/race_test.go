//go:build race

package passwd

// raceEnabled lets tests skip duplicate slow hashes (bcrypt is ~80 times
// slower under the race detector).
const raceEnabled = true
