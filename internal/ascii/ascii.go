// Package ascii holds fast checks of identifiers that are nearly always
// plain ASCII, such as subject ids and field names, which dataward checks on
// every Seal and Open.
package ascii

import (
	"encoding/binary"
	"unsafe"
)

// Printable reports whether every byte of s is printable ASCII (0x20 to
// 0x7e). It looks at eight bytes at a time. A false result says only that
// s needs a closer look: it may hold UTF-8 text, which is often allowed.
func Printable(s string) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
		add  = 0x6060606060606060
	)
	// A read-only view of the string's bytes, for 8-byte loads.
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		// With no byte at or above 0x80, adding 0x60 or 0x01 to each byte
		// cannot carry into the next: a byte is below 0x20 exactly when
		// b+0x60 lacks the high bit, and is 0x7f exactly when b+0x01 has
		// it.
		if w&high != 0 || (^(w+add)|(w+ones))&high != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
