package retention

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Unit is the calendar unit of a [Period].
type Unit string

// The units of a period.
const (
	Days   Unit = "days"
	Weeks  Unit = "weeks"
	Months Unit = "months"
	Years  Unit = "years"
)

// Limits on a period: nothing is kept for more than a century, and every
// period is at least one unit long.
const (
	MaxPeriodDays  = 36525
	MaxPeriodWeeks = 5218
	MaxPeriodMonth = 1200
	MaxPeriodYears = 100
)

// Period is how long data is kept, in calendar units: "2 months", "5
// years", "30 days". Arithmetic is on the calendar in UTC: a period of
// months or years keeps the day of the month and the time of day, and when
// the target month is too short the period ends with that month, so "2
// months" from 31 December ends at the end of February (the first instant
// of 1 March), not 60 days later. Days and weeks are 24 hours and 7 days
// in UTC.
type Period struct {
	N    int
	Unit Unit
}

// ParsePeriod parses a period such as "2 months", "12 months", "3 days",
// "1 week" or "5 years" (singular or plural units). It refuses a missing,
// zero, negative or absurd count (over a century) and an unknown unit.
func ParsePeriod(s string) (Period, error) {
	if p := periodProblem(s); p != "" {
		return Period{}, fmt.Errorf("retention: period %s", p)
	}
	p, _ := parsePeriod(s)
	return p, nil
}

func parsePeriod(s string) (Period, string) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return Period{}, "is required"
	}
	if len(fields) != 2 {
		return Period{}, `must be a count and a unit, such as "2 months"`
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil {
		return Period{}, `must start with a whole number, such as "2 months"`
	}
	var u Unit
	switch strings.ToLower(fields[1]) {
	case "day", "days":
		u = Days
	case "week", "weeks":
		u = Weeks
	case "month", "months":
		u = Months
	case "year", "years":
		u = Years
	default:
		return Period{}, "has an unknown unit: use days, weeks, months or years"
	}
	p := Period{N: n, Unit: u}
	return p, p.problem()
}

func periodProblem(s string) string {
	_, msg := parsePeriod(s)
	return msg
}

// problem says what is wrong with p, or "".
func (p Period) problem() string {
	limit := map[Unit]int{Days: MaxPeriodDays, Weeks: MaxPeriodWeeks, Months: MaxPeriodMonth, Years: MaxPeriodYears}[p.Unit]
	switch {
	case limit == 0:
		return "has an unknown unit: use days, weeks, months or years"
	case p.N < 1:
		return "must be at least 1 " + strings.TrimSuffix(string(p.Unit), "s")
	case p.N > limit:
		return fmt.Sprintf("must be at most %d %s (a century)", limit, p.Unit)
	}
	return ""
}

// String returns the period as ParsePeriod reads it: "2 months", "1 day".
func (p Period) String() string {
	u := string(p.Unit)
	if p.N == 1 {
		u = strings.TrimSuffix(u, "s")
	}
	return strconv.Itoa(p.N) + " " + u
}

// months returns the period in months, or 0 for days and weeks.
func (p Period) months() int {
	switch p.Unit {
	case Months:
		return p.N
	case Years:
		return 12 * p.N
	}
	return 0
}

// days returns the period in days, or 0 for months and years.
func (p Period) days() int {
	switch p.Unit {
	case Days:
		return p.N
	case Weeks:
		return 7 * p.N
	}
	return 0
}

// End returns the instant the period that starts at t ends: data whose
// period starts at t may be disposed of from End(t) on. It is
// non-decreasing in t. End of the zero Period is t.
func (p Period) End(t time.Time) time.Time {
	t = t.UTC()
	if d := p.days(); d > 0 {
		return t.AddDate(0, 0, d)
	}
	m := p.months()
	if m == 0 {
		return t
	}
	y, mon, day := t.Date()
	first := time.Date(y, mon+time.Month(m), 1, 0, 0, 0, 0, time.UTC) // normalised
	if day > daysIn(first.Year(), first.Month()) {
		// The target month is too short: the period ends with it.
		return first.AddDate(0, 1, 0)
	}
	h, mi, s := t.Clock()
	return time.Date(first.Year(), first.Month(), day, h, mi, s, t.Nanosecond(), time.UTC)
}

// Cutoff returns the latest start whose period has ended at now: data
// whose period starts at or before Cutoff(now) may be disposed of at now,
// and data whose period starts after it may not. That is, for every t,
// !p.End(t).After(now) exactly when !t.After(p.Cutoff(now)).
func (p Period) Cutoff(now time.Time) time.Time {
	now = now.UTC()
	if d := p.days(); d > 0 {
		return now.AddDate(0, 0, -d)
	}
	m := p.months()
	if m == 0 {
		return now
	}
	y, mon, day := now.Date()
	first := time.Date(y, mon-time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	if day > daysIn(first.Year(), first.Month()) {
		// Every start in that month ends within now's month, before now:
		// the last instant of the month is the cutoff.
		return first.AddDate(0, 1, 0).Add(-time.Nanosecond)
	}
	h, mi, s := now.Clock()
	return time.Date(first.Year(), first.Month(), day, h, mi, s, now.Nanosecond(), time.UTC)
}

// daysIn returns the number of days of month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
