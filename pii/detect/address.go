package detect

// Addresses: e-mail addresses (anchored on '@'), IPv6 addresses and URLs
// with credentials (anchored on ':').

// E-mail limits, from RFC 5321.
const (
	maxLocal  = 64
	maxDomain = 253
	maxLabel  = 63
	maxEmail  = 254
)

// isLocalByte reports whether c may be part of the local part of an
// e-mail address as the scanner reads it: letters, digits and "._%+-".
// RFC 5322 allows more ('/', '=', '?', ...), but in logs those characters
// join an address to what stands before it ("user=alice@example.com").
func isLocalByte(c byte) bool { return localByte[c] }

// localByte is isLocalByte as a table, and domainByte the bytes of a
// domain name (letters, digits, '.' and '-'): a load from a table costs
// less than a chain of comparisons and branches.
var localByte, domainByte = byteSet(func(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}), byteSet(func(c byte) bool { return isAlnum(c) || c == '.' || c == '-' })

// byteSet returns the table of the bytes that in accepts.
func byteSet(in func(byte) bool) [256]bool {
	var t [256]bool
	for c := range t {
		t[c] = in(byte(c))
	}
	return t
}

// runBefore returns the start of the run of bytes that in accepts which
// ends at i, or -1 if the run is longer than max.
func runBefore(text []byte, i, max int, in func(byte) bool) int {
	j := i
	for j > 0 && in(text[j-1]) {
		if j--; i-j > max {
			return -1
		}
	}
	return j
}

// isFileExtension reports whether tld, in any case, is a top-level
// "domain" that is far more often the extension of a file name
// ("icon@2x.png") than a real one: an address in one is of low confidence.
func isFileExtension(tld []byte) bool {
	var buf [4]byte
	if len(tld) > len(buf) {
		return false
	}
	n := len(tld)
	for i, c := range tld { // not copy, which calls memmove
		if isUpper(c) {
			c += 'a' - 'A'
		}
		buf[i&3] = c
	}
	// A switch, which compiles to comparisons, costs less than a map's hash.
	switch string(buf[:n]) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp",
		"ico", "bmp", "css", "js", "json", "xml",
		"html", "htm", "txt", "log", "pdf", "gz",
		"tar", "zip", "mp4", "mov", "mp3", "wav":
		return true
	}
	return false
}

// email handles an '@' at i.
func (s *scan) email(i int) int {
	text := s.text
	n := len(text)
	j := runBefore(text, i, maxLocal, isLocalByte)
	if j < 0 {
		return i + 1
	}
	for j < i && text[j] == '.' {
		j++
	}
	if j == i || text[i-1] == '.' || containsDoubleDot(text[j:i]) {
		return i + 1
	}
	if j >= 2 && text[j-1] == '/' && text[j-2] == '/' {
		return i + 1 // the user name in a URL ("https://user@example.com")
	}
	k := i + 1
	lim := min(n, i+2+maxDomain)
	for k < lim && domainByte[text[k]] {
		k++
	}
	if k-(i+1) > maxDomain {
		return i + 1
	}
	for k > i+1 && (text[k-1] == '.' || text[k-1] == '-') {
		k--
	}
	if k-j > maxEmail || !s.boundaryAfter(k) {
		return i + 1
	}
	tld, ok := domainTLD(text[i+1 : k])
	if !ok {
		return i + 1
	}
	conf := High
	if isFileExtension(tld) {
		if isScale(text[i+1 : k]) {
			return i + 1 // an image at a scale, "icon@2x.png"
		}
		conf = Low
	}
	s.emit(tEmail, j, k, conf)
	return k
}

func containsDoubleDot(b []byte) bool {
	for i := 1; i < len(b); i++ {
		if b[i] == '.' && b[i-1] == '.' {
			return true
		}
	}
	return false
}

// domainTLD checks that d is a domain name of at least two labels, each of
// 1 to 63 letters, digits and inner hyphens, the last of letters only (or
// an internationalised "xn--" label), and returns that last label.
func domainTLD(d []byte) (tld []byte, ok bool) {
	start := 0
	for i := 0; i < len(d); i++ {
		if d[i] == '.' {
			if !okLabel(d[start:i]) {
				return nil, false
			}
			start = i + 1
		}
	}
	tld = d[start:]
	if start == 0 || len(tld) < 2 || !okLabel(tld) {
		return nil, false
	}
	if len(tld) > 4 && string(tld[:4]) == "xn--" {
		return tld, true
	}
	for _, c := range tld {
		if !isAlpha(c) {
			return nil, false
		}
	}
	return tld, true
}

// okLabel reports whether l is 1 to 63 bytes long and neither starts nor
// ends with a hyphen.
func okLabel(l []byte) bool {
	return len(l) > 0 && len(l) <= maxLabel && l[0] != '-' && l[len(l)-1] != '-'
}

// isScale reports whether domain d starts with a label such as "2x" or
// "1.5x", the scale of an image in its file name.
func isScale(d []byte) bool {
	i := 0
	for i < len(d) && (isDigit(d[i]) || d[i] == '.') {
		i++
	}
	return i > 0 && i+1 < len(d) && (d[i] == 'x' || d[i] == 'X') && d[i+1] == '.'
}

// maxIPv6Run is the longest text form of an IPv6 address (with an IPv4
// address in its last 32 bits).
const maxIPv6Run = 45

// colon handles a ':' at i: "://" may start a URL with credentials, and
// the first ':' of a run of hex digits and colons an IPv6 address.
func (s *scan) colon(i int) (int, uint8) {
	text := s.text
	if i+2 < len(text) && text[i+1] == '/' && text[i+2] == '/' {
		if s.b.on[tURL] {
			if end := s.urlCredentials(i); end > 0 {
				return end, skipNone
			}
		}
		return i + 3, skipNone
	}
	if s.b.on[tIPv6] {
		return s.ipv6(i)
	}
	return i + 1, skipNone
}

// ipv6Start returns where an IPv6 address whose first ':' is at i would
// start, after the hex digits before it, or -1 if none can: the ':' is
// not the first of its run, or the hex digits before it are more than a
// group or the end of a word.
func ipv6Start(text []byte, i int) int {
	j := i
	for j > 0 && i-j <= 4 && isHex(text[j-1]) {
		j--
	}
	if i-j > 4 {
		return -1
	}
	if j > 0 {
		if p := text[j-1]; p == ':' || p == '.' || isWord(p) {
			return -1
		}
	}
	return j
}

// colonIdle reports whether the ':' at i needs no look: it does not start
// "://" and cannot be the first ':' of an IPv6 address. The main loop
// steps over such a colon after a word or number without dispatching it.
func (s *scan) colonIdle(i int) bool {
	text := s.text
	if i+2 < len(text) && text[i+1] == '/' && text[i+2] == '/' {
		return false
	}
	return !s.b.on[tIPv6] || ipv6Start(text, i) < 0
}

// ipv6 handles a ':' at i that may be part of an IPv6 address. Only the
// first ':' of a run is looked at: the address is the run from the hex
// digits before it.
func (s *scan) ipv6(i int) (int, uint8) {
	text := s.text
	n := len(text)
	j := ipv6Start(text, i)
	if j < 0 {
		return i + 1, skipNone
	}
	k := i
	for k < n && (isHex(text[k]) || text[k] == ':' || text[k] == '.') {
		k++
		if k-j > maxIPv6Run {
			return k, skipHex
		}
	}
	if k > j && text[k-1] == '.' {
		k--
	}
	if k-j >= 2 && text[k-1] == ':' && text[k-2] != ':' {
		k--
	}
	if !s.boundaryAfter(k) {
		return i + 1, skipNone
	}
	run := text[j:k]
	digit := false
	for _, c := range run {
		if isDigit(c) {
			digit = true
			break
		}
	}
	if !digit {
		return i + 1, skipNone
	}
	ok, loopback := parseIPv6(run)
	if !ok {
		return i + 1, skipNone
	}
	conf := Medium
	if loopback {
		conf = Low
	}
	s.emit(tIPv6, j, k, conf)
	return k, skipNone
}

// parseIPv6 reports whether s is an IPv6 address in text form (RFC 4291,
// section 2.2): eight groups of one to four hex digits separated by ':',
// or fewer with one "::" standing for the missing zero groups, the last
// two groups optionally written as a dotted IPv4 address. The unspecified
// address "::" is not one; loopback reports "::1".
func parseIPv6(s []byte) (ok, loopback bool) {
	groups, ellipsis := 0, -1
	i := 0
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis, i = 0, 2
	}
	nonzero, last := 0, 0 // groups other than zero; the value of the last group
	for i < len(s) {
		j, v := i, 0
		for j < len(s) && j-i < 5 && isHex(s[j]) {
			v = v<<4 | int(hexValue(s[j]))
			j++
		}
		if j == i {
			return false, false
		}
		if j < len(s) && s[j] == '.' {
			if groups > 6 || !dottedQuad(s[i:]) {
				return false, false
			}
			groups += 2
			nonzero += 2 // not loopback
			break
		}
		if j-i > 4 || groups == 8 {
			return false, false
		}
		groups++
		if v != 0 {
			nonzero++
		}
		last = v
		if i = j; i == len(s) {
			break
		}
		if s[i] != ':' || i+1 == len(s) {
			return false, false
		}
		i++
		if s[i] == ':' {
			if ellipsis >= 0 {
				return false, false
			}
			ellipsis = groups
			i++
		}
	}
	if ellipsis < 0 && groups != 8 || ellipsis >= 0 && groups > 7 || nonzero == 0 {
		return false, false
	}
	return true, nonzero == 1 && last == 1 && ellipsis >= 0 && ellipsis < groups
}

func hexValue(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// dottedQuad reports whether s is an IPv4 address: four decimal numbers
// from 0 to 255 without leading zeros, separated by dots.
func dottedQuad(s []byte) bool {
	parts := 0
	for i := 0; i <= len(s); {
		j, v := i, 0
		for j < len(s) && isDigit(s[j]) && j-i < 4 {
			v = v*10 + int(s[j]-'0')
			j++
		}
		if j == i || j-i > 3 || v > 255 || j-i > 1 && s[i] == '0' {
			return false
		}
		parts++
		if j == len(s) {
			return parts == 4
		}
		if s[j] != '.' || parts == 4 {
			return false
		}
		i = j + 1
	}
	return false
}

// URL limits.
const (
	maxScheme   = 32
	maxUserinfo = 256
	maxHost     = 255
	maxURL      = 1024
)

func isSchemeByte(c byte) bool { return isAlnum(c) || c == '+' || c == '-' || c == '.' }

// isUserinfoByte reports whether c may be part of the user name and
// password of a URL: RFC 3986's unreserved and percent-encoded characters,
// its sub-delimiters but for quotes and parentheses (which in logs close
// what encloses the URL), and ':'.
func isUserinfoByte(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '%', '!', '$', '&', '*', '+', ',', ';', '=', ':':
		return true
	}
	return false
}

func isHostByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == '%'
}

// urlCredentials handles "://" at i: a URL whose authority holds a user
// name and a non-empty password ("postgres://app:s3cret@db:5432/prod").
// The finding runs from the scheme to the end of the host and port; the
// path is not part of it. It returns the end, or 0.
func (s *scan) urlCredentials(i int) int {
	text := s.text
	n := len(text)
	j := runBefore(text, i, maxScheme, isSchemeByte)
	if j < 0 || j == i || !isAlpha(text[j]) {
		return 0
	}
	a := i + 3
	k := a
	lim := min(n, a+maxUserinfo+1)
	colon := -1
	for k < lim && isUserinfoByte(text[k]) {
		if text[k] == ':' && colon < 0 {
			colon = k
		}
		k++
	}
	if k >= n || text[k] != '@' || k-a > maxUserinfo || colon < 0 || colon+1 == k {
		return 0
	}
	h := k + 1
	e := h
	if e < n && text[e] == '[' {
		for e++; e < n && e-h < maxIPv6Run+2 && (isHex(text[e]) || text[e] == ':' || text[e] == '.'); e++ {
		}
		if e >= n || text[e] != ']' {
			return 0
		}
		e++
	} else {
		for e < n && e-h <= maxHost && isHostByte(text[e]) {
			e++
		}
		for e > h && (text[e-1] == '.' || text[e-1] == '-') {
			e--
		}
		if e == h || e-h > maxHost || !isAlnum(text[h]) {
			return 0
		}
	}
	if e+1 < n && text[e] == ':' && isDigit(text[e+1]) {
		p := e + 1
		for p < n && p-e <= 6 && isDigit(text[p]) {
			p++
		}
		if p-e <= 6 { // a port of at most five digits
			e = p
		}
	}
	s.emit(tURL, j, e, High)
	return e
}
