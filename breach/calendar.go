package breach

import (
	"fmt"
	"slices"
	"time"

	"github.com/dataward/dataward"
)

// Calendar tells working days from other days in one time zone, for
// deadlines counted in working days (LGPD's "dias úteis"). The zero
// Calendar is not usable: make one with [NewCalendar].
type Calendar struct {
	loc      *time.Location
	weekend  []time.Weekday
	holidays map[date]bool
}

// date is a civil date.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// NewCalendar returns a Calendar in loc (nil is UTC) whose working days
// are Monday to Friday except the holidays, each given as "YYYY-MM-DD".
// A bad holiday returns a [*dataward.ValidationError] naming it.
func NewCalendar(loc *time.Location, holidays ...string) (*Calendar, error) {
	if loc == nil {
		loc = time.UTC
	}
	c := &Calendar{loc: loc, weekend: []time.Weekday{time.Saturday, time.Sunday}, holidays: make(map[date]bool, len(holidays))}
	ve := &dataward.ValidationError{Package: "breach"}
	for i, h := range holidays {
		t, err := time.Parse(time.DateOnly, h)
		if err != nil {
			ve.Add(fmt.Sprintf("holidays[%d]", i), "is not a date in the form YYYY-MM-DD")
			continue
		}
		c.holidays[dateOf(t)] = true
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// MustCalendar is [NewCalendar] that panics on a bad holiday, for
// calendars written in code.
func MustCalendar(loc *time.Location, holidays ...string) *Calendar {
	c, err := NewCalendar(loc, holidays...)
	if err != nil {
		panic(err)
	}
	return c
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkingDay reports whether the day of t, in the calendar's time zone,
// is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(c.loc)
	return !slices.Contains(c.weekend, t.Weekday()) && !c.holidays[dateOf(t)]
}

// AddWorkingDays returns the end (the last nanosecond) of the n-th working
// day after the day of t, in the calendar's time zone: the day of t itself
// does not count, as deadlines in working days are counted in Brazil (the
// start day is excluded, the end day included). n must be at least 1.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	d := t.In(c.loc)
	for n > 0 {
		d = startOfDay(d).AddDate(0, 0, 1)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return endOfDay(d)
}

// startOfDay returns midnight at the start of t's day in t's location.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// endOfDay returns the last nanosecond of t's day in t's location (which
// is correct across a daylight-saving change, unlike adding 24 hours).
func endOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location()).Add(-time.Nanosecond)
}
