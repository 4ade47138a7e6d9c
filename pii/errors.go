package pii

import (
	"errors"
	"strconv"

	"github.com/dataward/dataward"
)

// Sentinel errors. Errors returned by a [Keyring] wrap one of these (check
// with [errors.Is]) inside an [*Error] that says which operation and field
// failed. None of them ever carries a clear-text or sealed value.
var (
	// ErrKeyNotFound: the subject has no data key, so nothing was ever
	// sealed for it by this key store.
	ErrKeyNotFound = errors.New("no data key for this subject")

	// ErrShredded: the subject's data key was destroyed by [Keyring.Shred];
	// everything sealed for the subject is erased for good. It also matches
	// [dataward.ErrErased].
	ErrShredded error = shreddedError{}

	// ErrNotSealed: a clear value was given where a sealed one is expected.
	ErrNotSealed = errors.New("value is not sealed (clear text where a sealed value is expected)")

	// ErrMalformed: the value looks sealed but is truncated, badly encoded
	// or of an unknown format version.
	ErrMalformed = errors.New("sealed value is malformed or truncated")

	// ErrAuthFailed: the sealed value does not authenticate for this
	// subject and field: it was tampered with, or copied from another row,
	// subject or field.
	ErrAuthFailed = errors.New("sealed value does not authenticate for this subject and field (tampered, or copied from another subject or field)")

	// ErrAlreadySealed: [Keyring.SealFields] found a field that holds a
	// sealed value already.
	ErrAlreadySealed = errors.New("value is already sealed")

	// ErrUnwrap: the subject's data key cannot be decrypted with the master
	// key: the master key is the wrong one (or lacks an old version), or
	// the stored key record is corrupted.
	ErrUnwrap = errors.New("cannot unwrap the subject's data key with the master key (wrong master key, or a corrupted key record)")
)

// Error describes a failed operation. Err is one of the sentinel errors
// above or an error from the [KeyStore] or the master key.
type Error struct {
	Op    string // "seal", "open", "shred", "rewrap", ...
	Field string // the field context, e.g. "customer.email"; empty if none
	Err   error
}

// Error returns a message such as
// `pii: open "customer.email": subject was shredded: ...`.
func (e *Error) Error() string {
	s := "pii: " + e.Op
	if e.Field != "" {
		s += " " + strconv.Quote(e.Field)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// shreddedError is [ErrShredded]: it matches [dataward.ErrErased] too, so
// that packages that do not import pii (audit reports, for one) can tell
// erased data from a failure.
type shreddedError struct{}

func (shreddedError) Error() string {
	return "subject was shredded: its data key is destroyed and its data erased"
}

func (shreddedError) Is(target error) bool { return target == dataward.ErrErased }
