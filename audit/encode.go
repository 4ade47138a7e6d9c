package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dataward/dataward"
)

// The canonical encoding of a stored event, version 1, is what the Merkle
// tree commits to. It is deterministic (one encoding per stored event),
// self-delimiting and versioned:
//
//	"DWA" 0x01 | index (uvarint) | then each field in a fixed order
//
// where a string is its length (uvarint) and bytes, a time is Unix
// microseconds (varint), and a list is its length (uvarint) and items. The
// fields hold their protected forms (see Sensitivity): the encoding of an
// event never holds a clear Sensitive or Secret value. The index of the
// entry is encoded too, so that an entry moved to another position no
// longer verifies there.
const encodingMagic = "DWA\x01"

// errEncoding marks a stored record that does not decode.
var errEncoding = errors.New("audit: malformed stored record")

// encode appends the canonical encoding of e, stored at index, to dst. e
// holds protected values.
func encode(dst []byte, index int64, e *Event) []byte {
	return encodeRecord(dst, index, e, nil)
}

// encodeRecord is encode with id, if not nil, as the event's ID in place of
// e.ID: the Logger keeps the IDs it makes as bytes (see pending.id).
func encodeRecord(dst []byte, index int64, e *Event, id []byte) []byte {
	dst = append(dst, encodingMagic...)
	dst = binary.AppendUvarint(dst, uint64(index))
	if id != nil {
		dst = binary.AppendUvarint(dst, uint64(len(id)))
		dst = append(dst, id...)
	} else {
		dst = appendString(dst, e.ID)
	}
	dst = binary.AppendVarint(dst, e.Time.UnixMicro())
	dst = appendString(dst, e.Class)
	dst = appendString(dst, e.Action)
	dst = appendString(dst, e.Actor.ID)
	dst = appendString(dst, string(e.Actor.Kind))
	dst = appendString(dst, e.Actor.Tenant)
	dst = binary.AppendUvarint(dst, uint64(len(e.Actor.Roles)))
	for _, r := range e.Actor.Roles {
		dst = appendString(dst, r)
	}
	dst = appendString(dst, e.Actor.SourceIP)
	dst = appendString(dst, e.Actor.UserAgent)
	dst = appendString(dst, string(e.Subject))
	dst = appendString(dst, e.Resource.Type)
	dst = appendString(dst, e.Resource.ID)
	dst = appendString(dst, string(e.Outcome))
	dst = appendString(dst, e.Reason)
	dst = binary.AppendUvarint(dst, uint64(len(e.Changes)))
	for _, c := range e.Changes {
		dst = appendString(dst, c.Field)
		dst = appendString(dst, c.Before)
		dst = appendString(dst, c.After)
	}
	dst = appendString(dst, e.RequestID)
	dst = appendString(dst, e.TraceID)
	dst = binary.AppendUvarint(dst, uint64(len(e.Metadata)))
	for _, a := range e.Metadata {
		dst = appendString(dst, a.Key)
		dst = append(dst, byte(a.Sensitivity))
		dst = appendString(dst, a.Value)
	}
	return dst
}

// encodedSize is the length of encodeRecord's encoding of e, with an ID
// of idLen bytes, at the largest index: what [MaxEventSize] bounds.
func encodedSize(e *Event, idLen int) int {
	str := func(s string) int { return uvarintLen(uint64(len(s))) + len(s) }
	n := len(encodingMagic) + binary.MaxVarintLen64 + uvarintLen(uint64(idLen)) + idLen + binary.MaxVarintLen64
	n += str(e.Class) + str(e.Action) + str(e.Actor.ID) + str(string(e.Actor.Kind)) + str(e.Actor.Tenant)
	n += uvarintLen(uint64(len(e.Actor.Roles)))
	for _, r := range e.Actor.Roles {
		n += str(r)
	}
	n += str(e.Actor.SourceIP) + str(e.Actor.UserAgent) + str(string(e.Subject)) + str(e.Resource.Type) +
		str(e.Resource.ID) + str(string(e.Outcome)) + str(e.Reason)
	n += uvarintLen(uint64(len(e.Changes)))
	for _, c := range e.Changes {
		n += str(c.Field) + str(c.Before) + str(c.After)
	}
	n += str(e.RequestID) + str(e.TraceID) + uvarintLen(uint64(len(e.Metadata)))
	for _, a := range e.Metadata {
		n += str(a.Key) + 1 + str(a.Value)
	}
	return n
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decode parses a canonical encoding, returning the index it was encoded
// for and the stored (protected) event.
func decode(data []byte) (int64, Event, error) {
	d := decoder{b: data}
	if len(data) < len(encodingMagic) || string(data[:len(encodingMagic)]) != encodingMagic {
		return 0, Event{}, fmt.Errorf("%w: unknown format", errEncoding)
	}
	d.b = d.b[len(encodingMagic):]
	var e Event
	index := int64(d.uvarint())
	e.ID = d.string()
	e.Time = time.UnixMicro(d.varint()).UTC()
	e.Class = d.string()
	e.Action = d.string()
	e.Actor.ID = d.string()
	e.Actor.Kind = dataward.ActorKind(d.string())
	e.Actor.Tenant = d.string()
	if n := d.count(); n > 0 {
		e.Actor.Roles = make([]string, n)
		for i := range e.Actor.Roles {
			e.Actor.Roles[i] = d.string()
		}
	}
	e.Actor.SourceIP = d.string()
	e.Actor.UserAgent = d.string()
	e.Subject = dataward.SubjectID(d.string())
	e.Resource.Type = d.string()
	e.Resource.ID = d.string()
	e.Outcome = Outcome(d.string())
	e.Reason = d.string()
	if n := d.count(); n > 0 {
		e.Changes = make([]Change, n)
		for i := range e.Changes {
			e.Changes[i] = Change{Field: d.string(), Before: d.string(), After: d.string()}
		}
	}
	e.RequestID = d.string()
	e.TraceID = d.string()
	if n := d.count(); n > 0 {
		e.Metadata = make([]Attr, n)
		for i := range e.Metadata {
			a := Attr{Key: d.string()}
			a.Sensitivity = Sensitivity(d.byte())
			a.Value = d.string()
			e.Metadata[i] = a
		}
	}
	if d.err != nil {
		return 0, Event{}, d.err
	}
	if len(d.b) != 0 {
		return 0, Event{}, fmt.Errorf("%w: %d trailing bytes", errEncoding, len(d.b))
	}
	return index, e, nil
}

// decoder reads the canonical encoding; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errEncoding, what)
	}
	d.b = nil
}

// uvarint and varint accept only the shortest encoding of a number, so
// that every stored event has exactly one encoding.
func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	ux := uint64(v) << 1 // zig-zag, as binary.AppendVarint encodes
	if v < 0 {
		ux = ^ux
	}
	if n <= 0 || n != uvarintLen(ux) {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uvarintLen is the length of the shortest encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// count reads a list length, bounded by what the rest of the record could
// hold, so that a damaged length cannot make decode allocate without limit.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("list length")
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string length")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}
