package detect

import "strconv"

// A Type names a kind of personal data or secret that a [Scanner] finds.
// The built-in types are the constants below; a host's own detectors use
// types of their own naming, such as "customer_number".
type Type string

// The built-in types. Each is validated beyond its pattern: a card number
// passes the Luhn check and an issuer range, an IBAN its country's length
// and mod-97, a South African ID number its birth date, citizenship digit
// and Luhn check, and so on. The package documentation lists the checks
// and the maximum span of each.
const (
	Email          Type = "email"           // an e-mail address
	Phone          Type = "phone"           // E.164 and common national formats
	Card           Type = "card"            // a payment card number (PAN)
	IBAN           Type = "iban"            // an international bank account number
	ZAID           Type = "za_id"           // a South African identity number
	IPv4           Type = "ipv4"            // an IPv4 address
	IPv6           Type = "ipv6"            // an IPv6 address
	USSSN          Type = "us_ssn"          // a US social security number
	UKNINO         Type = "uk_nino"         // a UK National Insurance number
	APIKey         Type = "api_key"         // an API key or token with a well-known prefix
	JWT            Type = "jwt"             // a JSON Web Token
	PrivateKey     Type = "private_key"     // a PEM private-key block
	URLCredentials Type = "url_credentials" // a URL carrying a user name and password
)

// Confidence says how sure a [Scanner] is that a finding is what its type
// says. Higher is surer; a match that passes its type's validation but
// could be something else (a ten-digit number that is a valid phone
// number, say) starts lower, and context words near it, such as "phone" or
// "tel", raise it.
type Confidence uint8

// The confidence levels, in increasing order.
const (
	Low    Confidence = iota + 1 // plausible by shape alone
	Medium                       // validated, but common in data that is not PII
	High                         // validated by a checksum or a distinctive form, or backed by context
)

// String returns "low", "medium" or "high".
func (c Confidence) String() string {
	switch c {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return "unknown"
}

// A Finding is one match in scanned text: its type, its span as byte
// offsets (text[Start:End]) and how sure the scanner is. A Finding never
// holds the matched text itself, so it can be logged. A [Scanner] returns
// findings sorted by Start, none overlapping another.
type Finding struct {
	Type       Type
	Start, End int
	Confidence Confidence
}

// String returns the finding's type, span and confidence, such as
// "email[10:27] high". It never holds the matched text.
func (f Finding) String() string {
	return string(f.Type) + "[" + strconv.Itoa(f.Start) + ":" + strconv.Itoa(f.End) + "] " + f.Confidence.String()
}
