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
		"marketing.communications.email              false  pending",                        // sign-up asked for a double opt-in
		"marketing.communications.sms                false  refused",                        // the unticked box
		"-> 200 (a page: Thank you: your subscription is confirmed.)",                       // the confirmation link
		"-> 400 (a page: This link is not valid.)",                                          // and it works once
		"-> 200 (a page: You are unsubscribed.)",                                            // the one-click POST
		"Allowed(cust-1001, marketing.communications.email) = false, withdrawn",             // took effect
		"next newsletter run: skipped cust-1001 (withdrawn)",                                // and is honoured
		"Allowed(cust-1001, marketing.advertising.third_party.targeted) = false, withdrawn", // GPC
		"essential.service.notifications.email       true   notice_only",                    // after unsubscribing from everything
		"and that event is in the log the signed checkpoint commits to",                     // the third-party check passed
		"Done.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}
