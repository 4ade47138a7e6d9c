package pii

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/dataward/dataward"
)

// The sealed format, version 1:
//
//	magic 0xD1 | version 0x01 | key id (4 bytes, big-endian) | nonce (12) | AES-256-GCM ciphertext and tag (16)
//
// The first six bytes (the header) are authenticated too: the associated
// data is header | len(subject) | subject | field. No valid UTF-8 text
// starts with the bytes 0xD1 0x01, so a clear string is never taken for a
// sealed value.
//
// The text form is TextPrefix followed by the binary form in unpadded
// base64url, so that it fits a text column and is easy to recognise:
// "dw1:0QG...". A host migrating a table can find its clear rows with
// `WHERE col NOT LIKE 'dw1:%'`.
const (
	magic      = 0xD1
	version1   = 0x01
	headerSize = 6
	nonceSize  = 12
	tagSize    = 16
	// Overhead is how many bytes sealing adds to a value in binary form.
	Overhead = headerSize + nonceSize + tagSize
	// TextPrefix starts every sealed value in text form.
	TextPrefix = "dw1:"
	// MaxFieldLen is the longest field context accepted, in bytes.
	MaxFieldLen = 255
)

var b64 = base64.RawURLEncoding

// IsSealed reports whether b looks like a sealed value in binary form. It
// checks the format only; [Keyring.Open] authenticates.
func IsSealed(b []byte) bool {
	return len(b) >= Overhead && b[0] == magic && b[1] == version1
}

// IsSealedString reports whether s looks like a sealed value in text form.
// It checks the prefix only; [Keyring.OpenString] authenticates.
func IsSealedString(s string) bool { return strings.HasPrefix(s, TextPrefix) }

// Seal encrypts plaintext for subject, bound to field, and returns the
// sealed value in binary form (len(plaintext) + [Overhead] bytes). field
// names the record type and field the value belongs to, such as
// "customer.email"; to bind a value to one row too, include the row's id in
// it ("customer/42.email").
//
// The subject's data key is created on first use. Returns a
// *dataward.ValidationError for an empty or over-long subject or field, and
// an error matching [ErrShredded] if the subject was shredded.
func (k *Keyring) Seal(ctx context.Context, subject dataward.SubjectID, field string, plaintext []byte) ([]byte, error) {
	if err := checkArgs(subject, field, ""); err != nil {
		return nil, err
	}
	dk, err := k.dataKey(ctx, subject, true)
	if err != nil {
		return nil, &Error{Op: "seal", Field: field, Err: err}
	}
	return sealTo(nil, dk, subject, field, "", plaintext), nil
}

// Open authenticates and decrypts a value sealed by [Keyring.Seal] for the
// same subject and field.
//
// Errors match, with [errors.Is]: [ErrNotSealed] if sealed is not a sealed
// value; [ErrMalformed] if it is truncated or of an unknown version;
// [ErrAuthFailed] if it was tampered with or sealed for another subject or
// field; [ErrShredded] if the subject was shredded; [ErrKeyNotFound] if the
// subject has no key; [ErrUnwrap] if the master key cannot unwrap the
// subject's key.
func (k *Keyring) Open(ctx context.Context, subject dataward.SubjectID, field string, sealed []byte) ([]byte, error) {
	if err := checkArgs(subject, field, ""); err != nil {
		return nil, err
	}
	pt, err := k.openTo(ctx, nil, subject, field, "", sealed)
	if err != nil {
		return nil, &Error{Op: "open", Field: field, Err: err}
	}
	return pt, nil
}

// SealString is [Keyring.Seal] for text: it returns the sealed value in
// text form, which starts with [TextPrefix].
func (k *Keyring) SealString(ctx context.Context, subject dataward.SubjectID, field, plaintext string) (string, error) {
	if err := checkArgs(subject, field, ""); err != nil {
		return "", err
	}
	dk, err := k.dataKey(ctx, subject, true)
	if err != nil {
		return "", &Error{Op: "seal", Field: field, Err: err}
	}
	return sealText(dk, subject, field, "", plaintext), nil
}

// OpenString is [Keyring.Open] for a sealed value in text form. A value
// without [TextPrefix] gets an error matching [ErrNotSealed].
func (k *Keyring) OpenString(ctx context.Context, subject dataward.SubjectID, field, sealed string) (string, error) {
	if err := checkArgs(subject, field, ""); err != nil {
		return "", err
	}
	s, err := k.openText(ctx, subject, field, "", sealed)
	if err != nil {
		return "", &Error{Op: "open", Field: field, Err: err}
	}
	return s, nil
}

// checkArgs validates a subject and the field context record[.name].
func checkArgs(subject dataward.SubjectID, record, name string) error {
	sp := subject.Problem()
	fp := fieldProblem(record, name)
	if sp == "" && fp == "" {
		return nil
	}
	ve := &dataward.ValidationError{Package: "pii"}
	if sp != "" {
		ve.Add("subject", sp)
	}
	if fp != "" {
		ve.Add("field", fp)
	}
	return ve
}

func fieldProblem(record, name string) string {
	n := len(record)
	if name != "" {
		n += 1 + len(name)
	}
	switch {
	case record == "":
		return "is empty"
	case n > MaxFieldLen:
		return "is longer than 255 bytes"
	case !utf8.ValidString(record) || !utf8.ValidString(name):
		return "is not valid UTF-8"
	case strings.ContainsFunc(record, isControl) || strings.ContainsFunc(name, isControl):
		return "contains a control character"
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// scratch buffers for associated data and text encoding, so that the hot
// paths allocate only their result.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// appendAD appends the associated data of a sealed value: its header, the
// subject, and the field context record[.name].
func appendAD(dst, header []byte, subject dataward.SubjectID, record, name string) []byte {
	dst = append(dst, header...)
	dst = append(dst, byte(len(subject)))
	dst = append(dst, subject...)
	dst = append(dst, record...)
	if name != "" {
		dst = append(dst, '.')
		dst = append(dst, name...)
	}
	return dst
}

// sealTo appends the binary sealed form of plaintext to dst.
func sealTo(dst []byte, dk *dataKey, subject dataward.SubjectID, record, name string, plaintext []byte) []byte {
	start := len(dst)
	if free := cap(dst) - start; free < Overhead+len(plaintext) {
		grown := make([]byte, start, start+Overhead+len(plaintext))
		copy(grown, dst)
		dst = grown
	}
	dst = append(dst, magic, version1)
	dst = binary.BigEndian.AppendUint32(dst, dk.id)
	dst = dst[:start+headerSize+nonceSize]
	nonce := dst[start+headerSize:]
	rand.Read(nonce)
	ad := getBuf()
	*ad = appendAD(*ad, dst[start:start+headerSize], subject, record, name)
	dst = dk.aead.Seal(dst, nonce, plaintext, *ad)
	putBuf(ad)
	return dst
}

// sealText returns the text sealed form of plaintext, allocating only the
// result.
func sealText(dk *dataKey, subject dataward.SubjectID, record, name, plaintext string) string {
	bin := getBuf()
	// Sealing only reads the plaintext: a read-only view of the string's
	// bytes saves copying the clear text into (and wiping) a scratch buffer.
	*bin = sealTo(*bin, dk, subject, record, name, unsafe.Slice(unsafe.StringData(plaintext), len(plaintext)))
	out := make([]byte, len(TextPrefix)+b64.EncodedLen(len(*bin)))
	copy(out, TextPrefix)
	b64.Encode(out[len(TextPrefix):], *bin)
	putBuf(bin)
	// out is never written again: viewing it as a string is safe, and saves
	// a copy (this is what strings.Builder does).
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// parse checks the format of a binary sealed value and returns its key id.
func parse(sealed []byte) (uint32, error) {
	switch {
	case len(sealed) < 2 || sealed[0] != magic:
		return 0, ErrNotSealed
	case sealed[1] != version1:
		return 0, ErrMalformed // a future version, or damage
	case len(sealed) < Overhead:
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint32(sealed[2:headerSize]), nil
}

// openTo authenticates and decrypts sealed, appending the plaintext to dst.
func (k *Keyring) openTo(ctx context.Context, dst []byte, subject dataward.SubjectID, record, name string, sealed []byte) ([]byte, error) {
	id, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	dk, err := k.dataKey(ctx, subject, false)
	if err != nil {
		return nil, err
	}
	return openWith(dk, dst, subject, record, name, id, sealed)
}

func openWith(dk *dataKey, dst []byte, subject dataward.SubjectID, record, name string, id uint32, sealed []byte) ([]byte, error) {
	if id != dk.id {
		return nil, ErrAuthFailed
	}
	ad := getBuf()
	*ad = appendAD(*ad, sealed[:headerSize], subject, record, name)
	nonce := sealed[headerSize : headerSize+nonceSize]
	pt, err := dk.aead.Open(dst, nonce, sealed[headerSize+nonceSize:], *ad)
	putBuf(ad)
	if err != nil {
		return nil, ErrAuthFailed
	}
	return pt, nil
}

// decodeText decodes the text form s, appending to dst.
func decodeText(dst []byte, s string) ([]byte, error) {
	if !IsSealedString(s) {
		return nil, ErrNotSealed
	}
	s = s[len(TextPrefix):]
	// AppendDecode only reads its source: a read-only view of the string's
	// bytes saves copying it.
	out, err := b64.AppendDecode(dst[:0], unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		return nil, ErrMalformed
	}
	return out, nil
}

// openText opens the text form, allocating only the result.
func (k *Keyring) openText(ctx context.Context, subject dataward.SubjectID, record, name, sealed string) (string, error) {
	if !IsSealedString(sealed) {
		return "", ErrNotSealed
	}
	dk, err := k.dataKey(ctx, subject, false)
	if err != nil {
		return "", err
	}
	return openTextWith(dk, subject, record, name, sealed)
}

func openTextWith(dk *dataKey, subject dataward.SubjectID, record, name, sealed string) (string, error) {
	bin := getBuf()
	defer putBuf(bin)
	raw, err := decodeText(*bin, sealed)
	if err != nil {
		return "", err
	}
	*bin = raw
	id, err := parse(raw)
	if err != nil {
		return "", ErrMalformed // it has the text prefix, so it is damaged
	}
	pt := getBuf()
	defer putBuf(pt)
	out, err := openWith(dk, (*pt)[:0], subject, record, name, id, raw)
	if err != nil {
		return "", err
	}
	s := string(out)
	clear(out)
	*pt = out
	return s, nil
}
