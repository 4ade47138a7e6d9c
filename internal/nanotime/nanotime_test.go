package nanotime_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/dataward/dataward/internal/nanotime"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Time{}, 0},
		{time.Unix(0, 0), -1},
		{time.Unix(0, 1), 1},
		{time.Unix(1_700_000_000, 5), 1_700_000_000_000_000_005},
		{time.Unix(0, math.MaxInt64), math.MaxInt64},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{time.Unix(0, math.MinInt64), math.MinInt64},
	} {
		assert.Equal(t, c.want, nanotime.Of(c.t), "%v", c.t)
	}
	// Order is kept across the whole range.
	assert.Less(t, nanotime.Of(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)), nanotime.Of(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)))
}
