package pii

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/ascii"
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
	if fieldProblem(field, "") != "" {
		return nil, checkArgs(subject, field, "")
	}
	dk, err := k.dataKey(ctx, subject, true)
	if err != nil {
		return nil, failure("seal", subject, field, err)
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
// subject's key. A bad subject or field gets a *dataward.ValidationError.
func (k *Keyring) Open(ctx context.Context, subject dataward.SubjectID, field string, sealed []byte) ([]byte, error) {
	// The arguments are checked only when opening fails: a value sealed by
	// Seal opens only with the subject and field it was sealed for, which
	// Seal checked.
	pt, err := k.openTo(ctx, nil, subject, field, "", sealed)
	if err != nil {
		return nil, failure("open", subject, field, err)
	}
	return pt, nil
}

// SealString is [Keyring.Seal] for text: it returns the sealed value in
// text form, which starts with [TextPrefix].
func (k *Keyring) SealString(ctx context.Context, subject dataward.SubjectID, field, plaintext string) (string, error) {
	if fieldProblem(field, "") != "" {
		return "", checkArgs(subject, field, "")
	}
	dk, err := k.dataKey(ctx, subject, true)
	if err != nil {
		return "", failure("seal", subject, field, err)
	}
	return sealText(dk, subject, field, "", plaintext), nil
}

// OpenString is [Keyring.Open] for a sealed value in text form. A value
// without [TextPrefix] gets an error matching [ErrNotSealed].
func (k *Keyring) OpenString(ctx context.Context, subject dataward.SubjectID, field, sealed string) (string, error) {
	s, err := k.openText(ctx, subject, field, "", sealed)
	if err != nil {
		return "", failure("open", subject, field, err)
	}
	return s, nil
}

// failure returns the error of a failed Seal or Open: a
// *dataward.ValidationError if the subject or field is bad, else err
// wrapped in an *Error.
//
// The hot paths check the subject only when it is not in the cache (see
// Keyring.dataKey) and Open checks nothing up front, so that a cache hit
// costs no validation; any failure comes here, and bad arguments are
// reported as such, whatever else went wrong.
func failure(op string, subject dataward.SubjectID, field string, err error) error {
	if ve := checkArgs(subject, field, ""); ve != nil {
		return ve
	}
	return &Error{Op: op, Field: field, Err: err}
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
	}
	if p := textProblem(record); p != "" {
		return p
	}
	return textProblem(name)
}

// textProblem reports invalid UTF-8 or a control character in s.
func textProblem(s string) string {
	switch {
	case ascii.Printable(s): // the usual case, checked fast
		return ""
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, isControl):
		return "contains a control character"
	}
	return ""
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// scratch buffers for text encoding and decoding, so that the text paths
// allocate only their result.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// adSize is the length of the associated data that appendAD builds.
func adSize(subject dataward.SubjectID, record, name string) int {
	n := headerSize + 1 + len(subject) + len(record)
	if name != "" {
		n += 1 + len(name)
	}
	return n
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

// sealTo appends the binary sealed form of plaintext to dst, with a fresh
// nonce.
func sealTo(dst []byte, dk *dataKey, subject dataward.SubjectID, record, name string, plaintext []byte) []byte {
	scratch := getBuf()
	dst = sealWith(dst, (*scratch)[:0], dk, subject, record, name, plaintext, nil)
	putBuf(scratch)
	return dst
}

// sealWith appends the binary sealed form of plaintext to dst, using nonce,
// or a fresh one if nonce is nil. It builds the associated data in
// scratch's spare capacity (growing it if need be), which must not overlap
// the output.
func sealWith(dst, scratch []byte, dk *dataKey, subject dataward.SubjectID, record, name string, plaintext, nonce []byte) []byte {
	start := len(dst)
	dst = slices.Grow(dst, Overhead+len(plaintext))
	dst = append(dst, magic, version1)
	dst = binary.BigEndian.AppendUint32(dst, dk.id)
	if nonce == nil {
		dst = dst[:start+headerSize+nonceSize]
		rand.Read(dst[start+headerSize:])
	} else {
		dst = append(dst, nonce...)
	}
	ad := appendAD(scratch[:0], dst[start:start+headerSize], subject, record, name)
	return dk.aead.Seal(dst, dst[start+headerSize:], plaintext, ad)
}

// sealText returns the text sealed form of plaintext, allocating only the
// result.
func sealText(dk *dataKey, subject dataward.SubjectID, record, name, plaintext string) string {
	// One scratch buffer holds the binary sealed value and, past it, the
	// associated data.
	bin := getBuf()
	end := Overhead + len(plaintext)
	*bin = slices.Grow((*bin)[:0], end+adSize(subject, record, name))
	sealed := sealWith((*bin)[:0], (*bin)[end:end], dk, subject, record, name, readOnlyBytes(plaintext), nil)
	out := make([]byte, textLen(len(plaintext)))
	encodeText(out, sealed)
	putBuf(bin)
	// out is never written again: viewing it as a string is safe, and saves
	// a copy (this is what strings.Builder does).
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// textLen is the length of the text form of a plaintext of n bytes.
func textLen(n int) int { return len(TextPrefix) + b64.EncodedLen(Overhead+n) }

// encodeText writes the text form of the binary sealed value bin to dst,
// which must be textLen(len(bin)-Overhead) bytes long.
func encodeText(dst, bin []byte) {
	copy(dst, TextPrefix)
	encodeBase64(dst[len(TextPrefix):], bin)
}

// readOnlyBytes views the bytes of s without copying them. Sealing only
// reads its plaintext, so this saves copying clear text into (and wiping)
// a scratch buffer; the result must never be written.
func readOnlyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

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
	return openPooled(dk, dst, subject, record, name, id, sealed)
}

// openWith authenticates and decrypts sealed, appending the plaintext to
// dst. It builds the associated data in scratch's spare capacity (growing
// it if need be), which must not overlap the output.
func openWith(dk *dataKey, dst, scratch []byte, subject dataward.SubjectID, record, name string, id uint32, sealed []byte) ([]byte, error) {
	if id != dk.id {
		return nil, ErrAuthFailed
	}
	ad := appendAD(scratch[:0], sealed[:headerSize], subject, record, name)
	nonce := sealed[headerSize : headerSize+nonceSize]
	pt, err := dk.aead.Open(dst, nonce, sealed[headerSize+nonceSize:], ad)
	if err != nil {
		return nil, ErrAuthFailed
	}
	return pt, nil
}

// openPooled is openWith with scratch space from the pool.
func openPooled(dk *dataKey, dst []byte, subject dataward.SubjectID, record, name string, id uint32, sealed []byte) ([]byte, error) {
	scratch := getBuf()
	pt, err := openWith(dk, dst, (*scratch)[:0], subject, record, name, id, sealed)
	putBuf(scratch)
	return pt, err
}

// decodeText decodes the text form s, appending to dst.
func decodeText(dst []byte, s string) ([]byte, error) {
	if !IsSealedString(s) {
		return nil, ErrNotSealed
	}
	s = s[len(TextPrefix):]
	out, err := b64.AppendDecode(dst[:0], readOnlyBytes(s))
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
	buf := getBuf()
	defer putBuf(buf)
	raw, err := decodeText(*buf, sealed)
	if err != nil {
		return "", err
	}
	id, err := parse(raw)
	if err != nil {
		return "", ErrMalformed // it has the text prefix, so it is damaged
	}
	// The plaintext goes just past the decoded value, in the same buffer,
	// and the associated data past the plaintext.
	n, end := len(raw), 2*len(raw)-Overhead
	raw = slices.Grow(raw, n-Overhead+adSize(subject, record, name))
	*buf = raw
	pt, err := openWith(dk, raw[n:n], raw[end:end], subject, record, name, id, raw)
	if err != nil {
		return "", err
	}
	s := string(pt)
	clear(pt)
	return s, nil
}
