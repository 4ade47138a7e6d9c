package detect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii/detect"
)

// typeCase is a text and the one value of type typ it must hold (want),
// or, with want empty, nothing of that type.
type typeCase struct {
	name string
	text string
	want string
}

// runTypeCases checks each case with the default scanner: the value is
// found exactly, with its type, or no finding of the type is made.
func runTypeCases(t *testing.T, typ detect.Type, cases []typeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range detect.Default().ScanString(tc.text) {
				if f.Type == typ {
					got = append(got, tc.text[f.Start:f.End])
				}
			}
			if tc.want == "" {
				assert.Empty(t, got, "in %q", tc.text)
			} else {
				assert.Equal(t, []string{tc.want}, got, "in %q", tc.text)
			}
		})
	}
}

func TestEmail(t *testing.T) {
	runTypeCases(t, detect.Email, []typeCase{
		{"plain", "mail alice@example.com now", "alice@example.com"},
		{"dots plus and subdomain", "to=<alice.smith+news@mail.example.co.za>", "alice.smith+news@mail.example.co.za"},
		{"key=value", "user=bob_99@example.org", "bob_99@example.org"},
		{"sentence end", "write to alice@example.com.", "alice@example.com"},
		{"json", `{"email":"Thandi.Nkosi@Example.COM"}`, "Thandi.Nkosi@Example.COM"},
		{"punycode tld", "x a@b.xn--p1ai y", "a@b.xn--p1ai"},
		{"no tld", "user@localhost", ""},
		{"numeric tld", "a@b.123", ""},
		{"double dot", "a..b@example.com", ""},
		{"dot before at", "a.@example.com", ""},
		{"label starts with hyphen", "a@-example.com", ""},
		{"inner label ends with hyphen", "a@example-.com", ""},
		{"empty label", "a@b..com", ""},
		{"one-letter tld", "a@example.c", ""},
		{"tld of 64 letters", "a@example." + strings.Repeat("c", 64), ""},
		{"tld of 63 letters", "a@example." + strings.Repeat("c", 63), "a@example." + strings.Repeat("c", 63)},
		{"hyphen in tld", "a@example.co-m", ""},
		{"url user name", "https://user@example.com/path", ""},
		{"retina image", "logo@2x.png", ""},
		{"local part too long", strings.Repeat("a", 65) + "@example.com", ""},
		{"glued", "a@example.com_x", ""},
	})
}

func TestPhone(t *testing.T) {
	runTypeCases(t, detect.Phone, []typeCase{
		{"ZA E.164 spaced", "call +27 82 555 1234 now", "+27 82 555 1234"},
		{"ZA E.164 compact", "tel:+27825551234", "+27825551234"},
		{"ZA E.164 trunk in parentheses", "+27 (0)82 555 1234", "+27 (0)82 555 1234"},
		{"ZA national", "mobile 082 555 1234", "082 555 1234"},
		{"ZA national dashes", "082-555-1234", "082-555-1234"},
		{"ZA national compact", "msisdn=0825551234", "0825551234"},
		{"ZA geographic", "(011) 555 1234", "(011) 555 1234"},
		{"UK mobile", "07700 900123", "07700 900123"},
		{"UK London", "020 7946 0958", "020 7946 0958"},
		{"UK E.164", "+44 20 7946 0958", "+44 20 7946 0958"},
		{"NANP parentheses", "(212) 555-1234", "(212) 555-1234"},
		{"NANP dots", "212.555.1234", "212.555.1234"},
		{"NANP E.164", "+1 212-555-1234", "+1 212-555-1234"},
		{"German E.164", "+49 30 12345678", "+49 30 12345678"},
		{"followed by a number", "call 082 555 1234 2 times", "082 555 1234"},
		{"ZA national trunk 9", "0925551234", ""},
		{"ZA E.164 too short", "+27 82 555 123", ""},
		{"unassigned country code", "+80 12 345 6789", ""},
		{"NANP area code 1", "123-555-1234", ""},
		{"unix timestamp", "t=1773480413", ""},
		{"order number", "order #0825551234", ""},
		{"identifier", "ORD-082-555-1234", ""},
		{"plus inside a word", "a+27825551234", ""},
		{"date", "2026-01-20 10", ""},
	})
}

func TestCard(t *testing.T) {
	runTypeCases(t, detect.Card, []typeCase{
		{"visa spaced", "card 4111 1111 1111 1111", "4111 1111 1111 1111"},
		{"visa compact", "pan=4111111111111111", "4111111111111111"},
		{"mastercard dashes", "5555-5555-5555-4444", "5555-5555-5555-4444"},
		{"mastercard 2-series", "2223003122003222", "2223003122003222"},
		{"amex", "3782 822463 10005", "3782 822463 10005"},
		{"discover", "6011111111111117", "6011111111111117"},
		{"jcb", "3530111333300000", "3530111333300000"},
		{"diners 14", "3056 930902 5904", "3056 930902 5904"},
		{"visa 19", "4111 1111 1111 1111 003", "4111 1111 1111 1111 003"},
		{"luhn fails", "4111 1111 1111 1112", ""},
		{"no issuer", "9111 1111 1111 1111 3", ""},
		{"amex wrong length", "3782822463100050", ""},
		{"mixed separators", "4111-1111 1111-1111", ""},
		{"odd grouping", "41111 11111 111111", ""},
		{"glued to letters", "x4111111111111111", ""},
		{"thirteen digits are not a card", "4222222222222", ""},
	})
}

func TestIBAN(t *testing.T) {
	runTypeCases(t, detect.IBAN, []typeCase{
		{"GB print format", "iban GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"},
		{"GB compact", "GB82WEST12345698765432", "GB82WEST12345698765432"},
		{"DE", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"},
		{"NL", "NL91ABNA0417164300", "NL91ABNA0417164300"},
		{"NO shortest", "NO9386011117947", "NO9386011117947"},
		{"mod-97 fails", "GB82 WEST 1234 5698 7654 33", ""},
		{"wrong length", "GB82WEST1234569876543", ""},
		{"too long", "GB82WEST123456987654321", ""},
		{"unknown country", "ZZ82WEST12345698765432", ""},
		{"lower case", "gb82west12345698765432", ""},
		{"groups of five", "GB82 WEST1 2345 6987 6543 2", ""},
	})
}

func TestZAID(t *testing.T) {
	runTypeCases(t, detect.ZAID, []typeCase{
		{"compact", "id 8001015009087", "8001015009087"},
		{"spaced", "800101 5009 087", "800101 5009 087"},
		{"permanent resident", "8001015009186", "8001015009186"},
		{"29 February of a leap year", "0002295009084", "0002295009084"},
		{"checksum", "8001015009088", ""},
		{"month 13", "8013015009086", ""},
		{"day 32", "8001325009083", ""},
		{"29 February of another year", "0102295009087", ""},
		{"citizenship digit 3", "8001015009384", ""},
		{"part of a longer number", "18001015009087", ""},
	})
}

func TestIPv4(t *testing.T) {
	runTypeCases(t, detect.IPv4, []typeCase{
		{"plain", "client 192.168.1.20 ok", "192.168.1.20"},
		{"with port", "10.0.0.1:8080", "10.0.0.1"},
		{"cidr", "10.0.0.0/8", "10.0.0.0"},
		{"four-part version is an address", "release 1.2.3.4 out", "1.2.3.4"},
		{"octet too big", "256.1.1.1", ""},
		{"leading zero", "10.01.1.1", ""},
		{"five parts", "1.2.3.4.5", ""},
		{"version prefix", "v1.2.3.4", ""},
		{"glued", "10.0.0.1x", ""},
		{"host name", "10.0.0.1.example.com", ""},
	})
}

func TestIPv6(t *testing.T) {
	runTypeCases(t, detect.IPv6, []typeCase{
		{"compressed", "from 2001:db8::1 ok", "2001:db8::1"},
		{"full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"},
		{"link-local", "fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"},
		{"mapped IPv4", "::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"bracketed with port", "[2001:db8::5]:443", "2001:db8::5"},
		{"loopback", "::1", "::1"},
		{"time", "10:23:45", ""},
		{"MAC address", "00:1a:2b:3c:4d:5e", ""},
		{"two ellipses", "2001::db8::1", ""},
		{"group too long", "2001:db8a5::1", ""},
		{"C++", "std::vector", ""},
		{"unspecified", "::", ""},
		{"no digit", "dead::beef", ""},
	})
}

func TestUSSSN(t *testing.T) {
	runTypeCases(t, detect.USSSN, []typeCase{
		{"dashes", "ref 123-45-6789", "123-45-6789"},
		{"bare with context", "ssn: 123456789", "123456789"},
		{"spaces with context", "SSN 123 45 6789", "123 45 6789"},
		{"bare without context", "id 123456789", ""},
		{"area 000", "000-12-3456", ""},
		{"area 666", "666-12-3456", ""},
		{"area 9xx", "912-12-3456", ""},
		{"group 00", "123-00-6789", ""},
		{"serial 0000", "123-45-0000", ""},
	})
}

func TestUKNINO(t *testing.T) {
	runTypeCases(t, detect.UKNINO, []typeCase{
		{"compact", "nino AB123456C", "AB123456C"},
		{"spaced", "AB 12 34 56 C", "AB 12 34 56 C"},
		{"spaced digits together", "NI number AB 123456 C", "AB 123456 C"},
		{"first letter D", "DA123456C", ""},
		{"second letter O", "AO123456C", ""},
		{"prefix GB", "GB123456A", ""},
		{"suffix E", "AB123456E", ""},
		{"five digits", "AB12345C", ""},
		{"in a word", "XAB123456C", ""},
	})
}

func TestAPIKey(t *testing.T) {
	runTypeCases(t, detect.APIKey, []typeCase{
		{"AWS", "key AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
		{"AWS temporary", "ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"},
		{"GitHub", "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"},
		{"GitHub fine-grained", "github_pat_11ABCDEFG0123456789abc_" + strings.Repeat("x1Y", 19) + "zz", "github_pat_11ABCDEFG0123456789abc_" + strings.Repeat("x1Y", 19) + "zz"},
		{"GitLab", "glpat-xYz1234567890AbCdEfG", "glpat-xYz1234567890AbCdEfG"},
		{"Stripe", "sk_live_51HxYzAbCdEfGhIjKlMnOpQr", "sk_live_51HxYzAbCdEfGhIjKlMnOpQr"},
		{"Slack", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"},
		{"Google", "AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-1234567890abcdefghijklmnopqrstu"},
		{"npm", "npm_" + strings.Repeat("aB3", 12), "npm_" + strings.Repeat("aB3", 12)},
		{"Anthropic", "sk-ant-api03-" + strings.Repeat("Ab9_", 10), "sk-ant-api03-" + strings.Repeat("Ab9_", 10)},
		{"GitHub too short", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678", ""},
		{"GitHub too long", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567890", ""},
		{"AWS lower case", "AKIAiosfodnn7example", ""},
		{"prefix inside a word", "xghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", ""},
		{"placeholder", "sk_live_XXXX", ""},
	})
}

const (
	jwtHS256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	jwtNone  = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."
)

func TestJWT(t *testing.T) {
	runTypeCases(t, detect.JWT, []typeCase{
		{"bearer", "Authorization: Bearer " + jwtHS256, jwtHS256},
		{"sentence end", "token " + jwtHS256 + ".", jwtHS256},
		{"unsigned", "t=" + jwtNone + " x", jwtNone},
		{"header without alg", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", ""},
		{"payload not an object", "eyJhbGciOiJIUzI1NiJ9.WzEsMiwzXQ.c2lnbmF0dXJl", ""},
		{"two segments", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", ""},
		{"in a word", "x" + jwtHS256, ""},
	})
}

func pemBlock(label string, lines int) string {
	return "-----BEGIN " + label + "-----\n" + strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n", lines) + "-----END " + label + "-----"
}

func TestPrivateKey(t *testing.T) {
	escaped := strings.ReplaceAll(pemBlock("PRIVATE KEY", 3), "\n", `\n`)
	truncated := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n", 2)
	runTypeCases(t, detect.PrivateKey, []typeCase{
		{"PKCS8", "key:\n" + pemBlock("PRIVATE KEY", 4) + "\n", pemBlock("PRIVATE KEY", 4)},
		{"RSA", pemBlock("RSA PRIVATE KEY", 2), pemBlock("RSA PRIVATE KEY", 2)},
		{"OpenSSH", pemBlock("OPENSSH PRIVATE KEY", 2), pemBlock("OPENSSH PRIVATE KEY", 2)},
		{"escaped in JSON", `{"key":"` + escaped + `"}`, escaped},
		{"cut off", truncated + "[truncated]", strings.TrimSuffix(truncated, "\n")},
		{"certificate", pemBlock("CERTIFICATE", 4), ""},
		{"public key", pemBlock("PUBLIC KEY", 4), ""},
		{"mismatched END", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----", ""},
		{"no body", "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----", ""},
	})
}

func TestURLCredentials(t *testing.T) {
	runTypeCases(t, detect.URLCredentials, []typeCase{
		{"postgres", "dsn=postgres://app:s3cret@db.internal:5432/prod", "postgres://app:s3cret@db.internal:5432"},
		{"https", "GET https://user:pa%21ss@example.com/x", "https://user:pa%21ss@example.com"},
		{"no user", "redis://:hunter2@cache:6379", "redis://:hunter2@cache:6379"},
		{"IPv6 host", "amqp://a:b@[2001:db8::5]:5672/v", "amqp://a:b@[2001:db8::5]:5672"},
		{"scheme with plus", "mongodb+srv://svc:pw@cluster0.example.net", "mongodb+srv://svc:pw@cluster0.example.net"},
		{"user only", "https://user@example.com", ""},
		{"empty password", "https://user:@example.com", ""},
		{"no credentials", "https://example.com:8443/path", ""},
		{"no host", "https://user:pw@/path", ""},
	})
}

func TestContextRaisesConfidence(t *testing.T) {
	conf := func(text string) detect.Confidence {
		fs := detect.Default().ScanString(text)
		require.Len(t, fs, 1, "in %q", text)
		return fs[0].Confidence
	}
	assert.Equal(t, detect.Low, conf("ref 0825551234"))
	assert.Equal(t, detect.Medium, conf("phone 0825551234"))
	assert.Equal(t, detect.Medium, conf("at 082 555 1234"))
	assert.Equal(t, detect.High, conf("Mobile: 082 555 1234"))
	assert.Equal(t, detect.High, conf("peer 10.1.2.3"))
	assert.Equal(t, detect.Medium, conf("speer 10.1.2.3"), "a context word counts only at the start of a word")
	assert.Equal(t, detect.High, conf("client_ip=10.1.2.3"))
	assert.Equal(t, detect.Medium, conf("phone\n10.1.2.3"), "context stops at a line break")
	assert.Equal(t, detect.High, conf("+27 82 555 1234"), "E.164 needs no context")
}

func TestOptions(t *testing.T) {
	text := "alice@example.com 0825551234 10.1.2.3 4111111111111111"
	types := func(fs []detect.Finding) []detect.Type {
		var ts []detect.Type
		for _, f := range fs {
			ts = append(ts, f.Type)
		}
		return ts
	}
	all := detect.Default().ScanString(text)
	assert.Equal(t, []detect.Type{detect.Email, detect.Phone, detect.IPv4, detect.Card}, types(all))

	s, err := detect.New(&detect.Options{Types: []detect.Type{detect.Card, detect.Email}})
	require.NoError(t, err)
	assert.Equal(t, []detect.Type{detect.Email, detect.Card}, types(s.ScanString(text)))

	s, err = detect.New(&detect.Options{MinConfidence: detect.Medium})
	require.NoError(t, err)
	assert.Equal(t, []detect.Type{detect.Email, detect.IPv4, detect.Card}, types(s.ScanString(text)), "the bare phone number is of low confidence")

	s, err = detect.New(&detect.Options{MinConfidence: detect.High})
	require.NoError(t, err)
	assert.Equal(t, []detect.Type{detect.Email, detect.Card}, types(s.ScanString(text)))

	s, err = detect.New(nil)
	require.NoError(t, err)
	assert.Equal(t, all, s.ScanString(text))
}

// A type left out finds nothing, and no longer hides what it overlapped:
// without URLCredentials, the password and host of a URL read as an
// e-mail address.
func TestTypesLeftOutDoNotHide(t *testing.T) {
	text := "https://bob:secret@example.com/x"
	fs := detect.Default().ScanString(text)
	require.Len(t, fs, 1)
	assert.Equal(t, detect.URLCredentials, fs[0].Type)
	s, err := detect.New(&detect.Options{Types: []detect.Type{detect.Email}})
	require.NoError(t, err)
	fs = s.ScanString(text)
	require.Len(t, fs, 1)
	assert.Equal(t, "secret@example.com", text[fs[0].Start:fs[0].End])
}

func none(dst []detect.Finding, _ []byte) []detect.Finding { return dst }

func TestNewRefusesBadOptions(t *testing.T) {
	_, err := detect.New(&detect.Options{
		Types:         []detect.Type{"email", "passport"},
		MinConfidence: 7,
		Detectors:     []detect.Detector{{}, detect.Func("", 0, none), detect.Func("order", 1<<20, none)},
	})
	require.Error(t, err)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	var verr *dataward.ValidationError
	require.True(t, errors.As(err, &verr))
	msg := err.Error()
	for _, want := range []string{
		`detect: invalid input`,
		`Options.Types "passport" is not a built-in type`,
		`Options.MinConfidence 7 is not Low, Medium or High`,
		`Detectors[0] is not set: make it with Pattern or Func`,
		`Detectors[1] has no type`,
		`Detectors[1] has a maximum span of 0`,
		`Detectors[2] ("order") has a maximum span of 1048576, want 1 to 16384`,
	} {
		assert.Contains(t, msg, want)
	}
}

func TestFindingString(t *testing.T) {
	f := detect.Finding{Type: detect.Email, Start: 10, End: 27, Confidence: detect.High}
	assert.Equal(t, "email[10:27] high", f.String())
	assert.Equal(t, "unknown", detect.Confidence(0).String())
}

// Where candidates overlap, the one of higher confidence wins, then the
// longer: an IPv4 host inside URL credentials goes, and so does the
// e-mail address a URL's password and host look like.
func TestOverlapsResolve(t *testing.T) {
	text := "postgres://app:pw@10.0.0.5:5432/db"
	fs := detect.Default().ScanString(text)
	require.Len(t, fs, 1)
	assert.Equal(t, detect.URLCredentials, fs[0].Type)
	assert.Equal(t, "postgres://app:pw@10.0.0.5:5432", text[fs[0].Start:fs[0].End])
}
