package pii

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dataward/dataward"
)

const (
	stars     = "***"  // the fixed mask of Mask, MaskEmail and MaskPhone
	starsWide = "****" // the fixed mask of MaskCard and MaskSecret
)

// Mask masks generic personal text, such as a name, for display.
//
// Mask and the other Mask functions ([MaskEmail], [MaskPhone], [MaskCard],
// [MaskSecret]) turn a clear value into a form that can be shown to staff,
// written to a log or returned by a support tool: enough to recognise the
// value, never enough to recover it. They are pure, never panic, accept
// any input (invalid UTF-8, very long strings), work in runes rather than
// bytes, and return valid UTF-8 without control characters. A value that
// does not look like what a function expects is masked whole rather than
// in part, so choosing the wrong function hides too much, not too little.
//
// Mask keeps the first rune and appends a fixed "***", whatever the length
// of s, so the length is not revealed: "Alice Smith" becomes "A***". The
// empty string stays empty. A value of a single rune, or one whose first
// rune is not a printable character other than a space, becomes "***"
// alone.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	r, size := utf8.DecodeRuneInString(s)
	if size == len(s) || !keepable(r) {
		return stars
	}
	return string(r) + stars
}

// MaskEmail masks an e-mail address, keeping its domain, which is rarely
// personal, and at most two runes of the local part:
//
//   - a local part of 6 runes or more keeps its first and last rune:
//     "alice.smith@example.com" becomes "a***h@example.com";
//   - one of 3 to 5 runes keeps its first rune: "alice@example.com"
//     becomes "a***@example.com";
//   - a shorter one is masked whole: "al@example.com" becomes
//     "***@example.com".
//
// The mask is always "***", so the length of the local part is not
// revealed. The address is split at its last '@'. A string without a usable
// '@' (none, an empty local part, or a domain that is not a host name made
// of letters, digits, '-', '_' and '.') is masked with [Mask].
func MaskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || !isDomain(s[at+1:]) {
		return Mask(s)
	}
	local, domain := s[:at], s[at+1:]
	n := utf8.RuneCountInString(local)
	var b strings.Builder
	b.Grow(2*utf8.UTFMax + len(stars) + 1 + len(domain))
	switch {
	case n >= 6:
		first, _ := utf8.DecodeRuneInString(local)
		last, _ := utf8.DecodeLastRuneInString(local)
		writeKept(&b, first)
		b.WriteString(stars)
		writeKept(&b, last)
	case n >= 3:
		first, _ := utf8.DecodeRuneInString(local)
		writeKept(&b, first)
		b.WriteString(stars)
	default:
		b.WriteString(stars)
	}
	b.WriteByte('@')
	b.WriteString(domain)
	return b.String()
}

// maxDomainLen is the longest host name in DNS, in bytes.
const maxDomainLen = 253

// isDomain reports whether s looks enough like a host name to be shown in
// clear: not empty, not too long, and made only of letters (any script),
// digits, '-', '_' and '.'.
func isDomain(s string) bool {
	if s == "" || len(s) > maxDomainLen {
		return false
	}
	for _, r := range s {
		switch {
		case r == '.' || r == '-' || r == '_':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		default:
			return false // includes utf8.RuneError for invalid UTF-8
		}
	}
	return true
}

// Layout limits: longer input is not a phone or card number and is masked
// whole.
const (
	maxPhoneRunes  = 32
	maxCardRunes   = 40
	minPhoneDigits = 7  // fewer digits than this: mask all of them
	minCardDigits  = 12 // fewer digits than this: mask all of them
	maxCardDigits  = 19 // the longest primary account number
)

// MaskPhone masks a telephone number, keeping its layout and its last two
// digits: every other digit becomes '*' and the separators (space, '+',
// '-', '.', '(', ')' and '/') stay where they are, so "+27 82 555 1234"
// becomes "+** ** *** **34". The number of digits is therefore visible; the
// country code is not.
//
// A number with fewer than 7 digits has all its digits masked. A string
// that is not a phone number (it holds no digit, holds any other character,
// or is longer than 32 runes) becomes "***". Digits of any script count.
func MaskPhone(s string) string {
	if s == "" {
		return ""
	}
	digits, ok := countLayout(s, maxPhoneRunes, isPhoneSep, unicode.IsDigit)
	if !ok || digits == 0 {
		return stars
	}
	keep := 2
	if digits < minPhoneDigits {
		keep = 0
	}
	return maskLayout(s, digits-keep, unicode.IsDigit)
}

func isPhoneSep(r rune) bool {
	switch r {
	case ' ', '+', '-', '.', '(', ')', '/':
		return true
	}
	return false
}

// MaskCard masks a payment card number, keeping its layout and only its
// last four digits: "4111 1111 1111 1111" becomes "**** **** **** 1111" and
// "4111-1111-1111-1111" becomes "****-****-****-1111". The result never
// holds more than four digits.
//
// A number with fewer than 12 digits has all its digits masked. A string
// that is not a card number (it holds no digit, more than 19 digits, any
// character other than ASCII digits, spaces and '-', or more than 40 runes)
// becomes "****".
func MaskCard(s string) string {
	if s == "" {
		return ""
	}
	digits, ok := countLayout(s, maxCardRunes, isCardSep, isASCIIDigit)
	if !ok || digits == 0 || digits > maxCardDigits {
		return starsWide
	}
	keep := 4
	if digits < minCardDigits {
		keep = 0
	}
	return maskLayout(s, digits-keep, isASCIIDigit)
}

func isCardSep(r rune) bool { return r == ' ' || r == '-' }

func isASCIIDigit(r rune) bool { return '0' <= r && r <= '9' }

// countLayout counts the digits of s and reports whether s is made only of
// digits and separators and has at most maxRunes runes.
func countLayout(s string, maxRunes int, isSep, isDigit func(rune) bool) (digits int, ok bool) {
	n := 0
	for _, r := range s {
		n++
		if n > maxRunes {
			return 0, false
		}
		switch {
		case isDigit(r):
			digits++
		case isSep(r):
		default:
			return 0, false // includes utf8.RuneError for invalid UTF-8
		}
	}
	return digits, true
}

// maskLayout replaces the first n digits of s with '*' and keeps every
// other rune. s must have passed countLayout, so it is valid UTF-8 made of
// digits and separators.
func maskLayout(s string, n int, isDigit func(rune) bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if n > 0 && isDigit(r) {
			b.WriteByte('*')
			n--
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Secret masking limits.
const (
	minSecretRunes  = 12 // shorter secrets show nothing
	maxSecretPrefix = 8  // longest well-known prefix shown, in bytes
	maxSecretPlain  = 4  // runes shown of a secret without such a prefix
)

// MaskSecret masks an API key, token or password. It shows at most a short
// prefix, to tell keys apart, followed by a fixed "****" that does not
// reveal the length:
//
//   - a secret that starts with a well-known prefix, lowercase ASCII
//     letters ended by '_' or '-' within its first 8 bytes, such as
//     Stripe's "sk_live_", GitHub's "ghp_" or Slack's "xoxb-", shows that
//     prefix: "sk_live_51HxYz..." becomes "sk_live_****";
//   - another secret shows its first 4 runes when they are ASCII letters
//     and digits: "AKIAIOSFODNN7EXAMPLE" becomes "AKIA****";
//   - a secret shorter than 12 runes, or one that starts otherwise, becomes
//     "****" alone.
//
// The empty string stays empty.
func MaskSecret(s string) string {
	if s == "" {
		return ""
	}
	if utf8.RuneCountInString(s) < minSecretRunes {
		return starsWide
	}
	if p := secretPrefix(s); p != "" {
		return p + starsWide
	}
	for i := 0; i < maxSecretPlain; i++ {
		if !isASCIIAlnum(s[i]) {
			return starsWide
		}
	}
	return s[:maxSecretPlain] + starsWide
}

// secretPrefix returns the well-known prefix of s: its longest leading part
// of at most maxSecretPrefix bytes that is made of runs of lowercase ASCII
// letters, each ended by '_' or '-' ("sk_live_", "ghp_", "xoxb-"). It
// returns "" if there is none. Digits and capitals are not part of a
// prefix, so a random token rarely seems to have one. s has at least
// minSecretRunes bytes.
func secretPrefix(s string) string {
	end := 0
	for i := 0; i < maxSecretPrefix; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
		case (c == '_' || c == '-') && i > end:
			end = i + 1
		default:
			return s[:end]
		}
	}
	return s[:end]
}

func isASCIIAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// keepable reports whether a rune of the clear value may be shown in a mask:
// a printable character other than a space or the replacement character
// that stands for invalid UTF-8.
func keepable(r rune) bool {
	return r != utf8.RuneError && unicode.IsPrint(r) && !unicode.IsSpace(r)
}

// writeKept writes r if it may be shown, and '*' instead otherwise.
func writeKept(b *strings.Builder, r rune) {
	if keepable(r) {
		b.WriteRune(r)
	} else {
		b.WriteByte('*')
	}
}

// MaskKind names a masking function, so that the function can be chosen by
// configuration or a struct tag. The zero value masks like [MaskKindText].
type MaskKind string

// The mask kinds, one per masking function.
const (
	MaskKindEmail  MaskKind = "email"  // [MaskEmail]
	MaskKindPhone  MaskKind = "phone"  // [MaskPhone]
	MaskKindCard   MaskKind = "card"   // [MaskCard]
	MaskKindSecret MaskKind = "secret" // [MaskSecret]
	MaskKindText   MaskKind = "text"   // [Mask]
)

// Mask masks s with the function k names. The zero MaskKind masks like
// [MaskKindText]; an unknown kind masks every non-empty s as "***", so a
// typo hides too much rather than too little.
func (k MaskKind) Mask(s string) string {
	switch k {
	case MaskKindEmail:
		return MaskEmail(s)
	case MaskKindPhone:
		return MaskPhone(s)
	case MaskKindCard:
		return MaskCard(s)
	case MaskKindSecret:
		return MaskSecret(s)
	case MaskKindText, "":
		return Mask(s)
	}
	if s == "" {
		return ""
	}
	return stars
}

// maxKindEcho is how much of a bad mask kind an error message repeats.
const maxKindEcho = 32

// ParseMaskKind returns the MaskKind named s, which must be one of "email",
// "phone", "card", "secret" and "text", exactly. Otherwise it returns a
// [*dataward.ValidationError] (matched by [dataward.ErrInvalid]).
func ParseMaskKind(s string) (MaskKind, error) {
	switch k := MaskKind(s); k {
	case MaskKindEmail, MaskKindPhone, MaskKindCard, MaskKindSecret, MaskKindText:
		return k, nil
	}
	if len(s) > maxKindEcho {
		s = s[:maxKindEcho] + "..."
	}
	err := &dataward.ValidationError{Package: "pii"}
	return "", err.Add("mask kind", strconv.Quote(s)+" is not one of email, phone, card, secret, text")
}
