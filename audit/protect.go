package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"sync"

	"github.com/dataward/dataward"
)

// Sealer encrypts and decrypts values under a data subject's key, so that
// shredding the subject makes them unreadable. *pii.Keyring satisfies it.
// OpenString must return an error matching [dataward.ErrErased] for a value
// whose subject was shredded.
type Sealer interface {
	SealString(ctx context.Context, subject dataward.SubjectID, field, plaintext string) (string, error)
	OpenString(ctx context.Context, subject dataward.SubjectID, field, sealed string) (string, error)
}

// sealedPrefix starts a value sealed by the Sealer: pii.TextPrefix, which
// this package cannot import (pii imports audit).
const sealedPrefix = "dw1:"

// HashPrefix starts every value stored as a keyed hash (Sensitive).
const HashPrefix = "h1:"

// Placeholders that reports show for a Secret value they cannot read.
const (
	Erased = "[erased]" // the subject was shredded
	Sealed = "[sealed]" // encrypted for a subject the reader did not name
)

// hash returns the keyed hash of value as stored for field: domain
// separated by field, so that equal values in different fields do not
// match.
func (l *Logger) hash(field, value string) string {
	if value == "" {
		return ""
	}
	st := l.macs.Get().(*macState)
	st.h.Reset()
	st.buf = append(append(append(st.buf[:0], field...), 0), value...)
	st.h.Write(st.buf)
	sum := st.h.Sum(st.sum[:0])
	var out [len(HashPrefix) + 22]byte
	copy(out[:], HashPrefix)
	base64.RawURLEncoding.Encode(out[len(HashPrefix):], sum[:16])
	clear(st.buf)
	l.macs.Put(st)
	return string(out[:])
}

// macState is a keyed HMAC kept in a pool: after its first Reset, crypto/hmac
// restores the keyed state instead of hashing the key again, which halves
// the cost of a short value's hash.
type macState struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func newMACPool(key []byte) *sync.Pool {
	return &sync.Pool{New: func() any {
		h := hmac.New(sha256.New, key)
		h.Reset()
		return &macState{h: h}
	}}
}

// protect replaces value, of field, by its stored form.
func (l *Logger) protect(ctx context.Context, field string, s Sensitivity, subject dataward.SubjectID, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	switch {
	case s == Public:
		return value, nil
	case s == Secret && l.sealer != nil && subject != "":
		return l.sealer.SealString(ctx, subject, "audit."+field, value)
	default:
		return l.hash(field, value), nil
	}
}

// protectEvent replaces every non-public field of e by its stored form. It
// copies e's slices into own, changed or not, and points e at the copies:
// the caller's are left alone, and e, queued, holds no memory of the
// caller's, who may reuse it once Record returns (at once, for a Buffered
// event).
func (l *Logger) protectEvent(ctx context.Context, e *Event, own *eventSlices) error {
	subject := e.Subject
	var err error
	set := func(field Field, s Sensitivity, v *string) {
		if err == nil && s != Public {
			*v, err = l.protect(ctx, string(field), s, subject, *v)
		}
	}
	set(FieldActorID, l.sens.actorID, &e.Actor.ID)
	set(FieldActorIP, l.sens.actorIP, &e.Actor.SourceIP)
	set(FieldActorUserAgent, l.sens.actorUserAgent, &e.Actor.UserAgent)
	set(FieldResourceID, l.sens.resourceID, &e.Resource.ID)
	set(FieldReason, l.sens.reason, &e.Reason)
	if len(e.Actor.Roles) > 0 {
		own.roles = append(own.roles[:0], e.Actor.Roles...)
		e.Actor.Roles = own.roles
	}
	if len(e.Changes) > 0 {
		own.changes = append(own.changes[:0], e.Changes...)
		e.Changes = own.changes
		if s := l.sens.changes; s != Public {
			for i := range e.Changes {
				c := &e.Changes[i]
				field := "change." + c.Field
				if err == nil {
					c.Before, err = l.protect(ctx, field+".before", s, subject, c.Before)
				}
				if err == nil {
					c.After, err = l.protect(ctx, field+".after", s, subject, c.After)
				}
			}
		}
	}
	if len(e.Metadata) > 0 {
		own.metadata = append(own.metadata[:0], e.Metadata...)
		e.Metadata = own.metadata
		for i := range e.Metadata {
			if a := &e.Metadata[i]; err == nil && a.Sensitivity != Public && a.Value != "" {
				a.Value, err = l.protect(ctx, "metadata."+a.Key, a.Sensitivity, subject, a.Value)
			}
		}
	}
	if l.sens.subject != Public {
		e.Subject = dataward.SubjectID(l.hash(string(FieldSubject), string(subject)))
	}
	return err
}

// fieldSensitivities is Logger.fields as a struct, read on every Record
// without a map lookup.
type fieldSensitivities struct {
	actorID, actorIP, actorUserAgent, subject, resourceID, reason, changes Sensitivity
}

func sensitivitiesOf(fields map[Field]Sensitivity) fieldSensitivities {
	return fieldSensitivities{
		actorID: fields[FieldActorID], actorIP: fields[FieldActorIP], actorUserAgent: fields[FieldActorUserAgent],
		subject: fields[FieldSubject], resourceID: fields[FieldResourceID], reason: fields[FieldReason],
		changes: fields[FieldChanges],
	}
}

// SubjectKey returns the form in which the log stores subject: the subject
// itself if FieldSubject is Public, else its keyed hash. Stores index it.
func (l *Logger) SubjectKey(subject dataward.SubjectID) string {
	if l.fields[FieldSubject] == Public {
		return string(subject)
	}
	return l.hash(string(FieldSubject), string(subject))
}

// reveal opens the Secret values of a stored event e, sealed for subject,
// in place. Values whose subject was shredded become [Erased]; values it
// cannot open because subject is unknown become [Sealed]. Only values
// stored as Secret are opened (metadata by the sensitivity recorded with
// it, the other fields by Options.Fields): a Public value that happens to
// start as a sealed one does is left as recorded.
func (l *Logger) reveal(ctx context.Context, e *Event, subject dataward.SubjectID) {
	open := func(field string, secret bool, v string) string {
		if !secret || !strings.HasPrefix(v, sealedPrefix) {
			return v
		}
		if l.sealer == nil || subject == "" {
			return Sealed
		}
		clear, err := l.sealer.OpenString(ctx, subject, "audit."+field, v)
		switch {
		case err == nil:
			return clear
		case errors.Is(err, dataward.ErrErased):
			return Erased
		default:
			return Sealed
		}
	}
	e.Actor.ID = open(string(FieldActorID), l.sens.actorID == Secret, e.Actor.ID)
	e.Actor.SourceIP = open(string(FieldActorIP), l.sens.actorIP == Secret, e.Actor.SourceIP)
	e.Actor.UserAgent = open(string(FieldActorUserAgent), l.sens.actorUserAgent == Secret, e.Actor.UserAgent)
	e.Resource.ID = open(string(FieldResourceID), l.sens.resourceID == Secret, e.Resource.ID)
	e.Reason = open(string(FieldReason), l.sens.reason == Secret, e.Reason)
	for i, c := range e.Changes {
		c.Before = open("change."+c.Field+".before", l.sens.changes == Secret, c.Before)
		c.After = open("change."+c.Field+".after", l.sens.changes == Secret, c.After)
		e.Changes[i] = c
	}
	for i, a := range e.Metadata {
		a.Value = open("metadata."+a.Key, a.Sensitivity == Secret, a.Value)
		e.Metadata[i] = a
	}
}
