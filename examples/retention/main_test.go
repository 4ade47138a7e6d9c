package main

import (
	"strings"
	"testing"

	"github.com/dataward/dataward/internal/exampletest"
)

// TestRun runs the example and checks that the dry run and the sweep
// dispose of exactly the records past their published periods, keep the
// held ones, and leave a receipt per data set.
func TestRun(t *testing.T) {
	got := exampletest.Output(t, run)
	for _, verb := range []string{"would", "did"} {
		for _, want := range []string{
			"web_forms        " + verb + " delete 1 [1]: created on or before 2026-01-01T12:00:00Z (2 months)",
			"crm_contacts     " + verb + ` anonymise 1 [1]: "unsubscribe" recorded on or before 2024-03-01T12:00:00Z (2 years)`,
			"support_tickets  " + verb + " delete 1 [101]: created on or before 2021-03-01T12:00:00Z (5 years)",
			"ticket_emails    " + verb + " delete 1 [1001]: created on or before 2025-03-01T12:00:00Z (12 months)",
			"uploaded_logs    " + verb + " delete 2 [upload-0224.log upload-0226.log]: created on or before 2026-02-26T12:00:00Z (3 days)",
			"backups          " + verb + " delete 2 [db-2026-01-15.tar.gz db-2026-01-30.tar.gz]: created on or before 2026-01-30T12:00:00Z (30 days)",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("the output lacks %q:\n%s", want, got)
			}
		}
	}
	for _, want := range []string{
		"kept 102: held by",  // the litigation hold keeps cust-3's ticket
		"kept 1002: held by", // and its e-mail
		"web_forms=2,3",
		"crm_contacts=1,2,3", // anonymised, not deleted
		"support_tickets=102,103",
		"ticket_emails=1002,1003",
		"uploads=upload-0227.log",
		"backups=db-2026-02-20.tar.gz",
		"anonymised contacts=*** <h:",
		`retention.dispose crm_contacts     anonymise count=1 ids=`,
		`reason="privacy notice s4.6: back-ups are kept 30 rolling days"`,
		"A second sweep disposes of 0 records. Done.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "retention.dispose "); n != 6 {
		t.Errorf("%d receipts, want 6", n)
	}
	for _, secret := range []string{"thandi@example.com", "Thandi Nkosi", "ann@example.com"} {
		if strings.Contains(got, secret) {
			t.Errorf("the output shows disposed content %q", secret)
		}
	}
}
