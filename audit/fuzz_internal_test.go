package audit

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward"
)

// decode never panics, whatever it is given, and what it decodes encodes
// back to the same bytes (the encoding is canonical).
func FuzzDecode(f *testing.F) {
	e := Event{ID: "id", Time: time.Unix(1, 2000).UTC(), Action: "a.b", Actor: Actor{ID: "x", Roles: []string{"r"}},
		Changes: []Change{{Field: "f", Before: "b", After: "a"}}, Metadata: []Attr{{Key: "k", Value: "v", Sensitivity: Sensitive}}}
	f.Add(encode(nil, 7, &e))
	f.Add([]byte(encodingMagic))
	f.Add([]byte("DWA\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Add(append([]byte("DWA\x01\x80\x00"), encode(nil, 0, &e)[5:]...)) // a number not in its shortest form
	f.Fuzz(func(t *testing.T, data []byte) {
		index, ev, err := decode(data)
		if err != nil {
			return
		}
		if again := encode(nil, index, &ev); string(again) != string(data) {
			t.Fatalf("decode then encode changed the bytes:\n%x\n%x", data, again)
		}
	})
}

// Verify reports damage, never panics, on a store filled with garbage.
func FuzzVerifyGarbage(f *testing.F) {
	f.Add([]byte("DWA\x01\x00"), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data, hash []byte) {
		s := NewMemStore()
		var h tlog.Hash
		copy(h[:], hash)
		if err := s.Append(context.Background(), Batch{
			Entries: []Entry{{Index: 0, Data: data}},
			Hashes:  []StoredHash{{Index: 0, Hash: h}},
		}); err != nil {
			t.Fatal(err)
		}
		_, _ = Verify(context.Background(), s, nil)
	})
}

// usual, check's fast path, accepts only events that the field-by-field
// check accepts too.
func FuzzCheckUsual(f *testing.F) {
	f.Add("customer.update", "cust-42", "staff-1", "email", "a***@example.com", "route", "PUT /x", "success", uint8(0))
	f.Add("auth login", "", "", "", "", "", "", "denied", uint8(1))
	f.Add("a.b", "ünï", "x\x7f", "", "b", "", "v", "failure", uint8(3))
	f.Add("a.b", "s", "x", "f", "\x00", "k", "", "", uint8(2))
	// Events that break one rule each.
	f.Add("a.b", "s", "x", "f", "v", "k", "v", "success", uint8(3))
	f.Add("a.b", "s", "x", "f", "v", "k", "v", "done", uint8(0))
	f.Add("a b", "s", "x", "f", "v", "k", "v", "success", uint8(0))
	f.Add("a.b", "s", "x", "", "v", "k", "v", "success", uint8(0))
	f.Add("a.b", "s", "x", "f", "v", "", "v", "success", uint8(0))
	f.Add("a.b", strings.Repeat("s", 256), "x", "f", "v", "k", "v", "success", uint8(0))
	f.Add("a.b", "s", strings.Repeat("x", 1025), "f", "v", "k", "v", "success", uint8(0))
	f.Fuzz(func(t *testing.T, action, subject, actor, field, value, key, mdValue, outcome string, sens uint8) {
		e := Event{
			ID: "0190b7a2-0000-7000-8000-000000000000", Action: action, Subject: dataward.SubjectID(subject),
			Actor:    Actor{ID: actor, Roles: []string{actor}, UserAgent: value},
			Resource: Resource{Type: "customer", ID: subject}, Outcome: Outcome(outcome), Reason: value,
			Changes:  []Change{{Field: field, Before: value, After: value}},
			Metadata: []Attr{{Key: key, Value: mdValue, Sensitivity: Sensitivity(sens)}},
		}
		if usual(&e) {
			if err := checkFields(&e); err != nil {
				t.Fatalf("usual accepts an event that check rejects: %v", err)
			}
		}
	})
}

// DecodeEntry accepts exactly what decode accepts and reads the same
// fields, and FromData holds for the entry it returns (and for the entry a
// Logger appends), without allocating.
func FuzzDecodeEntry(f *testing.F) {
	e := Event{ID: "id", Time: time.Unix(1, 2000).UTC(), Action: "a.b", Class: "c", Actor: Actor{ID: "x", Roles: []string{"r"}},
		Subject: "s", Resource: Resource{Type: "t", ID: "i"}, Outcome: Denied,
		Changes: []Change{{Field: "f", Before: "b", After: "a"}}, Metadata: []Attr{{Key: "k", Value: "v", Sensitivity: Sensitive}}}
	f.Add(encode(nil, 7, &e))
	f.Add(encode(nil, 0, &Event{}))
	f.Add([]byte(encodingMagic))
	f.Add(append(encode(nil, 7, &e), 0))
	f.Add(append([]byte("DWA\x01\x80\x00"), encode(nil, 0, &e)[5:]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		index, ev, err := decode(data)
		got, gerr := DecodeEntry(data)
		if (err == nil) != (gerr == nil) {
			t.Fatalf("decode: %v, DecodeEntry: %v", err, gerr)
		}
		if err != nil {
			if got.FromData() {
				t.Fatal("FromData holds for data that does not decode")
			}
			return
		}
		want := Entry{
			Index: index, Data: data, Time: ev.Time, Action: ev.Action, Class: ev.Class,
			ActorID: ev.Actor.ID, Subject: string(ev.Subject),
			ResourceType: ev.Resource.Type, ResourceID: ev.Resource.ID, Outcome: ev.Outcome,
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeEntry = %+v, want %+v", got, want)
		}
		if !got.FromData() {
			t.Fatal("FromData does not hold for what DecodeEntry returns")
		}
		for _, change := range []func(e *Entry){
			func(e *Entry) { e.Index++ },
			func(e *Entry) { e.Time = e.Time.Add(time.Microsecond) },
			func(e *Entry) { e.Time = e.Time.Add(1) },
			func(e *Entry) { e.Action += "x" },
			func(e *Entry) { e.Class += "x" },
			func(e *Entry) { e.ActorID += "x" },
			func(e *Entry) { e.Subject += "x" },
			func(e *Entry) { e.ResourceType += "x" },
			func(e *Entry) { e.ResourceID += "x" },
			func(e *Entry) { e.Outcome += "x" },
		} {
			other := got
			change(&other)
			if other.FromData() {
				t.Fatalf("FromData holds for a changed entry %+v", other)
			}
		}
		if n := testing.AllocsPerRun(10, func() { got.FromData() }); n != 0 {
			t.Fatalf("FromData allocates %v times", n)
		}
	})
}
