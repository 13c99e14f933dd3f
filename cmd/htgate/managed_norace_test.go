//go:build !race

package main

// raceSlowdown stretches timing bounds under the race detector (see
// managed_race_test.go); without it the bounds hold as stated.
const raceSlowdown = 1
