package dataward

import (
	"errors"
	"strings"
)

// ErrInvalid is matched by every [*ValidationError], so that callers can
// write errors.Is(err, dataward.ErrInvalid) whatever package returned it.
var ErrInvalid = errors.New("invalid input")

// ErrErased is matched (with [errors.Is]) by the errors a package returns
// for data that was erased on purpose, such as a value sealed for a data
// subject whose key was shredded. It lets one package tell erased data from
// a failure in another without importing it: an audit report shows such a
// field as erased.
var ErrErased = errors.New("erased")

// ValidationError reports input that was refused, listing every problem
// found rather than only the first. Messages name the offending field and
// the rule it broke; they never repeat the value, which may be personal data.
type ValidationError struct {
	// Package is the reporting package, used as the message prefix ("pii").
	Package string
	// Problems lists what is wrong, one entry per field and rule.
	Problems []Problem
}

// Problem is one broken rule in a [ValidationError].
type Problem struct {
	Field   string // the field or argument, e.g. "subject" or "Options.CacheTTL"
	Message string // what is wrong with it, e.g. "is required"
}

// Error returns a message such as
// `pii: invalid input: subject is required; field is required`.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Package != "" {
		b.WriteString(e.Package)
		b.WriteString(": ")
	}
	b.WriteString("invalid input")
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteByte(' ')
		b.WriteString(p.Message)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add appends a problem and returns e, for building errors fluently.
func (e *ValidationError) Add(field, message string) *ValidationError {
	e.Problems = append(e.Problems, Problem{Field: field, Message: message})
	return e
}

// Err returns e if it holds any problem and nil otherwise, so that a
// function can collect problems and end with "return v.Err()".
func (e *ValidationError) Err() error {
	if e == nil || len(e.Problems) == 0 {
		return nil
	}
	return e
}
