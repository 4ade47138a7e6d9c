package redact_test

import (
	"testing"

	"github.com/dataward/dataward/pii/detect"
)

// FuzzRedactTwice checks, for every strategy, that the scanner finds
// nothing in what a Redactor returns, so that redacting it again changes
// nothing, and that String and Bytes agree.
func FuzzRedactTwice(f *testing.F) {
	for _, s := range []string{
		line,
		joinLog(false),
		"4111 1111 1111 1111 555 0199",
		"0821234567 4111111111111111 0821234567",
		"jane.doe@example.com.au, x@192.168.1.1, a@b@example.com",
		"+27 82 555 0199 0199 0199",
		"sk_live_51HxYzAbCdEfGhIjKl sk_test_0000000000000000",
		"[EMAIL:example.com]@example.com [PHONE] ** 1111 192.168.*.*.24",
		"192.168.10.24.192.168.10.25",
		"\xff\xfejane@example.com\x00",
	} {
		f.Add(s)
	}
	scanner := detect.Default()
	f.Fuzz(func(t *testing.T, in string) {
		for name, r := range every(t) {
			once := r.String(in)
			if found := scanner.ScanString(once); len(found) > 0 {
				t.Fatalf("%s: the scanner finds %v in %q, from %q", name, found, once, in)
			}
			if twice := r.String(once); twice != once {
				t.Fatalf("%s: redacting %q again gives %q", name, once, twice)
			}
			if b := r.Bytes([]byte(in)); string(b) != once {
				t.Fatalf("%s: Bytes gives %q, String %q", name, b, once)
			}
		}
	})
}
