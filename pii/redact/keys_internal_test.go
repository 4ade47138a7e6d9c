package redact

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyMatch(t *testing.T) {
	m, problems := newKeyMatcher([]string{"ssn", "X-Internal-ID", "dateOfBirth"})
	require.Empty(t, problems)
	for key, want := range map[string]bool{
		// The built-in names, in the spellings of real code.
		"password":           true,
		"user_password":      true,
		"PASSWORD":           true,
		"passwordHash":       true,
		"passwords":          true,
		"accessToken":        true,
		"refresh-token":      true,
		"api_key":            true,
		"apiKey":             true,
		"APIKey":             true,
		"X-API-Key":          true,
		"apikey":             true,
		"authorization":      true,
		"HTTP_AUTHORIZATION": true,
		"cookie":             true,
		"Set-Cookie":         true,
		"secret":             true,
		"client_secret":      true,
		"AWSSecretAccessKey": true,
		"credentials":        true,
		"private_key":        true,
		"card.cvv":           true,
		"db passwd":          true,
		// The configured names.
		"ssn":              true,
		"user.SSN":         true,
		"x_internal_id":    true,
		"XInternalID":      true,
		"date_of_birth":    true,
		"DateOfBirth":      true,
		"customerDOB":      false,
		"classname":        false, // not the word "ssn"
		"lessons":          false,
		"internal_id":      false, // only part of a name
		"date":             false,
		"dateOfBirthPlace": true, // the words in a row, then another
		// Names that only look alike.
		"passport":        false,
		"tokenizer":       false,
		"secretary":       false,
		"apiKeyID":        true, // api, key, id: the words api, key in a row
		"api":             false,
		"key":             false,
		"author":          false,
		"cookiecutter":    false,
		"user":            false,
		"email":           false,
		"":                false,
		"-_.":             false,
		"päss_wörd":       false,
		"token_count":     true, // a false positive, on the safe side
		"my.secret.sauce": true,
	} {
		assert.Equal(t, want, m.match(key), "%q", key)
	}
}

// TestKeyCache checks that secret says what match says, the first time
// and from the cache, for keys that share their bytes and keys that do not.
func TestKeyCache(t *testing.T) {
	m, _ := newKeyMatcher([]string{"ssn"})
	keys := []string{"password", "user", "accessToken", "order", "SSN", "classname", strings.Repeat("x", 100) + "_token"}
	for range 3 {
		for _, k := range keys {
			fresh := strings.Clone(k)
			assert.Equal(t, m.match(k), m.secret(k), "%q", k)
			assert.Equal(t, m.match(k), m.secret(fresh), "%q, a copy", k)
		}
	}
	// Many distinct keys fill the cache once, and are still answered
	// right.
	for i := range 2 * keyCacheSize {
		k := fmt.Sprintf("field%d", i)
		assert.False(t, m.secret(k))
		assert.True(t, m.secret(k+"_password"))
	}
}

// TestKeyCacheSharedSlot checks that keys whose bytes share a home slot
// are all remembered, rather than all but the first missing the cache on
// every record.
func TestKeyCacheSharedSlot(t *testing.T) {
	m, _ := newKeyMatcher(nil)
	// Distinct keys of eight bytes at different addresses of one buffer,
	// the first three that share a slot.
	var b strings.Builder
	for i := range 8192 {
		fmt.Fprintf(&b, "k%07d", i)
	}
	buf := b.String()
	var keys []string
	for i := 0; i+8 <= len(buf) && len(keys) < 3; i += 8 {
		k := buf[i : i+8]
		if len(keys) == 0 || home(k)%keyCacheSize == home(keys[0])%keyCacheSize {
			keys = append(keys, k)
		}
	}
	require.Len(t, keys, 3)
	for range 2 {
		for _, k := range keys {
			assert.Equal(t, m.match(k), m.secret(k), "%q", k)
		}
	}
	for i, k := range keys {
		assert.True(t, m.cached(k), "key %d of those that share a slot is not remembered", i)
	}
}

// cached reports whether m remembers key's bytes.
func (m *keyMatcher) cached(key string) bool {
	h := home(key)
	for k := uintptr(0); k < keyProbes; k++ {
		if r := m.cache[(h+k)%keyCacheSize].Load(); r != nil && sameBytes(r.key, key) {
			return true
		}
	}
	return false
}

func TestKeyMatchAllocatesNothing(t *testing.T) {
	m, _ := newKeyMatcher(nil)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		m.match("user_password")
		m.match("requestDurationMillis")
		m.secret("user_password")
		m.secret("requestDurationMillis")
	}))
}

func TestNormalKey(t *testing.T) {
	for in, want := range map[string]string{
		"accessToken":   "access_token",
		"X-API-Key":     "x_api_key",
		"APIKey":        "api_key",
		"user2Name":     "user2_name",
		"  a  b ":       "a_b",
		"--":            "",
		"HTTPServer":    "http_server",
		"date_of_BIRTH": "date_of_birth",
	} {
		assert.Equal(t, want, normalKey(in), "%q", in)
	}
}
