// Package corpus generates synthetic log lines with labelled personal data
// and secrets, for the accuracy test and the benchmarks of package detect.
// Everything is deterministic: the same seed gives the same bytes.
//
// Every value is generated valid by the rules of its type (Luhn check
// digits, IBAN check digits by mod-97 with the country's length, South
// African ID numbers with a real date, a citizenship digit and a Luhn
// digit, numbering-plan rules for phones, ...) and written in the forms it
// takes in real logs. Lines also carry hard negatives: values one check
// away from valid (a wrong check digit, an impossible date), and the
// numbers logs are full of (timestamps, versions, order numbers, UUIDs,
// hashes, durations, MAC addresses, certificates).
//
// The package does not import detect: types are named by their strings.
package corpus

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The types, as detect names them.
const (
	Email          = "email"
	Phone          = "phone"
	Card           = "card"
	IBAN           = "iban"
	ZAID           = "za_id"
	IPv4           = "ipv4"
	IPv6           = "ipv6"
	USSSN          = "us_ssn"
	UKNINO         = "uk_nino"
	APIKey         = "api_key"
	JWT            = "jwt"
	PrivateKey     = "private_key"
	URLCredentials = "url_credentials"
)

// Types lists every type the generator labels.
var Types = []string{Email, Phone, Card, IBAN, ZAID, IPv4, IPv6, USSSN, UKNINO, APIKey, JWT, PrivateKey, URLCredentials}

// A Span is a labelled value: Text[Start:End] is of type Type.
type Span struct {
	Type       string
	Start, End int
}

// A Corpus is generated text and the values labelled in it.
type Corpus struct {
	Text  []byte
	Spans []Span
	// Negatives counts the hard negatives written, by kind.
	Negatives map[string]int
}

// gen writes lines.
type gen struct {
	r   *rand.Rand
	b   strings.Builder
	c   Corpus
	neg map[string]int
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), neg: map[string]int{}}
}

// Labelled returns a corpus of log lines holding at least spans labelled
// values, spread evenly over Types (values of a type that take a context
// word, such as bare social security numbers, carry it), and hard
// negatives on most lines.
func Labelled(seed uint64, spans int) Corpus {
	g := newGen(seed)
	for len(g.c.Spans) < spans {
		g.line(func() {
			k := 1 + g.r.IntN(2)
			for j := 0; j < k; j++ {
				g.word(" ")
				g.value(Types[g.r.IntN(len(Types))])
			}
			for j := g.r.IntN(4); j > 0; j-- {
				g.word(" ")
				g.negative()
			}
		})
	}
	return g.finish()
}

// Logs returns about size bytes of log lines, a fraction pii of which
// carry one labelled value of a type drawn from Types; the others are
// ordinary lines, full of numbers that are not personal data.
func Logs(seed uint64, size int, pii float64) Corpus {
	g := newGen(seed)
	for g.b.Len() < size {
		g.line(func() {
			if g.r.Float64() < pii {
				g.word(" ")
				g.value(Types[g.r.IntN(len(Types))])
			}
			if g.r.IntN(3) == 0 {
				g.word(" ")
				g.negative()
			}
		})
	}
	return g.finish()
}

func (g *gen) finish() Corpus {
	g.c.Text = []byte(g.b.String())
	g.c.Negatives = g.neg
	return g.c
}

func (g *gen) word(s string) { g.b.WriteString(s) }

func (g *gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) alnum(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	base62     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	hexDigits  = "0123456789abcdef"
)

// line writes one log line: a timestamp, a level, a service and request
// id, a message, then what body writes.
func (g *gen) line(body func()) {
	t := 1773480413 + g.r.IntN(30000000)
	fmt.Fprintf(&g.b, "2026-%02d-%02dT%02d:%02d:%02d.%03dZ %s [%s req=%s] ",
		1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1000),
		g.pick("INFO ", "DEBUG", "WARN ", "ERROR"), g.pick("checkout", "auth", "billing", "api-gw", "worker-3", "crm"),
		g.alnum(12, hexDigits))
	switch g.r.IntN(6) {
	case 0:
		fmt.Fprintf(&g.b, "GET /api/v2/orders/%d %d %.1fms bytes=%d", g.r.IntN(100000), g.pick200(), g.r.Float64()*900, g.r.IntN(90000))
	case 1:
		fmt.Fprintf(&g.b, "job=%s attempt=%d/%d elapsed=%dms t=%d", g.pick("sync", "export", "sweep"), 1+g.r.IntN(3), 5, g.r.IntN(5000), t)
	case 2:
		fmt.Fprintf(&g.b, "user %s updated profile fields=%d", g.pick("u-1042", "cust-77", "acct_9931", "id=88213"), 1+g.r.IntN(6))
	case 3:
		fmt.Fprintf(&g.b, `{"event":"%s","latency_ms":%d,"ok":%t}`, g.pick("login", "payment", "signup", "refund"), g.r.IntN(2000), g.r.IntN(2) == 0)
	case 4:
		fmt.Fprintf(&g.b, "cache hit ratio=%.2f size=%dKiB evictions=%d", g.r.Float64(), g.r.IntN(65536), g.r.IntN(100))
	default:
		fmt.Fprintf(&g.b, "request from agent \"Mozilla/5.0 (X11; Linux x86_64) Chrome/%d.0.%d.%d\"", 100+g.r.IntN(30), 1000+g.r.IntN(9000), g.r.IntN(999))
	}
	body()
	g.b.WriteByte('\n')
}

func (g *gen) pick200() int {
	return []int{200, 200, 200, 201, 204, 301, 304, 400, 404, 500}[g.r.IntN(10)]
}

// value writes a labelled value of type t with some text around it.
func (g *gen) value(t string) {
	var v, before, after string
	switch t {
	case Email:
		v = g.email()
		before = g.pick("email=", "to=<", `"email":"`, "contact ", "sent to ", "user ", "from: ")
	case Phone:
		v = g.phone()
		before = g.pick("phone=", "tel: ", `"msisdn":"`, "call ", "mobile ", "contact number ", "sms to ")
	case Card:
		v = g.card(true)
		before = g.pick("card=", "pan ", `"card_number":"`, "paid with ", "cc: ")
	case IBAN:
		v = g.iban(true)
		before = g.pick("iban=", "IBAN ", `"account":"`, "refund to ", "bank account ")
	case ZAID:
		v = g.zaID(true)
		before = g.pick("id_number=", "SA ID ", `"national_id":"`, "identity number ", "id ")
	case IPv4:
		v = g.ipv4()
		before = g.pick("client=", "ip ", `"remote_addr":"`, "from ", "peer=", "connect ")
		if g.r.IntN(4) == 0 {
			after = ":" + strconv.Itoa(1024+g.r.IntN(60000))
		}
	case IPv6:
		v = g.ipv6()
		before = g.pick("client=", "ip ", `"remote_addr":"`, "from ", "peer=")
		if g.r.IntN(4) == 0 {
			before += "["
			after = "]:" + strconv.Itoa(1024+g.r.IntN(60000))
		}
	case USSSN:
		v = g.ssn()
		before = g.pick("ssn=", "SSN ", `"ssn":"`, "social security number ")
		if g.r.IntN(5) == 0 {
			v = strings.ReplaceAll(v, "-", "") // nine bare digits: found only with a context word
		}
	case UKNINO:
		v = g.nino()
		before = g.pick("nino=", "NI number ", `"nino":"`, "national insurance ")
	case APIKey:
		v = g.apiKey()
		before = g.pick("key=", "token ", `"api_key":"`, "Authorization: token ", "using ")
	case JWT:
		v = g.jwt()
		before = g.pick("Authorization: Bearer ", "token=", `"id_token":"`, "jwt ")
	case PrivateKey:
		v = g.pem()
		before = g.pick("key:\n", `"private_key":"`, "loaded ")
	case URLCredentials:
		v, after = g.urlCredentials()
		before = g.pick("dsn=", "connecting to ", `"url":"`, "upstream ")
	default:
		panic("corpus: unknown type " + t)
	}
	if strings.HasSuffix(before, `"`) {
		after += `"`
	}
	g.word(before)
	start := g.b.Len()
	g.word(v)
	g.c.Spans = append(g.c.Spans, Span{Type: t, Start: start, End: g.b.Len()})
	if after == "" && g.r.IntN(5) == 0 {
		after = g.pick(".", ",", ";", ")")
	}
	g.word(after)
}

var (
	firstNames = []string{"alice", "bob", "thandi", "sipho", "maria", "li", "john", "aisha", "pieter", "nomvula", "oliver", "zanele", "fatima", "dmitri"}
	lastNames  = []string{"smith", "nkosi", "dlamini", "van-der-merwe", "obrien", "garcia", "chen", "naidoo", "botha", "jones", "mokoena"}
	domains    = []string{"example.com", "mail.co.za", "company.org", "sub.example.net", "gmail.com", "outlook.com", "uni.ac.uk", "shop.example.io", "xn--bcher-kva.example", "EXAMPLE.COM", "mail2.my-company.co.uk"}
)

func (g *gen) email() string {
	f, l := g.pick(firstNames...), g.pick(lastNames...)
	var local string
	switch g.r.IntN(6) {
	case 0:
		local = f + "." + l
	case 1:
		local = f + "_" + l + strconv.Itoa(g.r.IntN(100))
	case 2:
		local = f[:1] + l + "+" + g.pick("news", "shop", "2026")
	case 3:
		local = strings.ToUpper(f[:1]) + f[1:] + "." + strings.ToUpper(l[:1]) + l[1:]
	case 4:
		local = f + strconv.Itoa(1950+g.r.IntN(60))
	default:
		local = f
	}
	return local + "@" + g.pick(domains...)
}

// phone returns a valid number in one of the forms the detector documents.
func (g *gen) phone() string {
	za := func() string { // a South African national number without its trunk 0
		return strconv.Itoa(6+g.r.IntN(3)) + strconv.Itoa(g.r.IntN(10)) + g.digits(7)
	}
	zaGeo := func() string {
		return strconv.Itoa(1+g.r.IntN(5)) + strconv.Itoa(g.r.IntN(10)) + g.digits(7)
	}
	nanp := func() string {
		return strconv.Itoa(2+g.r.IntN(8)) + g.digits(2) + strconv.Itoa(2+g.r.IntN(8)) + g.digits(6)
	}
	switch g.r.IntN(19) {
	case 14:
		n := za()
		return "0" + n[:2] + " " + n[2:] // 082 5551234
	case 15:
		n := za()
		return "+27-" + n[:2] + "-" + n[2:5] + "-" + n[5:]
	case 16:
		return "+44 (0)20 7946 " + g.digits(4)
	case 17:
		n := nanp()
		return "1-" + n[:3] + "-" + n[3:6] + "-" + n[6:]
	case 18:
		n := nanp()
		return "+1 (" + n[:3] + ") " + n[3:6] + "-" + n[6:]
	case 0:
		n := za()
		return "+27 " + n[:2] + " " + n[2:5] + " " + n[5:]
	case 1:
		return "+27" + za()
	case 2:
		n := za()
		return "0" + n[:2] + " " + n[2:5] + " " + n[5:]
	case 3:
		n := za()
		return "0" + n[:2] + "-" + n[2:5] + "-" + n[5:]
	case 4:
		return "0" + za()
	case 5:
		n := zaGeo()
		return "(0" + n[:2] + ") " + n[2:5] + " " + n[5:]
	case 6:
		n := za()
		return "+27 (0)" + n[:2] + " " + n[2:5] + " " + n[5:]
	case 7:
		return "+44 20 " + "7946 " + g.digits(4)
	case 8:
		return "+44 7" + g.digits(3) + " " + g.digits(6)
	case 9:
		return "07" + strconv.Itoa(1+g.r.IntN(9)) + g.digits(2) + " " + g.digits(6)
	case 10:
		n := nanp()
		return "+1 " + n[:3] + "-" + n[3:6] + "-" + n[6:]
	case 11:
		n := nanp()
		return "(" + n[:3] + ") " + n[3:6] + "-" + n[6:]
	case 12:
		n := nanp()
		return n[:3] + "." + n[3:6] + "." + n[6:]
	default:
		return "+49 30 " + g.digits(8)
	}
}

// luhnDigit returns the check digit that makes s plus it pass Luhn. It is
// written apart from detect's check, with the table of doubled digits, so
// that a mistake in one does not hide in the other.
func luhnDigit(s string) byte {
	doubled := [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 0 { // doubled: the check digit will stand to its right
			d = doubled[d]
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// card returns a card number of a random scheme, with a valid check digit
// if valid is true and a wrong one otherwise, in a random layout.
func (g *gen) card(valid bool) string {
	var prefix string
	n := 16
	switch g.r.IntN(8) {
	case 0, 1:
		prefix = "4"
		n = []int{16, 16, 16, 19}[g.r.IntN(4)]
	case 2:
		prefix = strconv.Itoa(51 + g.r.IntN(5))
	case 3:
		prefix = strconv.Itoa(2221 + g.r.IntN(500))
	case 4:
		prefix, n = g.pick("34", "37"), 15
	case 5:
		prefix = g.pick("6011", "65")
	case 6:
		prefix = strconv.Itoa(3528 + g.r.IntN(62))
	default:
		prefix, n = "36", 14
	}
	body := prefix + g.digits(n-1-len(prefix))
	check := luhnDigit(body)
	if !valid {
		check = byte('0' + (int(check-'0')+1+g.r.IntN(9))%10)
	}
	d := body + string(check)
	switch g.r.IntN(3) {
	case 0:
		return d
	default:
		sep := g.pick(" ", "-")
		switch n {
		case 15:
			return d[:4] + sep + d[4:10] + sep + d[10:]
		case 14:
			return d[:4] + sep + d[4:10] + sep + d[10:]
		}
		var parts []string
		for i := 0; i < len(d); i += 4 {
			parts = append(parts, d[i:min(i+4, len(d))])
		}
		return strings.Join(parts, sep)
	}
}

// ibanCountries are some countries with their BBAN layouts: 'A' an upper
// case letter, 'N' a digit, 'C' either.
var ibanCountries = []struct{ cc, bban string }{
	{"GB", "AAAANNNNNNNNNNNNNN"},
	{"DE", "NNNNNNNNNNNNNNNNNN"},
	{"FR", "NNNNNNNNNNCCCCCCCCCCCNN"},
	{"NL", "AAAANNNNNNNNNN"},
	{"ES", "NNNNNNNNNNNNNNNNNNNN"},
	{"IT", "ANNNNNNNNNNCCCCCCCCCCCC"},
	{"BE", "NNNNNNNNNNNN"},
	{"CH", "NNNNNCCCCCCCCCCCC"},
	{"AT", "NNNNNNNNNNNNNNNN"},
	{"IE", "AAAANNNNNNNNNNNNNN"},
	{"PL", "NNNNNNNNNNNNNNNNNNNNNNNN"},
	{"PT", "NNNNNNNNNNNNNNNNNNNNN"},
	{"NO", "NNNNNNNNNNN"},
	{"SA", "NNCCCCCCCCCCCCCCCCCC"},
	{"MU", "AAAANNNNNNNNNNNNNNNNNNNAAA"},
}

// mod97 returns the ISO 7064 mod-97 remainder of an IBAN string with
// letters counted as two digits.
func mod97(s string) int {
	r := 0
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}

// iban returns an IBAN with valid check digits if valid is true (else
// wrong ones), all together or in groups of four.
func (g *gen) iban(valid bool) string {
	c := ibanCountries[g.r.IntN(len(ibanCountries))]
	b := make([]byte, len(c.bban))
	for i, k := range []byte(c.bban) {
		switch {
		case k == 'A' || k == 'C' && g.r.IntN(3) == 0:
			b[i] = byte('A' + g.r.IntN(26))
		default:
			b[i] = byte('0' + g.r.IntN(10))
		}
	}
	bban := string(b)
	check := 98 - mod97(bban+c.cc+"00")
	if !valid {
		check = 2 + (check-2+1+g.r.IntN(95))%97
	}
	s := fmt.Sprintf("%s%02d%s", c.cc, check, bban)
	if g.r.IntN(2) == 0 {
		return s
	}
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, " ")
}

// zaIDFault is what is wrong with a generated South African ID number.
type zaIDFault int

const (
	zaOK zaIDFault = iota
	zaBadDate
	zaBadCitizenship
	zaBadCheck
)

func (g *gen) zaIDWith(f zaIDFault) string {
	yy := g.r.IntN(100)
	mm := 1 + g.r.IntN(12)
	days := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mm-1]
	if mm == 2 && yy%4 == 0 {
		days = 29
	}
	dd := 1 + g.r.IntN(days)
	if f == zaBadDate {
		switch g.r.IntN(3) {
		case 0:
			mm = 13 + g.r.IntN(87)
		case 1:
			dd = days + 1 + g.r.IntN(99-days)
		default:
			mm, dd = 2, 30
		}
	}
	c := g.r.IntN(2)
	if f == zaBadCitizenship {
		c = 3 + g.r.IntN(7)
	}
	body := fmt.Sprintf("%02d%02d%02d%s%d8", yy, mm, dd, g.digits(4), c)
	check := luhnDigit(body)
	if f == zaBadCheck {
		check = byte('0' + (int(check-'0')+1+g.r.IntN(9))%10)
	}
	return body + string(check)
}

func (g *gen) zaID(spaced bool) string {
	d := g.zaIDWith(zaOK)
	if spaced && g.r.IntN(5) == 0 {
		return d[:6] + " " + d[6:10] + " " + d[10:]
	}
	return d
}

func (g *gen) ipv4() string {
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", g.r.IntN(256), 1+g.r.IntN(254))
	default:
		return fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	}
}

func (g *gen) hexGroup() string { return strconv.FormatUint(uint64(g.r.IntN(0x10000)), 16) }

func (g *gen) ipv6() string {
	switch g.r.IntN(5) {
	case 0: // full
		var p []string
		for range 8 {
			p = append(p, g.hexGroup())
		}
		p[0] = "2001"
		return strings.Join(p, ":")
	case 1:
		return "2001:db8::" + g.hexGroup() + ":" + g.hexGroup()
	case 2:
		return fmt.Sprintf("fe80::%x:%x:%x:%x", g.r.IntN(0x10000), g.r.IntN(0x10000), g.r.IntN(0x10000), 1+g.r.IntN(0xffff))
	case 3:
		return fmt.Sprintf("::ffff:%d.%d.%d.%d", 1+g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	default:
		return fmt.Sprintf("2a02:%x:%x:%x::%d", 1+g.r.IntN(0xffff), g.r.IntN(0x10000), g.r.IntN(0x10000), 1+g.r.IntN(99))
	}
}

func (g *gen) ssn() string {
	area := 1 + g.r.IntN(898)
	if area == 666 {
		area = 667
	}
	return fmt.Sprintf("%03d-%02d-%04d", area, 1+g.r.IntN(99), 1+g.r.IntN(9999))
}

const (
	ninoFirst  = "ABCEGHJKLMNOPRSTWXYZ"
	ninoSecond = "ABCEGHJKLMNPRSTWXYZ"
)

func (g *gen) nino() string {
	var p string
	for {
		p = string([]byte{ninoFirst[g.r.IntN(len(ninoFirst))], ninoSecond[g.r.IntN(len(ninoSecond))]})
		switch p {
		case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
			continue
		}
		break
	}
	d := g.digits(6)
	s := string(byte('A' + g.r.IntN(4)))
	if g.r.IntN(2) == 0 {
		return p + d + s
	}
	return p + " " + d[:2] + " " + d[2:4] + " " + d[4:] + " " + s
}

func (g *gen) apiKey() string {
	switch g.r.IntN(10) {
	case 0:
		return "AKIA" + g.alnum(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	case 1:
		return g.pick("ghp_", "gho_", "ghs_") + g.alnum(36, base62)
	case 2:
		return "github_pat_" + g.alnum(22, base62) + "_" + g.alnum(59, base62)
	case 3:
		return "glpat-" + g.alnum(20, base62+"-_")
	case 4:
		return g.pick("sk_live_", "rk_live_", "sk_test_") + g.alnum(24+g.r.IntN(76), base62)
	case 5:
		return g.pick("xoxb-", "xoxp-") + g.digits(12) + "-" + g.digits(13) + "-" + g.alnum(24, base62)
	case 6:
		return "AIza" + g.alnum(35, base62+"-_")
	case 7:
		return "npm_" + g.alnum(36, base62)
	case 8:
		return "sk-ant-api03-" + g.alnum(80, base62+"-_") + "AA"
	default:
		return "sk-proj-" + g.alnum(48, base62+"-_")
	}
}

var b64url = base64.RawURLEncoding

func (g *gen) jwt() string {
	alg := g.pick("HS256", "RS256", "ES256", "EdDSA")
	var header string
	switch g.r.IntN(3) {
	case 0:
		header = `{"alg":"` + alg + `","typ":"JWT"}`
	case 1:
		header = `{"typ":"JWT","alg":"` + alg + `"}`
	default:
		header = `{"alg":"` + alg + `","kid":"` + g.alnum(16, hexDigits) + `"}`
	}
	payload := fmt.Sprintf(`{"sub":"%s","name":"%s","iat":%d,"exp":%d}`,
		g.alnum(10, lowerAlnum), g.pick(firstNames...), 1773480413+g.r.IntN(1e6), 1773490413+g.r.IntN(1e6))
	sig := make([]byte, []int{32, 64, 256}[g.r.IntN(3)])
	for i := range sig {
		sig[i] = byte(g.r.IntN(256))
	}
	return b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(payload)) + "." + b64url.EncodeToString(sig)
}

func (g *gen) pemBlock(label string, size int, escaped bool) string {
	raw := make([]byte, size)
	for i := range raw {
		raw[i] = byte(g.r.IntN(256))
	}
	body := base64.StdEncoding.EncodeToString(raw)
	nl := "\n"
	if escaped {
		nl = `\n`
	}
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----" + nl)
	for i := 0; i < len(body); i += 64 {
		b.WriteString(body[i:min(i+64, len(body))] + nl)
	}
	b.WriteString("-----END " + label + "-----")
	return b.String()
}

func (g *gen) pem() string {
	label := g.pick("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
	size := []int{121, 1190, 1218, 2350}[g.r.IntN(4)]
	return g.pemBlock(label, size, g.r.IntN(3) == 0)
}

func (g *gen) urlCredentials() (v, after string) {
	scheme := g.pick("postgres", "mysql", "redis", "amqp", "https", "mongodb+srv", "ftp")
	user := g.pick("app", "admin", "svc_billing", "deploy", "", "x-access-token")
	pass := g.alnum(8+g.r.IntN(16), base62) + g.pick("", "!", "%21", "$", "-x")
	host := g.pick("db.internal", "10.0.3.7", "localhost", "cache.prod.example.com", "[2001:db8::5]")
	if g.r.IntN(2) == 0 {
		host += ":" + strconv.Itoa(1024+g.r.IntN(60000))
	}
	return scheme + "://" + user + ":" + pass + "@" + host, g.pick("/prod", "/", "?sslmode=require", "", "/vhost")
}

// negative writes a hard negative: something that looks like a value of
// some type but is not one.
func (g *gen) negative() {
	kinds := []string{
		"card-luhn", "za-id-date", "za-id-citizenship", "za-id-check", "iban-check", "order-number",
		"version", "timestamp", "epoch", "uuid", "hash", "duration", "mac", "ssn-invalid",
		"nino-invalid", "certificate", "url-no-password", "short-key", "phone-like", "amount", "retina-image",
	}
	k := kinds[g.r.IntN(len(kinds))]
	g.neg[k]++
	switch k {
	case "card-luhn":
		g.word(g.pick("card=", "ref ", "txn ") + g.card(false))
	case "za-id-date":
		g.word("id " + g.zaIDWith(zaBadDate))
	case "za-id-citizenship":
		g.word("id " + g.zaIDWith(zaBadCitizenship))
	case "za-id-check":
		g.word("id " + g.zaIDWith(zaBadCheck))
	case "iban-check":
		g.word("iban=" + g.iban(false))
	case "order-number":
		g.word(g.pick("order=ORD-2026-", "invoice INV-", "order #", "ticket T") + g.digits(4+g.r.IntN(9)))
	case "version":
		g.word(g.pick("v", "go1.", "release-", "build ") + fmt.Sprintf("%d.%d.%d", g.r.IntN(20), g.r.IntN(40), g.r.IntN(200)) + g.pick("", "-rc1", "+meta", ""))
	case "timestamp":
		g.word(fmt.Sprintf("at=%02d/%02d/2026 %02d:%02d:%02d", 1+g.r.IntN(28), 1+g.r.IntN(12), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60)))
	case "epoch":
		g.word(fmt.Sprintf("ts=%d", 1773480413000+g.r.Int64N(1e10)))
	case "uuid":
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		h := hex.EncodeToString(b)
		g.word("trace=" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
	case "hash":
		g.word(g.pick("sha256=", "commit ", "etag=") + g.alnum(40+24*g.r.IntN(2), hexDigits))
	case "duration":
		g.word(fmt.Sprintf("took %dh%dm%d.%03ds", g.r.IntN(3), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1000)))
	case "mac":
		g.word(fmt.Sprintf("hwaddr=%02x:%02x:%02x:%02x:%02x:%02x", g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256)))
	case "ssn-invalid":
		g.word(fmt.Sprintf("ref %s-%02d-%04d", g.pick("000", "666", "900", "987"), 1+g.r.IntN(99), 1+g.r.IntN(9999)))
	case "nino-invalid":
		g.word(g.pick("DA", "GB", "QQ", "FY", "AO") + g.digits(6) + g.pick("A", "B", "E"))
	case "certificate":
		g.word(g.pemBlock(g.pick("CERTIFICATE", "PUBLIC KEY"), 300, false))
	case "url-no-password":
		g.word(g.pick("https://", "postgres://", "redis://") + g.pick("app@", "", "user@") + g.pick("db.internal:5432/prod", "example.com/path?q=1"))
	case "short-key":
		g.word(g.pick("ghp_", "AKIA", "sk_live_", "glpat-") + g.alnum(6+g.r.IntN(6), base62))
	case "phone-like":
		g.word(g.pick("count ", "id ", "bytes ") + "1" + g.digits(9))
	case "amount":
		g.word(fmt.Sprintf("total R %d %03d.%02d", 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(100)))
	case "retina-image":
		g.word("asset " + g.pick("icon", "logo", "hero") + "@2x.png")
	}
}
