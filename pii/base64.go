package pii

import "encoding/binary"

// The alphabet of base64.RawURLEncoding.
const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64Pairs maps twelve bits to their two characters, the first in the low
// byte.
var b64Pairs = func() (t [1 << 12]uint16) {
	for i := range t {
		t[i] = uint16(b64Alphabet[i>>6]) | uint16(b64Alphabet[i&0x3f])<<8
	}
	return t
}()

// encodeBase64 is b64.Encode (unpadded base64url), faster for the sizes
// sealed fields have: it turns six bytes into eight characters per step,
// with one 8-byte load, four lookups of two characters and one 8-byte store,
// where encoding/base64 takes three bytes and four lookups a step. The
// standard encoder does the last few bytes, so the two agree on every input
// (see FuzzEncodeBase64).
func encodeBase64(dst, src []byte) {
	di, si := 0, 0
	// Each step reads eight bytes and uses the first six.
	for ; si+8 <= len(src) && di+8 <= len(dst); si, di = si+6, di+8 {
		v := binary.BigEndian.Uint64(src[si:])
		binary.LittleEndian.PutUint64(dst[di:],
			uint64(b64Pairs[v>>52])|
				uint64(b64Pairs[v>>40&0xfff])<<16|
				uint64(b64Pairs[v>>28&0xfff])<<32|
				uint64(b64Pairs[v>>16&0xfff])<<48)
	}
	b64.Encode(dst[di:], src[si:])
}
