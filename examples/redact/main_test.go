package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataward/dataward/internal/exampletest"
	"github.com/dataward/dataward/pii/detect"
)

// clearText is the personal data and secrets in the sample log and the
// application's log lines, none of which may be printed.
var clearText = []string{
	"jane.doe@", "Jane.Doe@", "sipho.ndlovu@", "thandi.nkosi@",
	"+27 82 555 0199", "+27 72 555 0123", "4111 1111 1111 1111", "5555 5555 5555 4444", "GB82WEST", "98765432",
	"196.25.1.10", "10.20.30.40", "172.16.0.5", "sk_live_51Hx", "Winter2026!", "8001015009087",
}

// TestRun runs the example and checks that it prints both logs, counts
// what it removed, and prints nothing that is personal.
func TestRun(t *testing.T) {
	got := exampletest.Output(t, run)
	exampletest.Contains(t, got,
		"removed 15 findings: api_key=1 card=2 email=4 iban=1 ipv4=4 phone=2 za_id=1",
		"refund approved to ******************5432 by=finance-2",
		"identity verified id_number=[ZA_ID] method=document",
		"card=**** **** **** 1111 reason=insufficient_funds",
		"stripe key [API_KEY] rejected",
		"request from 10.20.*.* via proxy 172.16.*.* took 182ms",
		"2026-03-01T09:50:00Z INFO  daily summary: 4 tickets opened, 2 closed, median first reply 3m12s",
		`"password":"[REDACTED]"`,
		`"national_id":"[REDACTED]"`,
		`"changes":{"phone":"[PHONE]","city":"Durban"}`,
	)
	if n := strings.Count(got, "\n"); n != 17+2+1+1+4 {
		t.Errorf("%d lines, want the 17 of the log, 2 headings, the count, a blank line and 4 log lines", n)
	}
	checkClean(t, got)
	// One customer, however the address is written, is one pseudonym.
	if p := pseudonyms(got); len(p) != 3 {
		t.Errorf("pseudonyms %v, want 3: one per customer in the shared log, one in the application's", p)
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}

// TestRunFiles redacts a log file to another file.
func TestRunFiles(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "support.log"), filepath.Join(dir, "shared.log")
	if err := os.WriteFile(in, []byte(sampleLog), 0o600); err != nil {
		t.Fatal(err)
	}
	got := exampletest.Output(t, func(context.Context) error { return shareLog(in, out) })
	if !strings.Contains(got, "wrote "+out+"\nremoved 15 findings:") {
		t.Errorf("the output is %q", got)
	}
	shared, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(shared), "\n"); n != 17 {
		t.Errorf("the shared log has %d lines, want 17", n)
	}
	checkClean(t, string(shared))
}

func checkClean(t *testing.T, out string) {
	t.Helper()
	for _, s := range clearText {
		if strings.Contains(out, s) {
			t.Errorf("the output shows %q", s)
		}
	}
	if found := detect.Default().ScanString(out); len(found) > 0 {
		t.Errorf("the scanner finds %v in the output", found)
	}
}

// pseudonyms returns the distinct e-mail pseudonyms in out.
func pseudonyms(out string) map[string]bool {
	p := make(map[string]bool)
	for rest := out; ; {
		i := strings.Index(rest, "[EMAIL:")
		if i < 0 {
			return p
		}
		rest = rest[i:]
		end := strings.IndexByte(rest, ']')
		p[rest[:end+1]] = true
		rest = rest[end:]
	}
}
