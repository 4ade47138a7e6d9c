package detect

import (
	"bytes"
	"encoding/base64"
)

// Secrets: API keys and tokens with well-known prefixes, JSON Web Tokens
// and PEM private-key blocks.

// Secret limits.
const (
	maxAPIKey = 256
	maxJWT    = 8 << 10
	maxPEM    = 8 << 10
	// A PEM block needs this many base64 characters in its body to be
	// a key rather than an example in documentation; a block whose END
	// line is missing (cut off by a log line limit, say) needs more.
	minPEMBody          = 32
	minTruncatedPEMBody = 64
	// A JSON Web Token's header is at least this long (`{"alg":`), and
	// the first four bytes of its payload must decode to an object.
	minJWTHeader  = 10
	minJWTPayload = 4
)

// keyBody is the alphabet of a key's part after its prefix.
type keyBody uint8

const (
	bodyAlnum      keyBody = iota // [A-Za-z0-9]
	bodyAlnumUnder                // [A-Za-z0-9_]
	bodyAlnumDash                 // [A-Za-z0-9-]
	bodyURLSafe                   // [A-Za-z0-9_-]
	bodyUpperDigit                // [A-Z0-9]
)

func (k keyBody) has(c byte) bool {
	switch k {
	case bodyAlnum:
		return isAlnum(c)
	case bodyAlnumUnder:
		return isAlnum(c) || c == '_'
	case bodyAlnumDash:
		return isAlnum(c) || c == '-'
	case bodyURLSafe:
		return isAlnum(c) || c == '_' || c == '-'
	case bodyUpperDigit:
		return isUpper(c) || isDigit(c)
	}
	return false
}

// keyFormat is an API key or token format: a fixed prefix, then a body of
// one alphabet and a length in a range.
type keyFormat struct {
	prefix   string
	body     keyBody
	min, max int
}

// The key formats, found through the '_' or '-' that ends the first word
// of their prefix ("ghp_", "sk_live_", "xoxb-", "sk-ant-").
var keyFormats = []keyFormat{
	{"ghp_", bodyAlnum, 36, 36}, // GitHub personal access token
	{"gho_", bodyAlnum, 36, 36}, // GitHub OAuth token
	{"ghu_", bodyAlnum, 36, 36}, // GitHub user-to-server token
	{"ghs_", bodyAlnum, 36, 36}, // GitHub server-to-server token
	{"ghr_", bodyAlnum, 36, 36}, // GitHub refresh token
	{"github_pat_", bodyAlnumUnder, 50, 100},
	{"glpat-", bodyURLSafe, 20, 64}, // GitLab personal access token
	{"sk_live_", bodyAlnum, 16, 247},
	{"sk_test_", bodyAlnum, 16, 247},
	{"rk_live_", bodyAlnum, 16, 247}, // Stripe restricted key
	{"rk_test_", bodyAlnum, 16, 247},
	{"xoxb-", bodyAlnumDash, 20, 250}, // Slack bot token
	{"xoxp-", bodyAlnumDash, 20, 250}, // Slack user token
	{"xoxa-", bodyAlnumDash, 20, 250},
	{"xoxr-", bodyAlnumDash, 20, 250},
	{"xoxs-", bodyAlnumDash, 20, 250},
	{"xoxe-", bodyAlnumDash, 20, 250},
	{"npm_", bodyAlnum, 36, 36},        // npm access token
	{"sk-ant-", bodyURLSafe, 32, 240},  // Anthropic API key
	{"sk-proj-", bodyURLSafe, 32, 240}, // OpenAI project key
	{"sk-", bodyAlnum, 48, 48},         // OpenAI legacy key
	{"AKIA", bodyUpperDigit, 16, 16},   // AWS access key ID
	{"ASIA", bodyUpperDigit, 16, 16},   // AWS temporary access key ID
	{"AIza", bodyURLSafe, 35, 35},      // Google API key
}

// matchKey emits the key of format f that starts at i, if there is one,
// and returns its end, or 0.
func (s *scan) matchKey(i int, f *keyFormat) int {
	text := s.text
	n := len(text)
	p := i + len(f.prefix)
	if p > n || string(text[i:p]) != f.prefix {
		return 0
	}
	e := p
	for e < n && e-p <= f.max && f.body.has(text[e]) {
		e++
	}
	if e-p < f.min || e-p > f.max {
		return 0
	}
	if e < n && (isWord(text[e]) || text[e] == '-') {
		return 0
	}
	s.emit(tAPIKey, i, e, High)
	return e
}

// keyBoundary reports whether a key may start at i.
func (s *scan) keyBoundary(i int) bool {
	return i == 0 || !isWord(s.text[i-1]) && s.text[i-1] != '-'
}

// prefixed handles the '_' or '-' at i that may end the first word of a
// key's prefix. It returns the key's end, or 0.
func (s *scan) prefixed(i int) int {
	text := s.text
	j := i
	for j > 0 && i-j < 6 && isLower(text[j-1]) {
		j--
	}
	if j == i || !s.keyBoundary(j) {
		return 0
	}
	switch text[j] {
	case 'g', 's', 'r', 'x', 'n':
	default:
		return 0 // no key prefix starts otherwise
	}
	word := text[j : i+1]
	for k := range keyFormats {
		f := &keyFormats[k]
		if len(f.prefix) >= len(word) && f.prefix[:len(word)] == string(word) {
			if end := s.matchKey(j, f); end > 0 {
				return end
			}
		}
	}
	return 0
}

// underscore handles a '_' at i.
func (s *scan) underscore(i int) int {
	if end := s.prefixed(i); end > 0 {
		return end
	}
	return i + 1
}

// dash handles a '-' at i: a PEM private-key block, or a key whose prefix
// ends with '-'.
func (s *scan) dash(i int) int {
	text := s.text
	if s.b.on[tPEM] && i+11 <= len(text) && text[i+1] == '-' && string(text[i:i+11]) == "-----BEGIN " {
		if end := s.pem(i); end > 0 {
			return end
		}
		return i + 5
	}
	if s.b.on[tAPIKey] {
		if end := s.prefixed(i); end > 0 {
			return end
		}
	}
	return i + 1
}

// keyLetter handles a 'K', 'S' or 'z' at i, the second letter of AWS's
// "AKIA" and "ASIA" and the third of Google's "AIza": rarer letters than
// their first 'A'.
func (s *scan) keyLetter(i int) int {
	at := i - 1
	if s.text[i] == 'z' {
		at = i - 2
	}
	if at >= 0 && s.text[at] == 'A' && s.keyBoundary(at) {
		for k := len(keyFormats) - 3; k < len(keyFormats); k++ {
			if end := s.matchKey(at, &keyFormats[k]); end > 0 {
				return end
			}
		}
	}
	return i + 1
}

func isBase64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// jwt handles a 'J' at i, the third letter of "eyJ", which starts the
// base64url encoding of a JSON object ({"): a JSON Web Token is three
// base64url segments joined by '.', the first a header that holds "alg",
// the second an object; an encrypted one (JWE) has five segments.
func (s *scan) jwt(i int) int {
	text := s.text
	n := len(text)
	st := i - 2
	if st < 0 || text[st] != 'e' || text[st+1] != 'y' || st > 0 && (isBase64URL(text[st-1]) || text[st-1] == '.') {
		return i + 1
	}
	var ends [5]int
	nseg := 0
	p := st
	lim := min(n, st+maxJWT+1)
	for {
		q := p
		for q < lim && isBase64URL(text[q]) {
			q++
		}
		if q == lim && lim-st > maxJWT {
			return i + 1 // too long
		}
		ends[nseg] = q
		nseg++
		if nseg == len(ends) || q >= n || text[q] != '.' {
			break
		}
		if nseg != 2 && (q+1 >= n || !isBase64URL(text[q+1])) {
			break // a '.' that ends a sentence; only the signature may be empty
		}
		p = q + 1
	}
	end := ends[nseg-1]
	if nseg != 3 && nseg != 5 {
		return i + 1
	}
	header := text[st:ends[0]]
	if len(header) < minJWTHeader || !jsonHas(header, `"alg"`) {
		return i + 1
	}
	if nseg == 3 {
		payload := text[ends[0]+1 : ends[1]]
		if len(payload) < minJWTPayload || !jsonHas(payload[:minJWTPayload], "{") {
			return i + 1
		}
	}
	s.emit(tJWT, st, end, High)
	return end
}

// jsonHas decodes the start of the base64url segment seg (without
// padding) and reports whether it starts with '{' and holds want.
func jsonHas(seg []byte, want string) bool {
	var dec [192]byte
	src := seg[:min(len(seg), 256)]
	if len(src)%4 == 1 {
		src = src[:len(src)-1]
	}
	k, err := base64.RawURLEncoding.Decode(dec[:], src)
	if err != nil {
		return false
	}
	out := bytes.TrimLeft(dec[:k], " \t\r\n")
	return len(out) > 0 && out[0] == '{' && bytes.Contains(out, []byte(want))
}

// pemLabels are the labels of the private-key blocks, longest first.
var pemLabels = []string{
	"ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK",
	"RSA PRIVATE KEY", "DSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY",
}

// Classes of the bytes of a PEM body.
const (
	pemStop   = iota // ends the body
	pemBase64        // [A-Za-z0-9+/=]
	pemOther         // white space, escaped line breaks, header punctuation
	pemDash          // '-': a header's, or the start of the END line
)

var pemBody = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch b := byte(c); {
		case isAlnum(b) || b == '+' || b == '/' || b == '=':
			t[c] = pemBase64
		case b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\\' || b == ':' || b == ',' || b == '.':
			t[c] = pemOther
		case b == '-':
			t[c] = pemDash
		}
	}
	return t
}()

// pem handles "-----BEGIN " at i: a private-key block. The body may hold
// base64, white space, escaped line breaks ("\n" in JSON) and header lines
// ("Proc-Type: 4,ENCRYPTED"). A complete block, to its matching END line
// within maxPEM bytes, is of high confidence; one cut off before its END
// line, of medium confidence, up to the last base64 character of its
// body. Other blocks (certificates, public keys) are skipped whole: their
// base64 holds nothing to find. pem returns the end of what it read, or 0.
func (s *scan) pem(i int) int {
	text := s.text
	n := len(text)
	p := i + len("-----BEGIN ")
	var label []byte // as it stands in the text
	private := false
	for _, l := range pemLabels {
		if hasAt(text, p, l) && hasAt(text, p+len(l), "-----") {
			label, private = text[p:p+len(l)], true
			break
		}
	}
	if !private {
		e := p
		for e < n && e-p < 64 && (isUpper(text[e]) || text[e] == ' ') {
			e++
		}
		if e == p || !hasAt(text, e, "-----") {
			return 0
		}
		label = text[p:e] // a certificate or public key, to skip
	}
	p += len(label) + len("-----")
	lim := min(n, i+maxPEM)
	b64, last := 0, p
	for p < lim {
		switch pemBody[text[p]] {
		case pemBase64:
			q := p + 1
			for q < lim && pemBody[text[q]] == pemBase64 {
				q++
			}
			b64 += q - p
			p, last = q, q
			continue
		case pemDash:
			if p+1 < n && text[p+1] == '-' {
				end := p + len("-----END ") + len(label) + len("-----")
				if hasAt(text, p, "-----END ") && end <= n && bytes.Equal(text[end-len(label)-5:end-5], label) &&
					hasAt(text, end-5, "-----") && end <= i+maxPEM && b64 >= minPEMBody {
					if private {
						s.emit(tPEM, i, end, High)
					}
					return end
				}
				lim = p // another boundary line: the body ends here
				continue
			}
		case pemStop:
			lim = p
			continue
		}
		p++
	}
	if private && b64 >= minTruncatedPEMBody {
		s.emit(tPEM, i, last, Medium)
		return last
	}
	return 0
}

// hasAt reports whether text holds s at i.
func hasAt(text []byte, i int, s string) bool {
	return i >= 0 && i+len(s) <= len(text) && string(text[i:i+len(s)]) == s
}
