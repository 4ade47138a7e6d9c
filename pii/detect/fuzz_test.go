package detect

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
)

// checkFindings fails t unless the findings lie in a text of n bytes, are
// sorted by Start, do not overlap, and have a known type and confidence.
func checkFindings(t *testing.T, fs []Finding, n int) {
	t.Helper()
	for i, f := range fs {
		if f.Start < 0 || f.End > n || f.Start >= f.End {
			t.Fatalf("finding %v outside the text of %d bytes", f, n)
		}
		if i > 0 && f.Start < fs[i-1].End {
			t.Fatalf("findings %v and %v overlap or are out of order", fs[i-1], f)
		}
		if f.Confidence < Low || f.Confidence > High || f.Type == "" {
			t.Fatalf("finding %v has no type or a bad confidence", f)
		}
		if k := slices.Index(builtinTypes[:], f.Type); k >= 0 && f.End-f.Start > builtinMaxSpan[k] {
			t.Fatalf("finding %v is longer than its type's maximum span, %d", f, builtinMaxSpan[k])
		}
	}
}

// FuzzScan checks that scanning never panics, that findings are in
// bounds, sorted and apart, that ScanString agrees with Scan, and that a
// stream finds the same as a scan of the whole input however it is read:
// the input is repeated to span several buffers of a small stream.
// (Run it with -fuzz FuzzScan.)
func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		"mail alice.smith@example.co.za, call +27 82 555 1234 or (011) 555-1234",
		"card 4111 1111 1111 1111 iban GB82 WEST 1234 5698 7654 32 id 8001015009087",
		"ip 10.0.0.1 2001:db8::1 ::ffff:192.168.1.1 ssn 123-45-6789 nino AB 12 34 56 C",
		"AKIAIOSFODNN7EXAMPLE ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 postgres://app:pw@db:5432/x",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln -----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
		"a@a@a@a@a@ 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 :::::::: ....... ------BEGIN ",
		"\xff\xfe\x00\x01 2026-01-20T03:54:10.644Z +1 (212) 555-1234 \xc3\x28",
	} {
		f.Add([]byte(seed))
	}
	custom, err := Pattern("order", `ORD-\d{4,8}`, func(m []byte) bool { return m[len(m)-1] != '0' })
	if err != nil {
		f.Fatal(err)
	}
	withCustom, err := New(&Options{Detectors: []Detector{custom}, MinConfidence: Medium})
	if err != nil {
		f.Fatal(err)
	}
	// The stream check uses the types of short span, so that its buffer
	// and the repeated input are small enough to fuzz quickly; the stream
	// tests cover the long ones.
	short, err := New(&Options{Types: []Type{Email, Phone, Card, IBAN, ZAID, IPv4, IPv6, USSSN, UKNINO, APIKey, URLCredentials}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range []*Scanner{Default(), withCustom} {
			found := s.Scan(data)
			checkFindings(t, found, len(data))
			if str := s.ScanString(string(data)); !slices.Equal(found, str) {
				t.Fatalf("ScanString %v, Scan %v", str, found)
			}
		}
		if len(data) == 0 {
			return
		}
		s := short
		input := bytes.Repeat(data, 1+3*smallBuffer(s)/len(data))
		want := s.Scan(input)
		seed := uint64(len(data))
		for _, r := range []*chunkReader{
			{r: rand.New(rand.NewPCG(seed, 1)), b: input, max: 1 + int(data[0])*37},
			{r: rand.New(rand.NewPCG(seed, 2)), b: input, max: 5000},
		} {
			got := streamAll(t, s.newStream(iotest.HalfReader(r), smallBuffer(s)), input)
			if !slices.Equal(want, got) {
				t.Fatalf("stream found %d findings, scan %d", len(got), len(want))
			}
		}
	})
}
