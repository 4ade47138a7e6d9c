package redact

import (
	"slices"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/dataward/dataward"
)

// defaultKeys are the names of attributes and struct fields whose values
// are always hidden; see DefaultKeys.
var defaultKeys = []string{
	"password", "passwd", "passphrase",
	"secret", "token", "api_key", "apikey", "private_key",
	"authorization", "cookie", "credential", "cvv",
}

// DefaultKeys returns the names of attributes and struct fields whose
// values are always replaced by "[REDACTED]": password, passwd,
// passphrase, secret, token, api_key, apikey, private_key, authorization,
// cookie, credential and cvv. [Options.Keys] adds to them.
func DefaultKeys() []string { return slices.Clone(defaultKeys) }

// A keyMatcher tells whether a key names a secret. Key and name are split
// into words at anything other than an ASCII letter or digit and where a
// lower-case letter or a digit is followed by a capital, or a capital by a
// capital and a lower-case letter ("accessToken", "APIKey", "x-api-key");
// a key matches a name when the name's words appear in it in a row, in any
// case, the last perhaps with an "s" added.
type keyMatcher struct {
	// byFirst holds the names, as lower-case words joined by '_', by their
	// first byte.
	byFirst [128][]string
	// pairs has bit b of pairs[a] set if a name starts with the bytes a, b
	// (both lower-case). A key is compared with names only at a word that
	// starts so, which few do.
	pairs [128][2]uint64
	// single[a] is set if a name's first word is the one letter a.
	single [128]bool
	// cache remembers what match said of keys seen before.
	cache *keyCache
	// finds, if set, reports whether the scanner finds something in a
	// key, which is then redacted like a value; the cache remembers it.
	finds func(key string) bool
}

// keyCache remembers what match said of up to keyCacheSize keys, in slots
// chosen by the address of the key's bytes: most keys are constants, whose
// bytes stay where they are, and a hit costs a load and a comparison of
// strings whose pointers are equal. A key goes in the first free slot of
// the keyProbes from its home slot, so that keys whose addresses share a
// slot are all remembered. Slots are filled once, so the cache allocates
// at most keyCacheSize times in all; keys made afresh for each record just
// miss.
type keyCache [keyCacheSize]atomic.Pointer[keyResult]

const (
	keyCacheSize = 256
	keyProbes    = 4  // slots a key may take: its home slot and the next three
	maxCachedKey = 64 // longer keys are not remembered
)

type keyResult struct {
	key    string
	secret bool
	found  bool // finds found something in key
}

// home returns the home slot of key in the cache.
func home(key string) uintptr {
	p := uintptr(unsafe.Pointer(unsafe.StringData(key)))
	return p>>3 ^ p>>11 ^ uintptr(len(key))
}

// hit returns what the cache remembers of key in its home slot, where
// most keys are (whether it names a secret, and whether the scanner finds
// something in it), and whether it remembers it there. It calls nothing,
// so that it is inlined where every attribute's key is checked.
func (m *keyMatcher) hit(key string) (secret, found, ok bool) {
	r := m.cache[home(key)%keyCacheSize].Load()
	if r == nil || !sameBytes(r.key, key) {
		return false, false, false
	}
	return r.secret, r.found, true
}

// secret reports whether key names a secret, as match does, remembering
// the answer.
func (m *keyMatcher) secret(key string) bool {
	secret, _ := m.verdict(key)
	return secret
}

// verdict reports whether key names a secret, as match does, and whether
// finds finds something in it, remembering the answers.
func (m *keyMatcher) verdict(key string) (secret, found bool) {
	h := home(key)
	// A hit is the remembered key itself, the same bytes, which need no
	// comparing (nor a call to compare them). Slots are filled in probe
	// order, so the first empty one ends the search.
	for k := uintptr(0); k < keyProbes; k++ {
		r := m.cache[(h+k)%keyCacheSize].Load()
		if r == nil {
			break
		}
		if sameBytes(r.key, key) {
			return r.secret, r.found
		}
	}
	return m.lookup(key, h)
}

// lookup is secret for a key whose bytes are not those remembered in its
// slots: an equal key elsewhere, or one not seen yet, which it remembers
// in the first free slot, if any.
func (m *keyMatcher) lookup(key string, h uintptr) (secret, found bool) {
	for k := uintptr(0); k < keyProbes; k++ {
		if r := m.cache[(h+k)%keyCacheSize].Load(); r != nil && r.key == key {
			return r.secret, r.found
		}
	}
	secret = m.match(key)
	found = m.finds != nil && m.finds(key)
	if len(key) <= maxCachedKey {
		r := &keyResult{key, secret, found}
		for k := uintptr(0); k < keyProbes; k++ {
			if slot := &m.cache[(h+k)%keyCacheSize]; slot.Load() == nil && slot.CompareAndSwap(nil, r) {
				break
			}
		}
	}
	return secret, found
}

// sameBytes reports whether a and b are the same bytes in memory, not
// only equal ones.
func sameBytes(a, b string) bool {
	return unsafe.StringData(a) == unsafe.StringData(b) && len(a) == len(b)
}

// newKeyMatcher returns a matcher of defaultKeys and extra, and a problem
// for every name in extra that holds no letter or digit.
func newKeyMatcher(extra []string) (keyMatcher, []dataward.Problem) {
	m := keyMatcher{cache: new(keyCache)}
	var problems []dataward.Problem
	for _, k := range defaultKeys {
		m.add(normalKey(k))
	}
	for i, k := range extra {
		n := normalKey(k)
		if n == "" {
			problems = append(problems, dataward.Problem{
				Field:   "Options.Keys[" + strconv.Itoa(i) + "]",
				Message: "holds no ASCII letter or digit",
			})
			continue
		}
		m.add(n)
	}
	return m, problems
}

func (m *keyMatcher) add(name string) {
	a := name[0]
	m.byFirst[a] = append(m.byFirst[a], name)
	if len(name) == 1 || name[1] == '_' {
		m.single[a] = true
	} else {
		b := name[1]
		m.pairs[a][b/64] |= 1 << (b % 64)
	}
}

// normalKey returns the words of k in lower case, joined by '_'.
func normalKey(k string) string {
	var b []byte
	for i := 0; i < len(k); {
		if !isASCIIAlnum(k[i]) {
			i++
			continue
		}
		if len(b) > 0 {
			b = append(b, '_')
		}
		end := wordEnd(k, i)
		b = appendLower(b, k[i:end])
		i = end
	}
	return string(b)
}

// match reports whether key names a secret. It allocates nothing and
// costs about a nanosecond a byte.
func (m *keyMatcher) match(key string) bool {
	prev := uint8(classSep)
	for i := 0; i < len(key); i++ {
		class := classes[key[i]]
		start := starts[prev&3][class&3]
		prev = class
		if start == noStart || start == startIfLower && (i+1 == len(key) || classes[key[i+1]] != classLower) {
			continue
		}
		// A word starts at key[i]: compare the names that start with its
		// first two letters.
		a := lower(key[i])
		if !m.single[a] {
			if i+1 == len(key) || classes[key[i+1]] == classSep {
				continue
			}
			if b := lower(key[i+1]); m.pairs[a][b/64]&(1<<(b%64)) == 0 {
				continue
			}
		}
		for _, name := range m.byFirst[a] {
			if matchAt(key, i, name) {
				return true
			}
		}
	}
	return false
}

// The classes of bytes in keys.
const (
	classSep = iota // anything but an ASCII letter or digit
	classLower
	classUpper
	classDigit
)

// Whether a word starts at a byte, by its class and that of the byte
// before it (as camelBoundary says).
const (
	noStart      = iota
	start        // a word starts here
	startIfLower // a word starts here if the next byte is lower-case
)

var starts = [4][4]uint8{
	classSep:   {classLower: start, classUpper: start, classDigit: start},
	classLower: {classUpper: start},
	classUpper: {classUpper: startIfLower},
	classDigit: {classUpper: start},
}

var classes = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLower
		t[c-'a'+'A'] = classUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	return t
}()

// matchAt reports whether the words of name start at key[i], a word start.
func matchAt(key string, i int, name string) bool {
	for k := 0; k < len(name); k++ {
		if name[k] == '_' {
			// The next word of the key must start here.
			if i < len(key) && isASCIIAlnum(key[i]) && !camelBoundary(key, i) {
				return false
			}
			for i < len(key) && !isASCIIAlnum(key[i]) {
				i++
			}
			k++
		} else if k > 0 && i < len(key) && camelBoundary(key, i) {
			return false // a new word starts in the key, within a word of name
		}
		if i >= len(key) || lower(key[i]) != name[k] {
			return false
		}
		i++
	}
	if i < len(key) && lower(key[i]) == 's' && !camelBoundary(key, i) {
		i++ // a plural
	}
	return i == len(key) || !isASCIIAlnum(key[i]) || camelBoundary(key, i)
}

// wordEnd returns the end of the word that starts at key[i].
func wordEnd(key string, i int) int {
	for i++; i < len(key) && isASCIIAlnum(key[i]) && !camelBoundary(key, i); i++ {
	}
	return i
}

// camelBoundary reports whether a word starts at key[i] by a change of
// case: "accessToken", "user2Name", "APIKey" (before the K). key[i] is
// within key.
func camelBoundary(key string, i int) bool {
	if i == 0 || !isUpper(key[i]) {
		return false
	}
	prev := key[i-1]
	if isLower(prev) || '0' <= prev && prev <= '9' {
		return true
	}
	return isUpper(prev) && i+1 < len(key) && isLower(key[i+1])
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

// lower returns c lowered if it is an ASCII capital. It is only called on
// ASCII letters and digits, so its result indexes byFirst.
func lower(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}
