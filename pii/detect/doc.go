// Package detect finds personal data and secrets in free text: log lines,
// support tickets, free-form fields, files. It is the detection half of
// PII redaction (package redact builds on it), fast enough to run on every
// log line, and validates what it finds rather than trusting a pattern.
//
//	for _, f := range detect.Default().Scan(line) {
//		// f.Type, f.Start, f.End, f.Confidence: never the text itself
//	}
//
// # Types
//
// Each built-in type is validated beyond its shape, and has a maximum span:
// no finding of the type is longer.
//
//	type             validation                                              max span
//	email            local part of letters, digits and "._%+-" (no leading,     254
//	                 trailing or double dot, at most 64 bytes); a domain of
//	                 two or more labels of 1 to 63 bytes, the last alphabetic
//	                 (or "xn--"); not "name@2x.png"; a file extension as top
//	                 level domain lowers the confidence
//	phone            E.164 with '+': an assigned country code and a national     40
//	                 length (numbering-plan rules for +1, +27, +44); "(0)"
//	                 and a written trunk 0 after the country code allowed.
//	                 National formats: South African 0XX XXX XXXX (also with
//	                 '-' or '.', "(0XX)", or all together), British 0XXXX
//	                 XXXXXX, 0XX XXXX XXXX, ..., North American (XXX)
//	                 XXX-XXXX, XXX-XXX-XXXX, XXX.XXX.XXXX, 1-XXX-XXX-XXXX
//	card             Luhn and an issuer range with its lengths (Visa,           40
//	                 Mastercard, Amex, Discover, Diners, JCB, UnionPay,
//	                 Maestro, Mir); all together, in groups of four, or
//	                 4-6-5 and 4-6-4; 13 digits are read as a ZA ID instead
//	iban             the country's length (SWIFT registry), check digits and   42
//	                 mod-97; all together or in groups of four, upper case
//	za_id            YYMMDD SSSS C A Z: a date that exists, citizenship digit   16
//	                 C of 0, 1 or 2, Luhn check digit Z; all together or
//	                 as 6-4-3
//	ipv4             four decimal octets of 0 to 255 without leading zeros     15
//	ipv6             RFC 4291 text form, with "::" and a trailing IPv4 part;   45
//	                 at least one digit
//	us_ssn           area 001-899 but not 666, group 01-99, serial 0001-9999;  11
//	                 AAA-GG-SSSS, or nine digits after a context word
//	uk_nino          prefix letters that are issued, six digits, suffix A-D;   13
//	                 "QQ123456C", "QQ 12 34 56 C" or "QQ 123456 C"
//	api_key          a well-known prefix and the body's alphabet and length:   256
//	                 AWS AKIA/ASIA, GitHub ghp_/gho_/ghu_/ghs_/ghr_/
//	                 github_pat_, GitLab glpat-, Stripe sk_/rk_ live and
//	                 test, Slack xox[bpares]-, Google AIza, npm_, Anthropic
//	                 sk-ant-, OpenAI sk-proj- and sk-
//	jwt              three base64url segments (or five, JWE); the header       8 KiB
//	                 decodes to a JSON object with "alg", the payload to one
//	private_key      a PEM private-key block, BEGIN to the matching END;        8 KiB
//	                 newlines may be escaped ("\n" in JSON). A block cut off
//	                 before its END line is found up to its last base64
//	                 character, with medium confidence
//	url_credentials  scheme://user:password@host[:port], non-empty password;   1 KiB
//	                 the finding ends before the path
//
// A number must stand on its own: digits glued to a word ("12ms",
// "v1.2.3.4"), following "#" ("order #0825551234"), or continuing an
// identifier ("ORD-4111111111111111") are not findings.
//
// # Confidence
//
// Every finding has a [Confidence]. Checksums and distinctive forms give
// [High]; forms that also occur in data that is not personal give [Medium]
// (IPv4 and IPv6 addresses, national phone formats, social security and
// National Insurance numbers) or [Low] (a bare ten-digit phone number, the
// loopback address). Context words shortly before a match on the same
// line ("phone", "tel", "ip", "client", "ssn", "nino", ...) raise it one
// level. [Options.MinConfidence] drops what is below it.
//
// # Overlaps
//
// Findings are sorted by Start and never overlap. Where candidates
// overlap, the one of higher confidence wins, then the longer, then the
// earlier; a candidate that any overlapping one beats is dropped (the IPv4
// host inside URL credentials, for example), even if that one is dropped in
// turn: in a rare chain where A beats B and B beats C, and A and C are
// apart, only A is kept. The rule is local, which is what lets a stream
// decide a part of its input without the rest.
//
// # Your own detectors
//
// [Pattern] makes a detector from a regular expression and an optional
// validator; [Func] from a function. Both take part in overlap resolution
// and MinConfidence like the built-in types. A pattern that does not
// compile is reported by Pattern, naming the detector.
//
// # Streams
//
// [Scanner.ScanReader] and [Scanner.NewStream] scan an [io.Reader] in
// bounded memory (about 64 KiB with the built-in types), and find exactly
// what [Scanner.Scan] finds in the whole input, whatever the sizes of the
// reads: a finding up to its type's maximum span that crosses a read or
// buffer boundary is found.
//
// # Speed and safety
//
// The built-in types share one pass over the text with no regular
// expression: a byte table skips what cannot start a match, and each
// matcher looks at a bounded stretch around the byte that triggered it,
// so scanning time is linear in the input, adversarial input included. A
// [Scanner] is immutable and safe for concurrent use. Findings hold
// offsets, never the matched text, so they can be logged; invalid UTF-8,
// binary data and empty input are scanned like any other bytes.
package detect
