package pii

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalizer puts a value into the canonical form a [BlindIndex] hashes, so
// that spellings a person would call the same value ("Ann@Example.com" and
// "ann@example.com ") get the same index. It appends the normalised form of
// s to dst and returns the extended slice, like [strconv.AppendInt], so that
// normalising allocates nothing once dst has grown.
//
// A Normalizer must be deterministic, must not retain dst or s, and must be
// safe for concurrent use. It is part of an index's identity: changing the
// normaliser of a field changes its index values, so the rows indexed
// before must be indexed again.
//
// The provided normalisers work on code points as they are; they do not
// apply Unicode normalisation (NFC). If a field's values can arrive both
// composed and decomposed ("é" as one code point or as "e" and a combining
// accent), normalise them to NFC before indexing, for example with
// golang.org/x/text/unicode/norm in a Normalizer of your own.
type Normalizer func(dst []byte, s string) []byte

// NormalizeEmail is the [Normalizer] for e-mail addresses: it trims
// surrounding white space and lower-cases the whole address, local part
// included, so "  Ann.Lee@Example.COM" becomes "ann.lee@example.com".
// ASCII addresses take a fast path; others are lower-cased code point by
// code point with [unicode.ToLower]. Bytes that are not valid UTF-8 are
// kept as they are.
//
// It does not remove dots or "+tag" suffixes and does not convert
// internationalised domain names to punycode: addresses that differ in
// those ways index differently.
func NormalizeEmail(dst []byte, s string) []byte {
	return appendLower(dst, strings.TrimSpace(s))
}

// NormalizeSpace is the [Normalizer] for names, addresses and other free
// text: it trims surrounding white space, collapses every inner run of
// white space (as defined by [unicode.IsSpace]) into one ASCII space, and
// lower-cases the rest like [NormalizeEmail], so " Ann \t LEE\n" becomes
// "ann lee".
func NormalizeSpace(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	start := len(dst)
	space := false // a space is pending: written only if more text follows
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if asciiSpace[c] {
				space = true
				continue
			}
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			space = true
			continue
		}
		if space && len(dst) > start {
			dst = append(dst, ' ')
		}
		space = false
		dst = appendLowerRune(dst, s[i:i+size], r)
		i += size
	}
	return dst
}

// NormalizePhone is the [Normalizer] for telephone numbers: it keeps the
// ASCII digits and a '+' that comes before the first digit, and drops
// everything else, so "+27 82 555 1234", "+27 (82) 555-1234" and
// "+27825551234" all become "+27825551234", and "082-555-1234" becomes
// "0825551234".
//
// It knows no numbering plan: a national form ("082 555 1234") and an
// international one ("+27 82 555 1234") of the same number index
// differently. If both can occur, convert numbers to E.164 before indexing.
// Letters, such as an extension marker, are dropped but the digits after
// them are kept.
func NormalizePhone(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	plus, digits := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			dst = append(dst, c)
			digits = true
		case c == '+' && !plus && !digits:
			dst = append(dst, c)
			plus = true
		}
	}
	return dst
}

// asciiSpace holds the ASCII bytes for which unicode.IsSpace is true.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// appendLower appends s lower-cased to dst, with a fast path for ASCII.
func appendLower(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return appendLowerUnicode(dst, s[i:])
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendLowerUnicode appends s lower-cased to dst, code point by code point.
func appendLowerUnicode(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = appendLowerRune(dst, s[i:i+size], r)
		i += size
	}
	return dst
}

// appendLowerRune appends the lower case of r, decoded from enc, to dst. An
// invalid encoding is appended unchanged, so that distinct invalid inputs
// keep distinct index values.
func appendLowerRune(dst []byte, enc string, r rune) []byte {
	if r == utf8.RuneError && len(enc) == 1 {
		return append(dst, enc...)
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}
