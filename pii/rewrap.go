package pii

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// DefaultRewrapBatch is the default [RewrapOptions.BatchSize].
const DefaultRewrapBatch = 500

// RewrapOptions configure [Keyring.Rewrap].
type RewrapOptions struct {
	// After resumes a rewrap after this subject: pass the Cursor of an
	// earlier, interrupted run. Empty starts at the beginning.
	After dataward.SubjectID
	// BatchSize is how many keys are read and replaced at a time. Zero
	// means DefaultRewrapBatch.
	BatchSize int `validate:"gte=0,lte=100000"`
	// Checkpoint, if not nil, is called after every batch with the cursor
	// to resume from, so that the host can persist it. An error from it
	// stops the rewrap.
	Checkpoint func(ctx context.Context, cursor dataward.SubjectID) error
}

// RewrapResult reports what [Keyring.Rewrap] did.
type RewrapResult struct {
	// Rewrapped counts keys now wrapped under the master key's primary
	// version.
	Rewrapped int
	// Skipped counts keys that changed while being rewrapped (shredded, or
	// rewrapped by another process); they are left as the other writer
	// left them.
	Skipped int
	// Cursor is the last subject handled. After an error, pass it as
	// RewrapOptions.After to resume.
	Cursor dataward.SubjectID
}

// Rewrap re-encrypts every stored data key under the master key's current
// primary version, so that an old version can then be retired. Rotate the
// master key first by adding a new primary version to its Tink keyset (or in
// the KMS); values sealed earlier stay readable throughout, because only the
// wrapping of the data keys changes: no sealed value, and no data row, is
// touched.
//
// Rewrap runs online, beside normal traffic, in batches. It is idempotent
// and resumable: after an error or a cancelled ctx, the result's Cursor says
// where to start again. A key that cannot be unwrapped stops the run with an
// error matching [ErrUnwrap] that names its subject.
func (k *Keyring) Rewrap(ctx context.Context, opts *RewrapOptions) (RewrapResult, error) {
	var o RewrapOptions
	if opts != nil {
		o = *opts
	}
	if err := validStruct("RewrapOptions", &o); err != nil {
		return RewrapResult{}, err
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultRewrapBatch
	}
	res := RewrapResult{Cursor: o.After}
	reps := make([]Replacement, 0, o.BatchSize)
	for {
		if err := ctx.Err(); err != nil {
			return res, &Error{Op: "rewrap", Err: err}
		}
		recs, err := k.store.List(ctx, res.Cursor, o.BatchSize)
		if err != nil {
			return res, &Error{Op: "rewrap", Err: err}
		}
		if len(recs) == 0 {
			return res, k.auditRewrap(ctx, res)
		}
		reps = reps[:0]
		for _, rec := range recs {
			ad := wrapAD(rec.Subject, rec.KeyID)
			raw, err := k.kek.Decrypt(rec.Wrapped, ad)
			if err != nil {
				return res, &Error{Op: "rewrap", Field: string(rec.Subject), Err: ErrUnwrap}
			}
			wrapped, err := k.kek.Encrypt(raw, ad)
			clear(raw)
			if err != nil {
				return res, &Error{Op: "rewrap", Field: string(rec.Subject), Err: err}
			}
			if !bytes.Equal(wrapped, rec.Wrapped) {
				reps = append(reps, Replacement{Subject: rec.Subject, Old: rec.Wrapped, New: wrapped})
			}
		}
		n, err := k.store.Replace(ctx, reps)
		if err != nil {
			return res, &Error{Op: "rewrap", Err: err}
		}
		res.Rewrapped += n
		res.Skipped += len(reps) - n
		res.Cursor = recs[len(recs)-1].Subject
		if o.Checkpoint != nil {
			if err := o.Checkpoint(ctx, res.Cursor); err != nil {
				return res, &Error{Op: "rewrap", Err: err}
			}
		}
	}
}

// auditRewrap records a finished rewrap in the audit log, if there is one.
func (k *Keyring) auditRewrap(ctx context.Context, res RewrapResult) error {
	if k.audit == nil {
		return nil
	}
	err := k.audit.Record(ctx, audit.Event{
		Action:   "pii.rewrap",
		Resource: audit.Resource{Type: "pii.keystore"},
		Metadata: []audit.Attr{
			{Key: "rewrapped", Value: strconv.Itoa(res.Rewrapped)},
			{Key: "skipped", Value: strconv.Itoa(res.Skipped)},
		},
	})
	if err != nil {
		return &Error{Op: "rewrap", Err: fmt.Errorf("the keys were rewrapped, but recording it in the audit log failed: %w", err)}
	}
	return nil
}
