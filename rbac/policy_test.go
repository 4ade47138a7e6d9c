package rbac_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/rbac"
)

// TestParseYAMLReportsEveryProblem: one error lists every problem, each
// with its path and line.
func TestParseYAMLReportsEveryProblem(t *testing.T) {
	src := `actions: [read, "re*d"]
roles:
  - name: a
    inherits: [b]
    allow:
      - {action: read, resource: "cust*mer"}
  - name: b
    inherits: [c]
  - name: c
    inherits: [a, ghost]
  - name: a
  - name: ""
    deny:
      - {action: read, resource: "contact..email"}
  - name: t1role
    tenant: t1
  - name: glass
    break_glass: true
  - name: d
    inherits: [glass]
assignments:
  - {user: u1, roles: [t1role]}
  - {user: u2, roles: []}
  - {user: u3, roles: [glass]}
  - {user: u4, roles: [a], not_before: 2026-02-01T00:00:00Z, expires: 2026-01-01T00:00:00Z}
`
	_, err := rbac.ParseYAML([]byte(src))
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "rbac", ve.Package)
	got := make(map[string]string)
	for _, p := range ve.Problems {
		got[p.Field] = p.Message
	}
	want := map[string]string{
		"actions[1] (line 1, column 17)":                 `"re*d" is not a valid action: a wildcard must be the whole action, "*"`,
		"roles[0].allow[0].resource (line 6, column 34)": `"cust*mer" is not a valid resource pattern: use a name, "prefix.*" or "*"`,
		"roles[3].name (line 11, column 11)":             `duplicates role "a" of roles[0]`,
		"roles[4].name (line 12, column 11)":             "is empty",
		"roles[4].deny[0].resource (line 14, column 34)": `"contact..email" is not a valid resource pattern: it has an empty segment`,
		"roles[2].inherits[1] (line 10, column 19)":      `names unknown role "ghost"`,
		"roles[7].inherits[0] (line 20, column 16)":      `names break-glass role "glass", which can only be taken with BreakGlass`,
		"roles[0].inherits (line 4, column 15)":          "forms a cycle: a -> b -> c -> a",
		"assignments[0].roles[0] (line 22, column 24)":   `names role "t1role" of tenant "t1", which cannot be assigned in tenant ""`,
		"assignments[1].roles (line 23, column 23)":      "is empty",
		"assignments[2].roles[0] (line 24, column 24)":   `names break-glass role "glass", which can only be taken with BreakGlass`,
		"assignments[3].expires (line 25, column 71)":    "is not after not_before",
	}
	assert.Equal(t, want, got)
}

func TestParseYAMLErrors(t *testing.T) {
	_, err := rbac.ParseYAML([]byte("roles: [\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rbac: policy is not valid YAML")
	assert.Contains(t, err.Error(), "line")

	_, err = rbac.ParseYAML([]byte("roles:\n  - name: a\n    alow: []\nrules: 3\n"))
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 2)
	assert.Contains(t, ve.Problems[0].Message, "line 3: field alow not found")
	assert.Contains(t, ve.Problems[1].Message, "line 4: field rules not found")

	_, err = rbac.ParseYAML([]byte("roles: 3\n"))
	require.ErrorIs(t, err, dataward.ErrInvalid)

	p, err := rbac.ParseYAML(nil)
	require.NoError(t, err)
	assert.Empty(t, p.Roles)
}

func TestParseJSON(t *testing.T) {
	p, err := rbac.ParseJSON([]byte(`{"roles":[{"name":"a","allow":[{"action":"read","resource":"x"}]}],
		"assignments":[{"user":"u","roles":["a"],"expires":"2030-01-01T00:00:00Z"}]}`))
	require.NoError(t, err)
	assert.Equal(t, "a", p.Roles[0].Name)
	assert.Equal(t, 2030, p.Assignments[0].Expires.Year())

	_, err = rbac.ParseJSON([]byte("{\n  \"roles\": [\n    {\"name\": \"a\",}\n  ]\n}"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 3, column 18")

	_, err = rbac.ParseJSON([]byte(`{"roles":[{"name":"a","inherits":["a", "b"]}]}`))
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "rbac: invalid input: roles[0].inherits[0] role \"a\" inherits itself; roles[0].inherits[1] names unknown role \"b\"", ve.Error())

	_, err = rbac.ParseJSON([]byte(`{"roles":[{"name":"a","allow":3}]}`))
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "roles.allow (line 1, column 31)")

	_, err = rbac.ParseJSON([]byte(`{"roles":[], "rules": []}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown field "rules"`)

	_, err = rbac.ParseJSON([]byte(`{"roles":[]} {}`))
	require.Error(t, err)
}

// TestParseNeverPanics feeds malformed and hostile inputs.
func TestParseNeverPanics(t *testing.T) {
	inputs := []string{"", "null", "[]", "3", "{", "roles: [{name: a, inherits: [a]}]", "roles:\n - name: [x]\n",
		"&a [*a]", "roles: !!binary aGVsbG8=", "{\"roles\": [{\"name\": \"\\u0000\"}]}", "actions: [\"\\t\"]"}
	for _, in := range inputs {
		assert.NotPanics(t, func() { _, _ = rbac.ParseYAML([]byte(in)) }, in)
		assert.NotPanics(t, func() { _, _ = rbac.ParseJSON([]byte(in)) }, in)
	}
}

// TestTenantRoles: a tenant's role may inherit its tenant's roles and
// global ones; a global role may not inherit a tenant's.
func TestTenantRoles(t *testing.T) {
	p := &rbac.Policy{Roles: []rbac.Role{
		{Name: "base"},
		{Name: "local", Tenant: "t1", Inherits: []string{"base"}},
		{Name: "local2", Tenant: "t1", Inherits: []string{"local"}},
		{Name: "global", Inherits: []string{"local"}},
		{Name: "local", Tenant: "t2"},
		{Name: "base", Tenant: "t3"},
	}}
	err := p.Validate()
	require.Error(t, err)
	var ve *dataward.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, []dataward.Problem{
		{Field: "roles[5].name", Message: `duplicates role "base" of roles[0], which every tenant has`},
		{Field: "roles[3].inherits[0]", Message: `names role "local" of tenant "t1", which cannot be inherited in tenant ""`},
	}, ve.Problems)
}
