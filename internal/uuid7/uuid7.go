// Package uuid7 makes UUIDv7 identifiers (RFC 9562): time-ordered, unique,
// and cheap to make.
package uuid7

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// Generator makes ids without reading randomness for each one: it draws a
// random base once and counts from it (RFC 9562, section 6.2, method 3).
// Ids of one Generator never repeat, and those of two collide only if their
// 74-bit random bases do. Ids need to be unique, not secret. It is safe for
// concurrent use.
type Generator struct {
	randA uint16 // 12 random bits, the same for every id of this Generator
	base  uint64 // random
	seq   atomic.Uint64
}

// NewGenerator returns a Generator with a fresh random base.
func NewGenerator() *Generator {
	var b [10]byte
	rand.Read(b[:])
	return &Generator{randA: binary.BigEndian.Uint16(b[:2]) & 0x0fff, base: binary.BigEndian.Uint64(b[2:])}
}

// Next returns an id for something that happened at t.
func (g *Generator) Next(t time.Time) string {
	var s [36]byte
	g.Put(&s, t)
	return string(s[:])
}

// Put writes an id for something that happened at t into s, for callers
// that keep ids in buffers of their own.
func (g *Generator) Put(s *[36]byte, t time.Time) {
	var u [16]byte
	putMillis(&u, t)
	binary.BigEndian.PutUint16(u[6:], 0x7000|g.randA)
	binary.BigEndian.PutUint64(u[8:], g.base+g.seq.Add(1))
	u[8] = u[8]&0x3f | 0x80
	format(s, &u)
}

// New returns an id for t with fresh randomness, for ids made rarely.
func New(t time.Time) string {
	var u [16]byte
	putMillis(&u, t)
	rand.Read(u[6:])
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	format(&s, &u)
	return string(s[:])
}

func putMillis(u *[16]byte, t time.Time) {
	ms := uint64(t.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
}

// format writes u into s in the text form of RFC 9562.
func format(s *[36]byte, u *[16]byte) {
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
}
