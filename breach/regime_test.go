package breach_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/breach"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// due is one expected obligation: regime, party, recipient prefix and
// deadline (zero for as soon as possible).
type due struct {
	regime string
	party  breach.Party
	due    time.Time
}

func dues(obs []breach.Obligation) []due {
	var out []due
	for _, o := range obs {
		out = append(out, due{o.Regime.ID, o.Party, o.Due})
	}
	return out
}

// TestObligationsGolden: the deadline of every regime for fixed incidents,
// including hours across time zones, calendar days ending in the regime's
// zone across a daylight-saving change, working days over weekends and
// holidays, thresholds, and the clock that starts at assessment.
func TestObligationsGolden(t *testing.T) {
	la, ny, sp, sg := zone(t, "America/Los_Angeles"), zone(t, "America/New_York"), zone(t, "America/Sao_Paulo"), zone(t, "Asia/Singapore")
	jhb := time.FixedZone("SAST", 2*3600)
	end := func(y int, m time.Month, d int, loc *time.Location) time.Time {
		return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(-time.Nanosecond)
	}
	tests := []struct {
		name  string
		aware time.Time
		risk  breach.Risk
		j     []breach.Jurisdiction
		set   func(*breach.Incident)
		cal   map[string]*breach.Calendar
		want  []due
	}{
		{
			name:  "GDPR 72 hours, awareness in another zone",
			aware: time.Date(2026, 3, 6, 12, 0, 0, 0, jhb), risk: breach.SomeRisk,
			j:    []breach.Jurisdiction{{Regime: "gdpr"}},
			want: []due{{"gdpr", breach.Authority, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)}},
		},
		{
			name:  "GDPR high risk: subjects without undue delay",
			aware: time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), risk: breach.HighRisk,
			j: []breach.Jurisdiction{{Regime: "gdpr"}},
			want: []due{{"gdpr", breach.Subjects, time.Time{}},
				{"gdpr", breach.Authority, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)}},
		},
		{
			name:  "GDPR no risk: nothing to notify",
			aware: time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), risk: breach.NoRisk,
			j: []breach.Jurisdiction{{Regime: "gdpr"}, {Regime: "uk-gdpr"}},
		},
		{
			name:  "UK GDPR unassessed counts as high",
			aware: time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC),
			j:     []breach.Jurisdiction{{Regime: "uk-gdpr"}},
			want: []due{{"uk-gdpr", breach.Subjects, time.Time{}},
				{"uk-gdpr", breach.Authority, time.Date(2026, 4, 1, 0, 30, 0, 0, time.UTC)}},
		},
		{
			name:  "POPIA applies whatever the risk, as soon as reasonably possible",
			aware: time.Date(2026, 3, 6, 10, 0, 0, 0, jhb), risk: breach.NoRisk,
			j:    []breach.Jurisdiction{{Regime: "popia", Subjects: 3}},
			want: []due{{"popia", breach.Authority, time.Time{}}, {"popia", breach.Subjects, time.Time{}}},
		},
		{
			name:  "California 30 days in Pacific time across the DST change; AG above 500",
			aware: time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC), // 1 March 23:30 PST
			j:     []breach.Jurisdiction{{Regime: "us-ca", Subjects: 501}},
			want: []due{{"us-ca", breach.Subjects, end(2026, 3, 31, la)},
				{"us-ca", breach.Authority, end(2026, 3, 31, la)}},
		},
		{
			name:  "California 500 residents: no AG",
			aware: time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC),
			j:     []breach.Jurisdiction{{Regime: "us-ca", Subjects: 500}},
			want:  []due{{"us-ca", breach.Subjects, end(2026, 3, 31, la)}},
		},
		{
			name:  "HIPAA 500 or more: individuals and HHS in 60 days",
			aware: time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC), risk: breach.SomeRisk,
			j: []breach.Jurisdiction{{Regime: "hipaa", Subjects: 500}},
			want: []due{{"hipaa", breach.Subjects, end(2026, 3, 11, ny)},
				{"hipaa", breach.Authority, end(2026, 3, 11, ny)}},
		},
		{
			name:  "HIPAA under 500: HHS 60 days after the year ends",
			aware: time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC), risk: breach.SomeRisk,
			j: []breach.Jurisdiction{{Regime: "hipaa", Subjects: 499}},
			want: []due{{"hipaa", breach.Subjects, end(2027, 1, 9, ny)},
				{"hipaa", breach.Authority, end(2027, 3, 1, ny)}},
		},
		{
			name:  "HIPAA low probability of compromise: nothing",
			aware: time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC), risk: breach.NoRisk,
			j: []breach.Jurisdiction{{Regime: "hipaa", Subjects: 5000}},
		},
		{
			name:  "LGPD 3 working days from a Thursday",
			aware: time.Date(2026, 4, 9, 15, 0, 0, 0, sp), risk: breach.SomeRisk,
			j: []breach.Jurisdiction{{Regime: "lgpd"}},
			want: []due{{"lgpd", breach.Authority, end(2026, 4, 14, sp)},
				{"lgpd", breach.Subjects, end(2026, 4, 14, sp)}},
		},
		{
			name:  "LGPD late Thursday evening in Brasília is Friday in UTC",
			aware: time.Date(2026, 4, 10, 1, 0, 0, 0, time.UTC), // 9 April 22:00 BRT
			risk:  breach.SomeRisk,
			j:     []breach.Jurisdiction{{Regime: "lgpd"}},
			want: []due{{"lgpd", breach.Authority, end(2026, 4, 14, sp)},
				{"lgpd", breach.Subjects, end(2026, 4, 14, sp)}},
		},
		{
			name:  "LGPD from a Saturday",
			aware: time.Date(2026, 4, 11, 9, 0, 0, 0, sp), risk: breach.SomeRisk,
			j: []breach.Jurisdiction{{Regime: "lgpd"}},
			want: []due{{"lgpd", breach.Authority, end(2026, 4, 15, sp)},
				{"lgpd", breach.Subjects, end(2026, 4, 15, sp)}},
		},
		{
			name:  "LGPD over Good Friday and Tiradentes as configured holidays",
			aware: time.Date(2026, 4, 2, 10, 0, 0, 0, sp), risk: breach.SomeRisk, // Thursday
			j:   []breach.Jurisdiction{{Regime: "lgpd"}},
			cal: map[string]*breach.Calendar{"lgpd": breach.MustCalendar(sp, "2026-04-03", "2026-04-21")},
			want: []due{{"lgpd", breach.Authority, end(2026, 4, 8, sp)},
				{"lgpd", breach.Subjects, end(2026, 4, 8, sp)}},
		},
		{
			name:  "India: intimation and subjects at once, report in 72 hours, whatever the risk",
			aware: time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC), risk: breach.NoRisk,
			j: []breach.Jurisdiction{{Regime: "dpdp"}},
			want: []due{{"dpdp", breach.Authority, time.Time{}}, {"dpdp", breach.Subjects, time.Time{}},
				{"dpdp", breach.Authority, time.Date(2026, 6, 4, 18, 0, 0, 0, time.UTC)}},
		},
		{
			name:  "Singapore: 3 calendar days after the day of assessment, in Singapore",
			aware: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), risk: breach.HighRisk,
			j:   []breach.Jurisdiction{{Regime: "pdpa-sg", Subjects: 10}},
			set: func(inc *breach.Incident) { inc.AssessedAt = time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC) }, // 5 May 04:00 SGT
			want: []due{{"pdpa-sg", breach.Subjects, time.Time{}},
				{"pdpa-sg", breach.Authority, end(2026, 5, 8, sg)}},
		},
		{
			name:  "Singapore: 500 individuals are notifiable whatever the harm; subjects only for significant harm",
			aware: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), risk: breach.SomeRisk,
			j:    []breach.Jurisdiction{{Regime: "pdpa-sg", Subjects: 500}},
			want: []due{{"pdpa-sg", breach.Authority, end(2026, 5, 4, sg)}},
		},
		{
			name:  "Singapore: 499 individuals without significant harm: nothing",
			aware: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), risk: breach.SomeRisk,
			j: []breach.Jurisdiction{{Regime: "pdpa-sg", Subjects: 499}},
		},
		{
			name:  "Kenya and Nigeria: 72 hours; Nigeria's subjects only for high risk",
			aware: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC), risk: breach.SomeRisk,
			j: []breach.Jurisdiction{{Regime: "kenya"}, {Regime: "ndpa"}},
			want: []due{{"kenya", breach.Subjects, time.Time{}},
				{"kenya", breach.Authority, time.Date(2026, 7, 4, 9, 0, 0, 0, time.UTC)},
				{"ndpa", breach.Authority, time.Date(2026, 7, 4, 9, 0, 0, 0, time.UTC)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := breach.Incident{AwareAt: tt.aware, Risk: tt.risk, Jurisdictions: tt.j}
			if tt.set != nil {
				tt.set(&inc)
			}
			r, err := breach.New(breach.NewMemStore(), &breach.Options{Calendars: tt.cal})
			require.NoError(t, err)
			obs, err := r.Obligations(inc)
			require.NoError(t, err)
			got := dues(obs)
			require.Len(t, got, len(tt.want), "%v", got)
			for i := range tt.want {
				assert.Equal(t, tt.want[i].regime, got[i].regime, i)
				assert.Equal(t, tt.want[i].party, got[i].party, i)
				assert.True(t, tt.want[i].due.Equal(got[i].due), "obligation %d due %v, want %v", i, got[i].due, tt.want[i].due)
			}
			for _, o := range obs {
				assert.NotEmpty(t, o.Citation)
				assert.NotEmpty(t, o.Deadline.Words)
			}
		})
	}
}

// TestOverdueAndDueSoon: what an alerting job sees as time passes, and
// that a done obligation is neither.
func TestOverdueAndDueSoon(t *testing.T) {
	inc := sample()
	inc.Risk = breach.SomeRisk
	obs, err := breach.Obligations(inc)
	require.NoError(t, err)
	require.Len(t, obs, 3) // POPIA authority and subjects (ASAP), GDPR authority (72 h)
	gdpr := obs[2]
	assert.Equal(t, "gdpr", gdpr.Regime.ID)

	at := aware.Add(60 * time.Hour)
	assert.Empty(t, breach.Overdue(obs, at))
	assert.Len(t, breach.DueSoon(obs, at, 6*time.Hour), 2, "only the ASAP ones")
	assert.Len(t, breach.DueSoon(obs, at, 12*time.Hour), 3)
	assert.Equal(t, []breach.Obligation{gdpr}, breach.Overdue(obs, aware.Add(72*time.Hour+time.Second)))

	inc.Notifications = []breach.Notification{{Regime: "gdpr", Party: breach.Authority, At: aware.Add(80 * time.Hour)}}
	obs, err = breach.Obligations(inc)
	require.NoError(t, err)
	assert.Empty(t, breach.Overdue(obs, aware.Add(100*time.Hour)))
	assert.True(t, obs[2].Late())
	assert.Equal(t, []breach.Requirement{{Field: breach.FieldDelayReason, Citation: "GDPR Art. 33(1)"}}, obs[2].Missing(&inc, obs[2].Done))
}

// TestObligationsUnknownRegime names the regime.
func TestObligationsUnknownRegime(t *testing.T) {
	_, err := breach.Obligations(breach.Incident{AwareAt: aware, Jurisdictions: []breach.Jurisdiction{{Regime: "atlantis"}}})
	assert.ErrorIs(t, err, breach.ErrUnknownRegime)
	assert.ErrorContains(t, err, `"atlantis"`)
	_, err = breach.LookupRegime("atlantis")
	assert.ErrorIs(t, err, breach.ErrUnknownRegime)
}

// TestRegimesData: every built-in regime and duty carries its citation,
// deadline words and a time zone; the ten regimes of issue #7 are there.
func TestRegimesData(t *testing.T) {
	var ids []string
	for _, r := range breach.Regimes() {
		ids = append(ids, r.ID)
		assert.NotNil(t, r.Location, r.ID)
		assert.NotEmpty(t, r.Law, r.ID)
		for _, d := range r.Duties {
			assert.NotEmpty(t, d.Citation, r.ID)
			assert.NotEmpty(t, d.Recipient, r.ID)
			assert.NotEmpty(t, d.Deadline.Words, r.ID)
			assert.NotEmpty(t, d.Required, r.ID)
			if d.Deadline.Kind == breach.WorkingDays {
				assert.NotNil(t, r.WorkingDays, r.ID)
			}
		}
	}
	assert.Equal(t, []string{"dpdp", "gdpr", "hipaa", "kenya", "lgpd", "ndpa", "pdpa-sg", "popia", "uk-gdpr", "us-ca"}, ids)
}

// TestCalendar: working days skip weekends and holidays in the calendar's
// zone; a bad holiday is named.
func TestCalendar(t *testing.T) {
	sp := zone(t, "America/Sao_Paulo")
	c := breach.MustCalendar(sp, "2026-12-25")
	assert.False(t, c.IsWorkingDay(time.Date(2026, 12, 25, 12, 0, 0, 0, sp)))
	assert.False(t, c.IsWorkingDay(time.Date(2026, 12, 26, 12, 0, 0, 0, sp))) // Saturday
	assert.False(t, c.IsWorkingDay(time.Date(2026, 12, 26, 2, 0, 0, 0, time.UTC)), "25 December, 23:00 in São Paulo")
	assert.True(t, c.IsWorkingDay(time.Date(2026, 12, 24, 2, 0, 0, 0, time.UTC)), "Wednesday 23 December, 23:00 in São Paulo")
	assert.Equal(t, time.Date(2026, 12, 29, 23, 59, 59, 999999999, sp), c.AddWorkingDays(time.Date(2026, 12, 24, 9, 0, 0, 0, sp), 2))
	_, err := breach.NewCalendar(nil, "2026-02-30", "Christmas")
	assert.Equal(t, []string{"holidays[0]", "holidays[1]"}, problems(t, err))
}
