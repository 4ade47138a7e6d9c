//go:build !race

package redact_test

// raceEnabled reports whether the tests were built with -race.
const raceEnabled = false
