package retention_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/retention"
)

func date(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

// TestPeriodEnd: calendar arithmetic, with month ends clamped to the end of
// the short month.
func TestPeriodEnd(t *testing.T) {
	for _, tc := range []struct {
		period   string
		from, to time.Time
	}{
		{"2 months", date(2025, 12, 31, 10, 0), date(2026, 3, 1, 0, 0)}, // end of February
		{"2 months", date(2025, 12, 28, 10, 0), date(2026, 2, 28, 10, 0)},
		{"2 months", date(2023, 12, 29, 10, 0), date(2024, 2, 29, 10, 0)}, // leap year
		{"1 month", date(2026, 1, 31, 0, 0), date(2026, 3, 1, 0, 0)},
		{"12 months", date(2026, 2, 14, 9, 30), date(2027, 2, 14, 9, 30)},
		{"1 year", date(2024, 2, 29, 12, 0), date(2025, 3, 1, 0, 0)},
		{"5 years", date(2021, 6, 30, 0, 0), date(2026, 6, 30, 0, 0)},
		{"2 years", date(2026, 1, 1, 0, 0), date(2028, 1, 1, 0, 0)},
		{"3 days", date(2026, 2, 27, 8, 0), date(2026, 3, 2, 8, 0)},
		{"30 days", date(2026, 1, 15, 0, 0), date(2026, 2, 14, 0, 0)},
		{"1 week", date(2026, 12, 28, 0, 0), date(2027, 1, 4, 0, 0)},
	} {
		p, err := retention.ParsePeriod(tc.period)
		require.NoError(t, err)
		assert.Equal(t, tc.to, p.End(tc.from), "%s from %v", tc.period, tc.from)
		assert.Equal(t, tc.period, p.String())
	}
}

// TestPeriodCutoff: for random periods and instants, a start is at or
// before Cutoff(now) exactly when its period has ended at now, including
// starts on either side of the cutoff by a nanosecond.
func TestPeriodCutoff(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	units := []retention.Unit{retention.Days, retention.Weeks, retention.Months, retention.Years}
	for range 20000 {
		p := retention.Period{N: 1 + rng.IntN(30), Unit: units[rng.IntN(len(units))]}
		now := date(2020, 1, 1, 0, 0).Add(time.Duration(rng.Int64N(int64(10 * 365 * 24 * time.Hour))))
		if rng.IntN(4) == 0 { // month ends, where clamping happens
			now = time.Date(2020+rng.IntN(10), time.Month(1+rng.IntN(12)), 28+rng.IntN(4), rng.IntN(24), 0, 0, 0, time.UTC)
		}
		c := p.Cutoff(now)
		require.False(t, p.End(c).After(now), "%v: End(Cutoff(%v)) = %v is after now", p, now, p.End(c))
		require.True(t, p.End(c.Add(time.Nanosecond)).After(now), "%v: the start after Cutoff(%v) = %v has ended", p, now, c)
		start := now.Add(-time.Duration(rng.Int64N(int64(12 * 365 * 24 * time.Hour))))
		assert.Equal(t, !p.End(start).After(now), !start.After(c), "%v from %v at %v", p, start, now)
	}
}

// TestParsePeriodRefuses: no period, zero, negative, absurd and unknown
// units are refused with a message saying what is wrong.
func TestParsePeriodRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"":            "retention: period is required",
		"two months":  "retention: period must start with a whole number",
		"0 days":      "retention: period must be at least 1 day",
		"-3 months":   "retention: period must be at least 1 month",
		"101 years":   "retention: period must be at most 100 years (a century)",
		"99999 days":  "retention: period must be at most 36525 days (a century)",
		"2 fortnight": "retention: period has an unknown unit",
		"2":           "retention: period must be a count and a unit",
	} {
		_, err := retention.ParsePeriod(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
	p, err := retention.ParsePeriod(" 1 Year ")
	require.NoError(t, err)
	assert.Equal(t, retention.Period{N: 1, Unit: retention.Years}, p)
}
