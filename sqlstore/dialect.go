package sqlstore

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the one place that knows how SQLite and PostgreSQL differ:
// placeholders, column types used by migrations, and how times and byte
// strings travel to and from the database. Queries elsewhere in the package
// are written once, with ? placeholders, and pass through [Dialect.rebind].

// Dialect names the SQL database behind a [DB].
type Dialect int

// The dialects sqlstore speaks.
const (
	// SQLite is SQLite 3 through the pure-Go driver modernc.org/sqlite
	// (driver name "sqlite").
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 13 or later through
	// github.com/jackc/pgx/v5/stdlib (driver name "pgx").
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) valid() bool { return d == SQLite || d == Postgres }

// rebind rewrites the ? placeholders of query into the dialect's form:
// unchanged for SQLite, $1, $2, ... for PostgreSQL. A ? inside a quoted
// string or identifier, or inside a comment, is left alone.
func (d Dialect) rebind(query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// Copy the quoted text up to and including its closing quote; a
			// doubled quote inside it is an escaped quote and is copied too.
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end - 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Column types that migrations write as {{TOKEN}}, expanded by
// [Dialect.expand]. Add a token here when a new migration needs a type the
// two databases spell differently, and document it in doc.go.
var typeTokens = map[string][2]string{ // token: {SQLite, PostgreSQL}
	// Arbitrary bytes.
	"BYTES": {"BLOB", "BYTEA"},
	// An instant with microsecond precision, in UTC. Bind and scan it only
	// through timeArg and timeCol. SQLite keeps Unix microseconds.
	"TIMESTAMP": {"INTEGER", "TIMESTAMPTZ"},
	// Text that sorts and compares by bytes (memcmp), whatever the
	// database's collation: what keys and cursors need.
	"BYTEWISE_TEXT": {"TEXT", `TEXT COLLATE "C"`},
	// A 64-bit integer for a single-column primary key. On SQLite, a
	// column declared exactly INTEGER PRIMARY KEY is the rowid: the table's
	// b-tree is keyed by it and no separate index is kept, which halves
	// the b-trees an insert writes. (INTEGER is 64-bit on SQLite; on
	// PostgreSQL it is 32-bit, hence BIGINT.)
	"INT64_KEY": {"INTEGER", "BIGINT"},
}

var tokenRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// expand replaces every {{TOKEN}} in a migration's SQL with the dialect's
// spelling. An unknown token is an error, so a typo fails the tests of
// whichever package added it rather than reaching a database.
func (d Dialect) expand(sqlText string) (string, error) {
	var unknown []string
	out := tokenRE.ReplaceAllStringFunc(sqlText, func(tok string) string {
		name := strings.TrimSpace(tok[2 : len(tok)-2])
		spell, ok := typeTokens[name]
		if !ok {
			unknown = append(unknown, tok)
			return tok
		}
		if d == Postgres {
			return spell[1]
		}
		return spell[0]
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown type token %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

// timeArg converts t for binding to a {{TIMESTAMP}} column: nil for the
// zero time, otherwise t truncated to the microsecond (Unix microseconds on
// SQLite, a UTC time.Time on PostgreSQL).
func (d Dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.instantArg(t)
}

// instantArg is timeArg for a NOT NULL {{TIMESTAMP}} column that queries
// compare with < and >=: the zero time is bound as the instant it stands
// for, the first microsecond of year 1 UTC, so that it sorts before every
// other time instead of being NULL, which no comparison matches. timeCol
// reads it back as the zero time.
func (d Dialect) instantArg(t time.Time) any {
	if d == SQLite {
		return t.UnixMicro()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// timeRange returns the earliest and the latest instant, to the
// microsecond, that a {{TIMESTAMP}} column can hold: on SQLite, those of
// 64-bit Unix microseconds; on PostgreSQL, those of timestamptz.
func (d Dialect) timeRange() (lo, hi time.Time) {
	if d == Postgres {
		return time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC),
			time.Date(294277, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Microsecond)
	}
	return time.UnixMicro(math.MinInt64).UTC(), time.UnixMicro(math.MaxInt64).UTC()
}

// timeCol scans a {{TIMESTAMP}} column of either dialect into a UTC time;
// NULL becomes the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("unexpected %T in a timestamp column", src)
	}
	return nil
}

// bytesCol scans a {{BYTES}} column: NULL becomes nil, any other value a
// fresh, non-nil slice owned by the caller.
type bytesCol struct{ b *[]byte }

func (c bytesCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.b = nil
	case []byte:
		*c.b = append([]byte{}, v...)
	case string:
		*c.b = []byte(v)
	default:
		return fmt.Errorf("unexpected %T in a bytes column", src)
	}
	return nil
}

// anyInt64 is a condition that the BIGINT column col holds one of a list
// of numbers, bound with [Dialect.int64List] as a single argument, so that
// the statement's text does not depend on the length of the list:
// col = ANY(?) with an int8[] on PostgreSQL (which then prepares it once),
// col IN (SELECT value FROM json_each(?)) with a JSON array on SQLite
// (which has no array type, and limits the number of ? in a statement).
func (d Dialect) anyInt64(col string) string {
	if d == Postgres {
		return col + " = ANY(?)"
	}
	return col + " IN (SELECT value FROM json_each(?))"
}

// int64List converts xs for binding to the ? of [Dialect.anyInt64].
func (d Dialect) int64List(xs []int64) any {
	if d == Postgres {
		return xs
	}
	b := make([]byte, 0, 2+8*len(xs))
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return string(append(b, ']'))
}

// textOK reports whether the database can store s in a TEXT column:
// SQLite stores any string; PostgreSQL (in a UTF8 database) only valid
// UTF-8 without NUL bytes. Checking first gives an error that says which
// field is wrong, where PostgreSQL's would quote the offending bytes.
func (d Dialect) textOK(s string) bool {
	return d != Postgres || (utf8.ValidString(s) && strings.IndexByte(s, 0) < 0)
}

// bytesArg converts b for binding to a {{BYTES}} column. A nil slice is
// NULL; an empty, non-nil one is an empty byte string.
func bytesArg(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
