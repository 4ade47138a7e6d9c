package audit

import (
	"context"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
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
