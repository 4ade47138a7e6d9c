package retention

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dataward/dataward"
)

// Rule is how [Anonymise] rewrites a field.
type Rule string

// The anonymisation rules.
const (
	// Null clears the field (SQL NULL, a nil value).
	Null Rule = "null"
	// Mask replaces the field with [MaskText], whatever its length.
	Mask Rule = "mask"
	// Hash replaces the field with a keyed hash (HMAC-SHA256 under the
	// Sweeper's HashKey, domain-separated by data set and field): equal
	// values stay equal, so counts and joins still work, but cannot be
	// read or guessed without the key.
	Hash Rule = "hash"
	// Generalise keeps a coarser value, as [FieldRule.To] says: a time or
	// date to its "year", "month" or "day"; a number to its "tens"; a
	// text to its first N characters ("prefix:3").
	Generalise Rule = "generalise"
)

// MaskText is what [Mask] writes.
const MaskText = "***"

// FieldRule says how [Anonymise] rewrites one field of a record.
type FieldRule struct {
	Field string `json:"field" yaml:"field"`
	Rule  Rule   `json:"rule" yaml:"rule"`
	// To is the coarser form for [Generalise]: "year", "month", "day",
	// "tens" or "prefix:N".
	To string `json:"to,omitempty" yaml:"to,omitempty"`
}

func (r FieldRule) check(ve *dataward.ValidationError, at string) {
	if msg := nameProblem(r.Field); msg != "" {
		ve.Add(at+".field", msg)
	}
	switch r.Rule {
	case Null, Mask, Hash:
		if r.To != "" {
			ve.Add(at+".to", fmt.Sprintf("is given, but rule %q does not use it: only \"generalise\" does", string(r.Rule)))
		}
	case Generalise:
		if _, msg := parseTo(r.To); msg != "" {
			ve.Add(at+".to", msg)
		}
	case "":
		ve.Add(at+".rule", `is required: "null", "mask", "hash" or "generalise"`)
	default:
		ve.Add(at+".rule", fmt.Sprintf(`%q is not a rule: use "null", "mask", "hash" or "generalise"`, string(r.Rule)))
	}
}

// parseTo returns the prefix length of "prefix:N" (0 for the other forms),
// or what is wrong with to.
func parseTo(to string) (int, string) {
	switch to {
	case "year", "month", "day", "tens":
		return 0, ""
	case "":
		return 0, `is required when rule is "generalise": "year", "month", "day", "tens" or "prefix:N"`
	}
	if s, ok := strings.CutPrefix(to, "prefix:"); ok {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 64 {
			return n, ""
		}
		return 0, `must be "prefix:N" with N from 1 to 64`
	}
	return 0, fmt.Sprintf(`%q is not a form: use "year", "month", "day", "tens" or "prefix:N"`, to)
}

// apply returns v rewritten by r. hash computes the keyed hash of a text.
// Values of a type the rule cannot rewrite get an error naming the field,
// never the value.
func (r FieldRule) apply(v any, hash func(field, value string) string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch r.Rule {
	case Null:
		return nil, nil
	case Mask:
		return MaskText, nil
	case Hash:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			s = fmt.Sprint(x)
		}
		return hash(r.Field, s), nil
	case Generalise:
		return r.generalise(v)
	}
	return nil, fmt.Errorf("retention: field %q has no usable rule", r.Field)
}

func (r FieldRule) generalise(v any) (any, error) {
	bad := func() (any, error) {
		return nil, fmt.Errorf("retention: field %q holds a %T, which cannot be generalised to %q", r.Field, v, r.To)
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch r.To {
	case "year", "month", "day":
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		case string:
			if len(x) < 10 {
				return bad()
			}
			d, err := time.Parse(time.DateOnly, x[:10])
			if err != nil {
				return bad()
			}
			switch r.To {
			case "year":
				return x[:4], nil
			case "month":
				return x[:7], nil
			}
			return d.Format(time.DateOnly), nil
		default:
			return bad()
		}
		y, m, d := t.Date()
		switch r.To {
		case "year":
			m, d = 1, 1
		case "month":
			d = 1
		}
		return time.Date(y, m, d, 0, 0, 0, 0, t.Location()), nil
	case "tens":
		switch x := v.(type) {
		case int:
			return x - x%10, nil
		case int64:
			return x - x%10, nil
		case float64:
			return float64(int64(x) - int64(x)%10), nil
		case string:
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return bad()
			}
			return strconv.FormatInt(n-n%10, 10), nil
		}
		return bad()
	}
	n, _ := parseTo(r.To)
	s, ok := v.(string)
	if !ok {
		return bad()
	}
	if utf8.RuneCountInString(s) <= n {
		return s, nil
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "*", nil
		}
		i++
	}
	return s, nil
}

// keyedHash returns the HMAC-SHA256 of the data set, field and value under
// key, as "h:" and 22 characters of base64url.
func keyedHash(key []byte, dataset, field, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(dataset))
	m.Write([]byte{0})
	m.Write([]byte(field))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return "h:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}
