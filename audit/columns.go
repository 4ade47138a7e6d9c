package audit

import (
	"encoding/binary"
	"fmt"
	"time"
)

// DecodeEntry returns the entry whose Data is data, a canonical encoding of
// a stored record (as a [Logger] appends it): its Index is the position the
// record was encoded for, and its columns (Time, Action, Class, ActorID,
// Subject, ResourceType, ResourceID, Outcome) are the record's fields. A
// store may keep Data alone, or Data and the columns it indexes, and
// recover the rest with DecodeEntry; [Entry.FromData] says when it can.
// Data is data itself, not a copy. An error means data is not a canonical
// encoding (a damaged entry, which [Verify] reports).
func DecodeEntry(data []byte) (Entry, error) {
	c, err := readColumns(data)
	if err != nil {
		return Entry{Data: data}, err
	}
	// One allocation for the strings: they share the bytes of one copy of
	// the encoding's first fields.
	return c.entry(data, string(data[:c.end])), nil
}

// entry returns the entry whose Data is data, which c was read from; head
// holds the bytes of data[:c.end], from which the strings are taken.
func (c *recordColumns) entry(data []byte, head string) Entry {
	str := func(f span) string { return head[f.off : f.off+f.len] }
	return Entry{
		Index: c.index, Data: data,
		Time:   time.UnixMicro(c.micros).UTC(),
		Action: str(c.action), Class: str(c.class),
		ActorID: str(c.actor), Subject: str(c.subject),
		ResourceType: str(c.rtype), ResourceID: str(c.rid), Outcome: Outcome(str(c.outcome)),
	}
}

// FromData reports whether e is what [DecodeEntry] returns for e.Data: its
// Index is the position e.Data was encoded for, and its columns are the
// fields of that record (Time to the microsecond, in any location). Every
// entry a [Logger] appends is. It allocates nothing.
func (e *Entry) FromData() bool {
	c, err := readColumns(e.Data)
	if err != nil {
		return false
	}
	b := e.Data
	is := func(f span, s string) bool { return string(b[f.off:f.off+f.len]) == s }
	return c.index == e.Index && c.micros == e.Time.UnixMicro() && e.Time.Nanosecond()%1000 == 0 &&
		is(c.action, e.Action) && is(c.class, e.Class) && is(c.actor, e.ActorID) && is(c.subject, e.Subject) &&
		is(c.rtype, e.ResourceType) && is(c.rid, e.ResourceID) && is(c.outcome, string(e.Outcome))
}

// span is where a string field lies in an encoding.
type span struct{ off, len int }

// recordColumns are the fields of an encoded record that [Entry] holds.
type recordColumns struct {
	index, micros                                      int64
	class, action, actor, subject, rtype, rid, outcome span
	end                                                int // where the last of them ends
}

// readColumns parses data as decode does, checking all of it, without
// allocating: it returns where the fields of Entry lie. (Stores call it
// for every entry they append, hence a parser of its own.)
func readColumns(data []byte) (recordColumns, error) {
	var c recordColumns
	if len(data) < len(encodingMagic) || string(data[:len(encodingMagic)]) != encodingMagic {
		return c, fmt.Errorf("%w: unknown format", errEncoding)
	}
	r := spanReader{b: data, i: len(encodingMagic), ok: true}
	c.index = int64(r.uvarint())
	r.skip(1) // ID
	c.micros = r.varint()
	c.class = r.field()
	c.action = r.field()
	c.actor = r.field()
	r.skip(2)              // Actor.Kind, Actor.Tenant
	r.skip(int(r.count())) // Actor.Roles
	r.skip(2)              // Actor.SourceIP, Actor.UserAgent
	c.subject = r.field()
	c.rtype = r.field()
	c.rid = r.field()
	c.outcome = r.field()
	c.end = r.i
	r.skip(1) // Reason
	if n := r.count(); n > 0 {
		r.skip(3 * int(n)) // Changes
	}
	r.skip(2) // RequestID, TraceID
	for n := r.count(); n > 0 && r.ok; n-- {
		r.skip(1)
		if r.i >= len(r.b) {
			r.ok = false
		}
		r.i++
		r.skip(1)
	}
	if !r.ok {
		return recordColumns{}, fmt.Errorf("%w: bad field", errEncoding)
	}
	if r.i != len(data) {
		return recordColumns{}, fmt.Errorf("%w: %d trailing bytes", errEncoding, len(data)-r.i)
	}
	return c, nil
}

// spanReader reads the canonical encoding as decoder does, accepting the
// same records, but returns where strings lie instead of copying them.
// Once ok is false it reads nothing more.
type spanReader struct {
	b  []byte
	i  int
	ok bool
}

func (r *spanReader) uvarint() uint64 {
	if r.i < len(r.b) && r.b[r.i] < 0x80 { // the usual one-byte number
		r.i++
		return uint64(r.b[r.i-1])
	}
	if r.i > len(r.b) {
		r.ok = false
		return 0
	}
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 || n != uvarintLen(v) {
		r.ok = false
		r.i = len(r.b) + 1 // nothing more reads
		return 0
	}
	r.i += n
	return v
}

func (r *spanReader) varint() int64 {
	ux := r.uvarint() // zig-zag, as binary.AppendVarint encodes
	v := int64(ux >> 1)
	if ux&1 != 0 {
		v = ^v
	}
	return v
}

// count reads a list length, bounded by what the rest could hold.
func (r *spanReader) count() uint64 {
	n := r.uvarint()
	if r.i > len(r.b) || n > uint64(len(r.b)-r.i) {
		r.ok = false
		r.i = len(r.b) + 1
		return 0
	}
	return n
}

func (r *spanReader) field() span {
	n := r.count()
	f := span{off: r.i, len: int(n)}
	if r.ok {
		r.i += int(n)
	}
	return f
}

func (r *spanReader) skip(fields int) {
	for ; fields > 0 && r.ok; fields-- {
		r.field()
	}
}
