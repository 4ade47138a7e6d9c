package redact

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/detect"
)

// appendMask appends the mask of the value v of type t, as documented at
// [Mask], or its tag when v does not have the layout of its type.
func appendMask(dst []byte, t detect.Type, v string) []byte {
	switch t {
	case detect.Email:
		if at := strings.LastIndexByte(v, '@'); at > 0 && isHostname(v[at+1:]) {
			dst = append(dst, '[')
			dst = appendLabel(dst, t)
			dst = append(dst, ':')
			dst = appendLower(dst, v[at+1:])
			return append(dst, ']')
		}
	case detect.Phone:
		if m := pii.MaskPhone(v); m != "***" {
			return append(dst, m...)
		}
	case detect.Card:
		if m := pii.MaskCard(v); m != "****" {
			return append(dst, m...)
		}
	case detect.IBAN, detect.ZAID, detect.USSSN, detect.UKNINO:
		if out, ok := appendKeepLast(dst, v); ok {
			return out
		}
	case detect.IPv4:
		if a, err := netip.ParseAddr(v); err == nil && a.Is4() {
			b := a.As4()
			dst = strconv.AppendUint(dst, uint64(b[0]), 10)
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, uint64(b[1]), 10)
			return append(dst, ".*.*"...)
		}
	case detect.IPv6:
		if a, err := netip.ParseAddr(v); err == nil && a.Is6() {
			b := a.As16()
			dst = strconv.AppendUint(dst, uint64(b[0])<<8|uint64(b[1]), 16)
			return append(dst, ipv6Tail...)
		}
	case detect.APIKey:
		if m := pii.MaskSecret(v); strings.HasSuffix(m, "_****") || strings.HasSuffix(m, "-****") {
			return append(dst, m...)
		}
	case detect.JWT, detect.PrivateKey, detect.URLCredentials:
	default:
		return append(dst, pii.Mask(v)...)
	}
	return appendTag(dst, t)
}

// ipv6Tail follows the first group of a masked IPv6 address.
const ipv6Tail = ":*:*:*:*:*:*:*"

// Limits of appendKeepLast.
const (
	keepLast     = 4  // letters and digits kept
	maxKeepInput = 64 // longer input is tagged
)

// appendKeepLast appends v with every ASCII letter and digit but the last
// four replaced by '*', and the separators ' ', '-', '.' and '/' kept. It
// reports false, appending nothing, if v holds anything else, is longer
// than 64 bytes, or has no more than four letters and digits (which are
// then all masked).
func appendKeepLast(dst []byte, v string) ([]byte, bool) {
	if len(v) > maxKeepInput {
		return dst, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isASCIIAlnum(c):
			n++
		case isIDSep(c):
		default:
			return dst, false
		}
	}
	hide := n - keepLast
	if hide <= 0 {
		hide = n
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isASCIIAlnum(c) && hide > 0 {
			c = '*'
			hide--
		}
		dst = append(dst, c)
	}
	return dst, true
}

func isIDSep(c byte) bool { return c == ' ' || c == '-' || c == '.' || c == '/' }

func isASCIIAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isHostname reports whether s is a host name worth showing: ASCII letters,
// digits, '-' and '.', at least two labels, none empty, and a last label
// with a letter (so not an IP address).
func isHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isASCIIAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return strings.IndexFunc(s[dot+1:], func(r rune) bool { return r > '9' }) >= 0
}

// appendLower appends s with ASCII capitals lowered.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendNormal appends the form of the value v of type t that its
// pseudonym is computed from, as documented at [Pseudonym].
func appendNormal(dst []byte, t detect.Type, v string) []byte {
	switch t {
	case detect.Email:
		return append(dst, strings.ToLower(v)...)
	case detect.Phone, detect.Card, detect.ZAID, detect.USSSN:
		for i := 0; i < len(v); i++ {
			if c := v[i]; '0' <= c && c <= '9' {
				dst = append(dst, c)
			}
		}
		return dst
	case detect.IBAN, detect.UKNINO:
		for i := 0; i < len(v); i++ {
			if c := v[i]; isASCIIAlnum(c) {
				if 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
				}
				dst = append(dst, c)
			}
		}
		return dst
	case detect.IPv4, detect.IPv6:
		if a, err := netip.ParseAddr(v); err == nil {
			return a.AppendTo(dst)
		}
	}
	return append(dst, v...)
}

// isReplacement reports whether s is what some value of type t is replaced
// with: "[REDACTED]", its tag, its pseudonym or its mask. Struct leaves
// such values as they are, so that redacting a struct twice changes
// nothing.
func isReplacement(t detect.Type, s string) bool {
	if s == redacted {
		return true
	}
	var buf [maxLabel + 1]byte
	if rest, ok := strings.CutPrefix(s, string(appendLabel(append(buf[:0], '['), t))); ok {
		inner, ok := strings.CutPrefix(rest, ":")
		inner, closed := strings.CutSuffix(inner, "]")
		switch {
		case rest == "]":
			return true // a tag
		case !ok || !closed:
		case len(inner) == pseudonymLen && strings.Trim(inner, pseudonymAlphabet) == "":
			return true // a pseudonym
		case t == detect.Email && isHostname(inner):
			return true // a masked address
		}
	}
	switch t {
	case detect.Phone:
		return isMasked(s, 2, func(r rune) bool { return '0' <= r && r <= '9' },
			func(r rune) bool { return strings.ContainsRune(" +-.()/", r) })
	case detect.Card:
		return isMasked(s, 4, func(r rune) bool { return '0' <= r && r <= '9' },
			func(r rune) bool { return r == ' ' || r == '-' })
	case detect.IBAN, detect.ZAID, detect.USSSN, detect.UKNINO:
		return isMasked(s, keepLast, func(r rune) bool { return r < utf8.RuneSelf && isASCIIAlnum(byte(r)) },
			func(r rune) bool { return r < utf8.RuneSelf && isIDSep(byte(r)) })
	case detect.IPv4:
		prefix, ok := strings.CutSuffix(s, ".*.*")
		a, b, two := strings.Cut(prefix, ".")
		return ok && two && isOctet(a) && isOctet(b)
	case detect.IPv6:
		group, ok := strings.CutSuffix(s, ipv6Tail)
		_, err := strconv.ParseUint(group, 16, 16)
		return ok && err == nil
	case detect.APIKey:
		prefix, ok := strings.CutSuffix(s, "****")
		return ok && prefix != "" && strings.Trim(prefix, "abcdefghijklmnopqrstuvwxyz_-") == ""
	case detect.Email, detect.JWT, detect.PrivateKey, detect.URLCredentials:
		return false
	}
	_, size := utf8.DecodeRuneInString(s)
	return s == "***" || len(s) == size+3 && s[size:] == "***"
}

// isMasked reports whether s holds at least one '*', at most most runes
// for which kept is true, and otherwise only runes for which sep is true.
func isMasked(s string, most int, kept, sep func(rune) bool) bool {
	stars := 0
	for _, r := range s {
		switch {
		case r == '*':
			stars++
		case kept(r):
			if most--; most < 0 {
				return false
			}
		case !sep(r):
			return false
		}
	}
	return stars > 0
}

func isOctet(s string) bool {
	n, err := strconv.ParseUint(s, 10, 8)
	return err == nil && strconv.FormatUint(n, 10) == s
}
