// Package conformance runs the conformance suites of dataward's store
// interfaces (pii/piitest, audit/audittest, ...): each clause of a store's
// contract as a subtest with a stable name, on a fresh store. It uses only
// the standard library, so that hosts running a suite inherit nothing.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
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

// WatchDeadline bounds every wait for a watch: generous, so that a slow
// database does not fail a suite, yet a store that never tells fails it.
const WatchDeadline = 10 * time.Second

// Watching is a call to a store's Watch running in its own goroutine.
type Watching struct {
	Call     string // how failures name the call, e.g. `Watch("a")`
	changed  chan struct{}
	cancel   context.CancelFunc
	done     chan error // receives what Watch returned
	returned bool       // done was received from
}

// StartWatch calls watch in a new goroutine, on a context that
// [Watching.Stop] cancels, with a channel that holds one send.
func StartWatch(ctx context.Context, call string, watch func(ctx context.Context, changed chan<- struct{}) error) *Watching {
	ctx, cancel := context.WithCancel(ctx)
	w := &Watching{
		Call:    call,
		changed: make(chan struct{}, 1),
		cancel:  cancel,
		done:    make(chan error, 1),
	}
	go func() { w.done <- watch(ctx, w.changed) }()
	return w
}

// Next waits for Watch to send; when says what the send is for.
func (w *Watching) Next(when string) error {
	if w.returned {
		return fmt.Errorf("%s returned before it sent %s", w.Call, when)
	}
	timer := time.NewTimer(WatchDeadline)
	defer timer.Stop()
	select {
	case <-w.changed:
		return nil
	case err := <-w.done:
		w.returned = true
		return fmt.Errorf("%s returned %v before it sent %s", w.Call, err, when)
	case <-timer.C:
		return fmt.Errorf("%s sent nothing within %v %s", w.Call, WatchDeadline, when)
	}
}

// Stop cancels Watch's context and checks that Watch returns, with an
// error matching context.Canceled.
func (w *Watching) Stop() error {
	w.cancel()
	if w.returned {
		return nil
	}
	timer := time.NewTimer(WatchDeadline)
	defer timer.Stop()
	select {
	case err := <-w.done:
		w.returned = true
		if !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s returned %v after its context was canceled, want an error matching context.Canceled", w.Call, err)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("%s did not return within %v of its context being canceled", w.Call, WatchDeadline)
	}
}
