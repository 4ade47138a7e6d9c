package retention_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
)

// TestParseYAMLReportsEveryProblem: one error lists every problem of a
// schedule, each with its path and line.
func TestParseYAMLReportsEveryProblem(t *testing.T) {
	src := `policies:
  - dataset: web_forms
    category: user.contact
    since: created
    action: delete
    reason: notice
  - dataset: crm
    category: user.nonsense
    period: -2 months
    since: unsubscribe
    action: archive
    reason: notice
  - dataset: crm
    category: user
    period: 200 years
    since: event
    action: anonymise
    fields:
      - {field: email, rule: hash, to: year}
      - {field: dob, rule: generalise, to: week}
      - {field: email, rule: blur}
    reason: ""
  - dataset: logs
    category: system.operations
    period: 3 days
    since: date
    action: delete
    fields: [{field: a, rule: null}]
    reason: notice
`
	_, err := retention.ParseYAML([]byte(src))
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "retention", ve.Package)
	got := make(map[string]string)
	for _, p := range ve.Problems {
		got[p.Field] = p.Message
	}
	want := map[string]string{
		"policies[0].period (line 2, column 5)":            `is required`,
		"policies[1].category (line 8, column 15)":         `"user.nonsense" is not a fideslang data category key, such as "user.contact"`,
		"policies[1].period (line 9, column 13)":           `must be at least 1 month`,
		"policies[1].since (line 10, column 12)":           `"unsubscribe" is not a trigger: use "created", "last_activity", "event" or "date"`,
		"policies[1].action (line 11, column 13)":          `"archive" is not an action: use "delete", "anonymise" or "shred"`,
		"policies[2].dataset (line 13, column 14)":         `names data set "crm" of policies[1] again: each data set has one policy`,
		"policies[2].period (line 15, column 13)":          `must be at most 100 years (a century)`,
		"policies[2].event (line 13, column 5)":            `is required when since is "event"`,
		"policies[2].fields[0].to (line 19, column 40)":    `is given, but rule "hash" does not use it: only "generalise" does`,
		"policies[2].fields[1].to (line 20, column 44)":    `"week" is not a form: use "year", "month", "day", "tens" or "prefix:N"`,
		"policies[2].fields[2].rule (line 21, column 30)":  `"blur" is not a rule: use "null", "mask", "hash" or "generalise"`,
		"policies[2].fields[2].field (line 21, column 17)": `names field "email" twice`,
		"policies[2].reason (line 22, column 13)":          `is required: the legal reason for the period`,
		"policies[3].date (line 23, column 5)":             `is required when since is "date"`,
		"policies[3].fields (line 28, column 13)":          `are given, but action "delete" does not use them: only "anonymise" does`,
	}
	assert.Equal(t, want, got)
}

func TestParseYAMLSyntaxAndUnknownFields(t *testing.T) {
	_, err := retention.ParseYAML([]byte("policies: [\n"))
	require.ErrorContains(t, err, "retention: schedule is not valid YAML")

	_, err = retention.ParseYAML([]byte("policies:\n  - dataset: a\n    peroid: 2 days\n"))
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Problems[0].Message, "line 3: field peroid not found")

	_, err = retention.ParseYAML(nil)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "policies", ve.Problems[0].Field)
}

const goodJSON = `{"policies": [
  {"dataset": "crm", "category": "user.contact", "period": "2 years", "since": "event", "event": "unsubscribe",
   "action": "anonymise", "fields": [{"field": "email", "rule": "hash"}, {"field": "dob", "rule": "generalise", "to": "year"}],
   "reason": "notice s4"},
  {"dataset": "contracts", "category": "user.financial", "period": "5 years", "since": "date", "date": "2026-06-30T00:00:00Z",
   "action": "delete", "reason": "tax law"}
]}`

func TestParseJSON(t *testing.T) {
	s, err := retention.ParseJSON([]byte(goodJSON))
	require.NoError(t, err)
	require.Len(t, s.Policies, 2)
	assert.Equal(t, retention.SinceEvent, s.Policies[0].Since)
	assert.Equal(t, "2026-06-30", s.Policies[1].Date.Format("2006-01-02"))

	_, err = retention.ParseJSON([]byte(`{"policies": [{"dataset": 3}]}`))
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Problems[0].Field, "line 1")

	_, err = retention.ParseJSON([]byte(`{"policies": [}`))
	require.ErrorContains(t, err, "retention: schedule is not valid JSON: line 1")

	_, err = retention.ParseJSON([]byte(`{"policies": [{"dataset": "a", "category": "user", "period": "1 day", "since": "created", "action": "delete", "reason": "r"}]} {}`))
	require.ErrorContains(t, err, "more than one value")
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "schedule.json")
	require.NoError(t, os.WriteFile(path, []byte(goodJSON), 0o600))
	s, err := retention.LoadFile(path)
	require.NoError(t, err)
	assert.Len(t, s.Policies, 2)

	_, err = retention.LoadFile(filepath.Join(dir, "nosuch.yaml"))
	require.ErrorContains(t, err, "retention: reading the schedule")
}

// TestPolicyValidate: a policy built in code is checked the same way,
// with fields named as in YAML.
func TestPolicyValidate(t *testing.T) {
	p := retention.Policy{Dataset: "a b", Category: "user", Since: "whenever"}
	err := p.Validate()
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	fields := []string{}
	for _, pr := range ve.Problems {
		fields = append(fields, pr.Field)
	}
	assert.Equal(t, []string{"dataset", "period", "since", "action", "reason"}, fields)
}
