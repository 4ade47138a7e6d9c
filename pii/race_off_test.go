//go:build !race

package pii_test

// raceEnabled reports whether the tests were built with -race.

const raceEnabled = false
