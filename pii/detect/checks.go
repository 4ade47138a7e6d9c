package detect

// The validations of the built-in types: checksums, issuer ranges, country
// tables and dates. They take digits as ASCII bytes and never allocate.

// luhn reports whether the decimal digits d pass the Luhn (mod 10) check
// used by payment cards and South African identity numbers.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// prefixIn reports whether the number made of the first k digits of d lies
// in [lo, hi]. d has at least k digits.
func prefixIn(d []byte, k, lo, hi int) bool {
	v := 0
	for _, c := range d[:k] {
		v = v*10 + int(c-'0')
	}
	return lo <= v && v <= hi
}

// cardIssuer reports whether the digits d of a would-be card number start
// with the issuer identification number of a card scheme that issues
// numbers of that length: Visa, Mastercard, American Express, Discover,
// Diners Club, JCB, UnionPay, Maestro and Mir; 12 and 14 to 19 digits.
func cardIssuer(d []byte) bool {
	n := len(d)
	if n < 12 || n > 19 || n == 13 {
		// Thirteen digits are read as a South African identity number:
		// 13-digit cards (early Visa, a few Maestro) are no longer issued.
		return false
	}
	switch d[0] {
	case '4': // Visa
		return n == 16 || n == 19
	case '5':
		switch {
		case prefixIn(d, 2, 51, 55): // Mastercard
			return n == 16
		case prefixIn(d, 2, 50, 50), prefixIn(d, 2, 56, 58): // Maestro
			return true
		}
	case '2':
		switch {
		case prefixIn(d, 4, 2221, 2720): // Mastercard 2-series
			return n == 16
		case prefixIn(d, 4, 2200, 2204): // Mir
			return n >= 16
		}
	case '3':
		switch {
		case prefixIn(d, 2, 34, 34), prefixIn(d, 2, 37, 37): // American Express
			return n == 15
		case prefixIn(d, 4, 3528, 3589): // JCB
			return n >= 16
		case prefixIn(d, 3, 300, 305), prefixIn(d, 2, 36, 36), prefixIn(d, 2, 38, 39): // Diners Club
			return n >= 14
		}
	case '6':
		switch {
		case prefixIn(d, 4, 6011, 6011), prefixIn(d, 3, 644, 649), prefixIn(d, 2, 65, 65): // Discover
			return n >= 16
		case prefixIn(d, 2, 62, 62): // UnionPay
			return n >= 16
		case prefixIn(d, 4, 6304, 6304), prefixIn(d, 4, 6759, 6759), prefixIn(d, 4, 6761, 6763): // Maestro
			return true
		}
	}
	return false
}

// validCard reports whether d is a payment card number: an issuer range
// with a length it issues, and the Luhn check.
func validCard(d []byte) bool { return cardIssuer(d) && luhn(d) }

// validZAID reports whether the 13 digits d form a South African identity
// number, YYMMDD SSSS C A Z: a date of birth that exists (29 February only
// in years divisible by four, 2000 included), a citizenship digit C of 0
// (citizen), 1 (permanent resident) or 2 (refugee), and the Luhn check
// digit Z.
func validZAID(d []byte) bool {
	if len(d) != 13 {
		return false
	}
	yy := int(d[0]-'0')*10 + int(d[1]-'0')
	mm := int(d[2]-'0')*10 + int(d[3]-'0')
	dd := int(d[4]-'0')*10 + int(d[5]-'0')
	if mm < 1 || mm > 12 || dd < 1 || dd > daysIn(mm, yy%4 == 0) {
		return false
	}
	if d[10] > '2' {
		return false
	}
	return luhn(d)
}

// daysIn returns the number of days of month mm (1 to 12).
func daysIn(mm int, leap bool) int {
	switch mm {
	case 2:
		if leap {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// validSSN reports whether the nine digits d form a US social security
// number that can be issued: area 001-899 but not 666, group 01-99, serial
// 0001-9999.
func validSSN(d []byte) bool {
	if len(d) != 9 {
		return false
	}
	area := int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
	if area == 0 || area == 666 || area >= 900 {
		return false
	}
	if d[3] == '0' && d[4] == '0' {
		return false
	}
	return !(d[5] == '0' && d[6] == '0' && d[7] == '0' && d[8] == '0')
}

// ibanLengths maps a country code (two letters packed as c0<<8|c1) to the
// length of its IBANs, from the SWIFT IBAN registry.
var ibanLengths = func() map[uint16]uint8 {
	m := map[string]uint8{
		"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
		"BG": 22, "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22,
		"CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20,
		"EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22,
		"GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
		"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
		"KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
		"LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
		"MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
		"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
		"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
		"SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29,
		"VA": 22, "VG": 24, "XK": 20, "YE": 30,
	}
	packed := make(map[uint16]uint8, len(m))
	for cc, n := range m {
		packed[uint16(cc[0])<<8|uint16(cc[1])] = n
	}
	return packed
}()

// maxIBAN and minIBAN are the longest and the shortest IBAN, in
// characters without spaces (minIBAN: Norway's).
const (
	maxIBAN = 34
	minIBAN = 15
)

// ibanLength returns the IBAN length of the country whose code is the two
// upper-case letters a and b, or 0 if it has no IBANs.
func ibanLength(a, b byte) int { return int(ibanLengths[uint16(a)<<8|uint16(b)]) }

// validIBAN reports whether the upper-case letters and digits s form an
// IBAN: its country's length, check digits 02 to 98, and the mod-97 check
// (ISO 13616).
func validIBAN(s []byte) bool {
	if len(s) < minIBAN || len(s) != ibanLength(s[0], s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	if check := int(s[2]-'0')*10 + int(s[3]-'0'); check < 2 || check > 98 {
		return false
	}
	r := 0
	add := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	for _, c := range s[4:] {
		add(c)
	}
	for _, c := range s[:4] {
		add(c)
	}
	return r == 1
}

// validNINOPrefix reports whether a and b may start a UK National Insurance
// number: neither letter is D, F, I, Q, U or V, the second is not O, and
// the pair is not one that is never issued (BG, GB, KN, NK, NT, TN, ZZ).
func validNINOPrefix(a, b byte) bool {
	switch a {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return false
	}
	switch b {
	case 'D', 'F', 'I', 'O', 'Q', 'U', 'V':
		return false
	}
	switch string([]byte{a, b}) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	return true
}

// callingCode returns the length of the E.164 country calling code that
// starts the digits d, or 0 if d does not start with an assigned one.
// One-digit codes are 1 (North America) and 7 (Russia, Kazakhstan);
// two-digit codes are listed; the rest are three digits long, in zones
// whose first two digits are listed.
func callingCode(d []byte) int {
	if len(d) < 3 {
		return 0
	}
	if d[0] == '1' || d[0] == '7' {
		return 1
	}
	switch string(d[:2]) {
	case "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
		"43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
		"55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
		"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98":
		return 2
	case "21", "22", "23", "24", "25", "26", "29", "35", "37", "38", "42",
		"50", "59", "67", "68", "69", "85", "87", "88", "96", "97", "99":
		return 3
	}
	return 0
}

// validE164 reports whether d, the digits of a number written with a
// leading '+', is a plausible international number: an assigned country
// code followed by a national number of a length that country uses (with
// the rules of the numbering plan for North America, South Africa and the
// United Kingdom), at most 15 digits in all.
func validE164(d []byte) bool {
	if len(d) < 8 || len(d) > 15 {
		return false
	}
	cc := callingCode(d)
	if cc == 0 {
		return false
	}
	nat := d[cc:]
	switch string(d[:cc]) {
	case "1":
		return len(nat) == 10 && nat[0] >= '2' && nat[3] >= '2'
	case "27":
		return len(nat) == 9 && nat[0] >= '1' && nat[0] <= '8'
	case "44":
		return (len(nat) == 10 || len(nat) == 9) && nat[0] != '0'
	}
	return len(nat) >= 6 && nat[0] != '0'
}
