// Package nanotime turns a time into the int64 of Unix nanoseconds that
// in-memory states keep for their bounds (an expiry, a start), 0 standing
// for the zero time: no bound.
package nanotime

import (
	"math"
	"time"
)

var latest, earliest = time.Unix(0, math.MaxInt64), time.Unix(0, math.MinInt64)

// Of returns t in Unix nanoseconds, or 0 for the zero time. A time an
// int64 cannot hold (before 1678 or after 2262) is held as the least or
// the greatest int64, rather than wrapping around into the wrong century,
// and the Unix epoch itself as -1, so that it does not read as the zero
// time.
func Of(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(latest):
		return math.MaxInt64
	case t.Before(earliest):
		return math.MinInt64
	}
	if n := t.UnixNano(); n != 0 {
		return n
	}
	return -1
}
