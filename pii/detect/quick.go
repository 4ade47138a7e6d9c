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

// mayHold reports whether text, of at most maxQuick bytes, may hold a
// finding of an enabled type: whether it has as many digits as b.quick
// says a text of its length, holding the bytes it holds of '.', '@' and
// ':', needs. It reads the text as two words of eight bytes, and leaves
// a text with a byte that is not ASCII, rare in short values, to the
// full scan.
func (b *builtin) mayHold(text []byte) bool {
	n := len(text)
	// w0 and w1 hold each byte of the text once; their other bytes are
	// zeros, which count as nothing.
	var w0, w1 uint64
	if n >= 8 {
		w0 = binary.LittleEndian.Uint64(text)
		if n > 8 {
			// The last eight bytes, without the 16-n that w0 holds.
			dup := uint(16-n) * 8 & 63
			w1 = binary.LittleEndian.Uint64(text[n-8:]) >> dup << dup
		}
	} else {
		for i := n - 1; i >= 0; i-- {
			w0 = w0<<8 | uint64(text[i])
		}
	}
	if (w0|w1)&high != 0 {
		return true // not ASCII
	}
	// x + (0x80-c)*ones has the high bit of a byte set where that byte
	// of x is c or more: no byte of x has its high bit set, so none
	// carries into the next. d marks the digits, m the bytes from '.' to
	// '@', digits among them; where m and d differ is a '.', ':', '@' or
	// one of "/;<=>?", and holdSet then says which the text holds.
	d0 := (w0 + (0x80-'0')*ones) &^ (w0 + (0x80-'9'-1)*ones)
	d1 := (w1 + (0x80-'0')*ones) &^ (w1 + (0x80-'9'-1)*ones)
	m0 := (w0 + (0x80-'.')*ones) &^ (w0 + (0x80-'@'-1)*ones)
	m1 := (w1 + (0x80-'.')*ones) &^ (w1 + (0x80-'@'-1)*ones)
	var set uint8
	if ((m0^d0)|(m1^d1))&high != 0 {
		set = holdSet(text)
	}
	// A digit is a 1 in its byte: the sum of the bytes, at most 16, comes
	// to the top byte.
	return int(((d0&high)>>7+(d1&high)>>7)*ones>>56) >= int(b.quick[quickIndex(set, n)])
}

// Constants of the arithmetic on eight bytes at once (skipPlain,
// plainBytes, mayHold): a 1 and the high bit in every byte.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// holdSet returns which of '.', '@' and ':' text holds, as a set of
// holdDot, holdAt and holdColon.
func holdSet(text []byte) uint8 {
	var set uint8
	for _, c := range text {
		switch c {
		case '.':
			set |= holdDot
		case '@':
			set |= holdAt
		case ':':
			set |= holdColon
		}
	}
	return set
}
