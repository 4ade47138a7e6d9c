package audit

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// encodedSize is the length of the encoding, with the index and the time
// counted at their largest.
func TestEncodedSize(t *testing.T) {
	e := Event{ID: "id-1", Time: time.Unix(1, 0), Class: "c", Action: "a.b", Actor: Actor{ID: "u", Roles: []string{"r1", "r2"}},
		Subject: "s", Outcome: Success, Reason: strings.Repeat("z", 200),
		Changes:  []Change{{Field: "f", Before: "x", After: strings.Repeat("y", 300)}},
		Metadata: []Attr{{Key: "k", Value: "v", Sensitivity: Sensitive}}}
	got := len(encode(nil, 0, &e))
	timeLen := len(binary.AppendVarint(nil, e.Time.UnixMicro()))
	if want := encodedSize(&e, len(e.ID)) - (binary.MaxVarintLen64 - 1) - (binary.MaxVarintLen64 - timeLen); got != want {
		t.Fatalf("encoding is %d bytes, encodedSize implies %d", got, want)
	}
}
