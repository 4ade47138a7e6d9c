// Package conformance runs the conformance suites of dataward's store
// interfaces (pii/piitest, audit/audittest, ...): each clause of a store's
// contract as a subtest with a stable name, on a fresh store. It uses only
// the standard library, so that hosts running a suite inherit nothing.
package conformance

import (
	"context"
	"testing"
)

// Case is one clause of a store's contract and the check of it.
type Case[S any] struct {
	Name   string // the subtest's name; stable across versions
	Clause string // the contract clause, in words, printed when the check fails
	Run    func(ctx context.Context, s S) error
}

// Run runs every case as a subtest against a store made by newStore, which
// must return a new, empty store each time it is called (release it with
// t.Cleanup).
func Run[S any](t *testing.T, cases []Case[S], newStore func(t *testing.T) S) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			if err := tc.Run(context.Background(), newStore(t)); err != nil {
				t.Errorf("%s\ncontract: %s", err, tc.Clause)
			}
		})
	}
}
