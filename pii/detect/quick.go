package detect

import "encoding/binary"

// The quick check settles most short texts, such as the values of a log
// record ("ord-7731", "checkout-service"), in a few dozen instructions and
// without the main loop: every finding of a built-in type holds a number
// of digits, a length, or bytes such as '@' that its matcher needs
// (builtinHolds), and a text that holds what no enabled type needs holds
// no finding of them. Digits, length and bytes only grow from a finding
// to the text around it, so the check never rejects a text in which the
// main loop would find something; TestHoldsAreTrue and
// TestQuickIsTheLoop hold it to the matchers.

// maxQuick is the length of the longest text that the quick check looks
// at: two words of eight bytes.
const maxQuick = 16

// Bytes that every finding of some types holds, as a set of bits.
const (
	holdDot   = 1 << iota // '.'
	holdAt                // '@'
	holdColon             // ':'
	numHoldSets
)

// A holds says what every finding of a built-in type holds, whatever the
// text around it.
type holds struct {
	digits int   // ASCII digits, at least
	length int   // bytes, at least
	bytes  uint8 // each byte of this set of holdDot, holdAt, holdColon
}

// builtinHolds says, for each built-in type, what its matcher needs to
// find anything; each entry says where its bound comes from.
var builtinHolds = func() (h [numBuiltin]holds) {
	h[tEmail] = holds{bytes: holdAt}
	// E.164 numbers have 8 to 15 digits (validE164), national ones 10 or
	// 11 (nationalPhone).
	h[tPhone] = holds{digits: 8}
	h[tCard] = holds{digits: 12} // 12 to 19 digits (cardIssuer)
	// Two check digits (validIBAN), and the shortest country's length.
	h[tIBAN] = holds{digits: 2, length: minIBAN}
	h[tZAID] = holds{digits: 13}
	h[tIPv4] = holds{digits: 4, bytes: holdDot} // four octets joined by dots
	h[tIPv6] = holds{bytes: holdColon}
	h[tSSN] = holds{digits: 9}
	h[tNINO] = holds{digits: 6} // two letters, six digits and a letter
	// A key is its prefix and a body of at least f.min bytes (matchKey).
	h[tAPIKey] = holds{length: 1 << 16}
	for _, f := range keyFormats {
		h[tAPIKey].length = min(h[tAPIKey].length, len(f.prefix)+f.min)
	}
	h[tJWT] = holds{length: minJWTText, bytes: holdDot} // segments joined by dots
	h[tPEM] = holds{length: minPEMText}
	h[tURL] = holds{bytes: holdColon | holdAt} // scheme://user:password@host
	return h
}()

// quickIndex is the index in builtin.quick of a text of n bytes, at most
// maxQuick, that holds the bytes set: a byte, so that the table of 256
// entries needs no bounds check.
func quickIndex(set uint8, n int) uint8 { return set<<5 | uint8(n) }

// setQuick sets b.quick from builtinHolds and the enabled types.
func (b *builtin) setQuick() {
	for i := range b.quick {
		b.quick[i] = 0xff // more digits than a text of maxQuick bytes holds
	}
	for set := range uint8(numHoldSets) {
		for n := range maxQuick + 1 {
			for t, on := range b.on {
				if h := builtinHolds[t]; on && n >= h.length && set&h.bytes == h.bytes {
					i := quickIndex(set, n)
					b.quick[i] = min(b.quick[i], uint8(h.digits))
				}
			}
		}
	}
}

// shortWords returns the bytes of text, of at most maxQuick bytes, as two
// words of eight, each byte once; the other bytes are zeros, which count
// as nothing.
func shortWords(text []byte) (w0, w1 uint64) {
	n := len(text)
	if n < 8 {
		for i := n - 1; i >= 0; i-- {
			w0 = w0<<8 | uint64(text[i])
		}
		return w0, 0
	}
	w0 = binary.LittleEndian.Uint64(text)
	if n > 8 {
		// The last eight bytes, the 16-n of them that w0 holds shifted
		// out: where a byte stands does not matter to countShort.
		w1 = binary.LittleEndian.Uint64(text[n-8:]) >> (uint(16-n) * 8 & 63)
	}
	return w0, w1
}

// countShort returns how many of the bytes of w0 and w1, which are
// ASCII, are digits, and whether any is a '.', ':' or '@' (or one of
// "/;<=>?"), which holdSet tells apart.
func countShort(w0, w1 uint64) (digits int, marks bool) {
	// x + (0x80-c)*ones has the high bit of a byte set where that byte
	// of x is c or more: no byte of x has its high bit set, so none
	// carries into the next. d marks the digits, m the bytes from '.' to
	// '@', digits among them.
	d0 := (w0 + (0x80-'0')*ones) &^ (w0 + (0x80-'9'-1)*ones) & high
	d1 := (w1 + (0x80-'0')*ones) &^ (w1 + (0x80-'9'-1)*ones) & high
	m0 := (w0 + (0x80-'.')*ones) &^ (w0 + (0x80-'@'-1)*ones) & high
	m1 := (w1 + (0x80-'.')*ones) &^ (w1 + (0x80-'@'-1)*ones) & high
	// A digit is a 1 in its byte: the sum of the bytes, at most 16, comes
	// to the top byte.
	return int((d0>>7 + d1>>7) * ones >> 56), m0 != d0 || m1 != d1
}

// holdSet returns which of '.', '@' and ':' the bytes of w0 and w1, which
// are ASCII, hold, as a set of holdDot, holdAt and holdColon.
func holdSet(w0, w1 uint64) uint8 {
	var set uint8
	if eq(w0, '.')|eq(w1, '.') != 0 {
		set |= holdDot
	}
	if eq(w0, '@')|eq(w1, '@') != 0 {
		set |= holdAt
	}
	if eq(w0, ':')|eq(w1, ':') != 0 {
		set |= holdColon
	}
	return set
}

// eq returns the high bits of the bytes of x, which are ASCII, that are
// c: x^c*ones has a zero byte there, and adding 0x7f to each byte sets
// the high bit of every other.
func eq(x uint64, c byte) uint64 {
	return ^((x ^ uint64(c)*ones) + 0x7f*ones) & high
}

// Constants of the arithmetic on eight bytes at once (skipPlain,
// plainBytes, countShort, eq): a 1 and the high bit in every byte.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)
