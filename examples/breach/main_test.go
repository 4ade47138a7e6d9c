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
		"version 2, assessed, risk high",
		"POPIA authority (the Information Regulator) as soon as possible, POPIA s22(1)(a), s22(2)",
		"GDPR authority (the competent supervisory authority) due 2026-03-09T08:15:00Z, GDPR Art. 33(1)",
		"Who is affected\ncustomers: about 1800",
		"For more information\nInformation Officer, privacy@acme.example",
		`notice to customers (Afrikaans): "Kennisgewing van 'n kompromie van persoonlike inligting"`,
		"enqueued 4 deliveries (1 duplicates removed); enqueued again: 0 new",
		"the SMTP server received 2 messages; the webhook receiver accepted 1",
		"FAILED    breach: permanent delivery failure: smtp: the address of recipient \"cust-1003\" is not an e-mail address",
		"j***@example.com         attempt 1  delivered 250 2.0.0 ok",
		"delivered 204 after 1 attempt(s)",
		`popia  subjects  outbox phase "initial": 3 delivered, 1 failed`,
		"incident version 3, authority_notified; obligations still open: 1",
		"GDPR subjects (the data subjects) as soon as possible, GDPR Art. 34(1)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if strings.Contains(got, "jane.doe@") || strings.Contains(got, "sipho.n@") {
		t.Error("the output holds a clear-text address")
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}
