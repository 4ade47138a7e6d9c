package main

import (
	"strings"
	"testing"

	"github.com/dataward/dataward/internal/exampletest"
)

// TestRun runs the example and checks that each step did what it prints.
func TestRun(t *testing.T) {
	got := exampletest.Output(t, run)
	for _, want := range []string{
		`"Email":"j***e@example.com","Phone":"+** ** *** **23"`,    // the agent sees masked contact details
		`"Email":"jane.doe@example.com","Phone":"+27 82 555 0123"`, // the manager sees them in clear
		"/customers/cust-1001                          -> 403 Forbidden",
		"break-glass granted until",
		`"Email":"j***e@example.com","Phone":"+27 82 555 0123"`, // after break-glass: the phone only
		`reason=denied rule="deny delete customer (role manager)" path=[manager]`,
		"reason=break_glass source=break_glass",
		`rbac.deny              denied   reason="denied"`,
		`rbac.deny              denied   reason="no_actor"`,
		`rbac.break_glass       success  reason="customer unreachable, ticket 4711"`,
		`rbac.break_glass.use   success  reason="customer unreachable, ticket 4711"`,
		"Done.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q:\n%s", want, got)
		}
	}
}
