//go:build race

package main

// raceSlowdown stretches timing bounds under the race detector, which
// slows hashing and SQLite several times over; the bounds themselves are
// checked by the run without it.
const raceSlowdown = 8
