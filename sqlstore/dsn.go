package sqlstore

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// sqlitePragmas are the connection settings every SQLite connection opened
// by [Open] gets, unless its DSN sets the same PRAGMA itself. The name is
// the PRAGMA, the value what follows it in the DSN's _pragma parameter.
var sqlitePragmas = []struct{ name, value string }{
	// Wait for a lock held by another connection or process rather than
	// failing at once with "database is locked".
	{"busy_timeout", "busy_timeout(10000)"},
	// Readers do not block the writer, and the writer does not block
	// readers.
	{"journal_mode", "journal_mode(WAL)"},
	// A committed data key survives a power failure: losing one would lose
	// every value sealed under it.
	{"synchronous", "synchronous(FULL)"},
	{"foreign_keys", "foreign_keys(1)"},
	// Deleted and overwritten content is overwritten with zeros, so a
	// shredded key does not linger in free pages of the file.
	{"secure_delete", "secure_delete(1)"},
	// Temporary tables, indexes and statement journals stay in memory:
	// faster (about 15 % of an audit append went to the statement journal
	// in a file), and no copy of a page, key material included, is written
	// to a temporary file that secure_delete does not reach.
	{"temp_store", "temp_store(MEMORY)"},
}

// The driver's shorthand keys for PRAGMAs, which also count as the DSN
// setting that PRAGMA.
var sqliteShorthands = map[string]string{
	"_busy_timeout": "busy_timeout",
	"_timeout":      "busy_timeout",
	"_journal_mode": "journal_mode",
	"_journal":      "journal_mode",
	"_synchronous":  "synchronous",
	"_sync":         "synchronous",
	"_foreign_keys": "foreign_keys",
	"_fk":           "foreign_keys",
}

var (
	schemeRE  = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
	keywordRE = regexp.MustCompile(`^[A-Za-z_]+\s*=`)
)

// parseDSN works out the dialect of dsn and returns the name to give the
// driver.
func parseDSN(dsn string) (Dialect, string, error) {
	dsn = strings.TrimSpace(dsn)
	lower := strings.ToLower(dsn)
	switch {
	case dsn == "":
		return 0, "", errors.New("empty DSN: want a postgres:// URL, sqlite:PATH, a file: URI or a file path")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		// pgx reads a URL only if its scheme is in lower case, and
		// anything else as keyword=value settings: an upper-case scheme
		// would connect to the default server instead.
		scheme, rest, _ := strings.Cut(dsn, "://")
		return Postgres, strings.ToLower(scheme) + "://" + rest, nil
	case strings.HasPrefix(lower, "sqlite://"):
		dsn = dsn[len("sqlite://"):]
	case strings.HasPrefix(lower, "sqlite:"):
		dsn = dsn[len("sqlite:"):]
	case strings.HasPrefix(lower, "file:"):
		// Passed to SQLite whole, as a URI.
	default:
		if m := schemeRE.FindStringSubmatch(dsn); m != nil {
			return 0, "", fmt.Errorf("unsupported DSN scheme %q: want postgres://, postgresql://, sqlite:, file: or a file path", m[1])
		}
		if keywordRE.MatchString(dsn) {
			return 0, "", errors.New("DSN looks like PostgreSQL key=value settings: use a postgres:// URL (or sqlite:PATH for a file whose name contains '=')")
		}
	}
	if len(dsn) >= 5 && strings.EqualFold(dsn[:5], "file:") {
		// SQLite reads a URI only if its scheme is in lower case, and
		// anything else as a file name: File::memory: would be a file.
		dsn = "file:" + dsn[5:]
	}
	path, _, _ := strings.Cut(dsn, "?")
	if path == "" || path == "file:" {
		return 0, "", errors.New("SQLite DSN has no file path")
	}
	name, err := sqliteDSN(dsn)
	if err != nil {
		return 0, "", err
	}
	return SQLite, name, nil
}

// sqliteDSN appends to a SQLite file name or file: URI the parameters of
// [sqlitePragmas] and _txlock=immediate, except those its query already
// sets: the caller's own choice wins.
func sqliteDSN(dsn string) (string, error) {
	_, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("bad SQLite DSN parameters: %w", err)
	}
	set := make(map[string]bool)
	for _, p := range q["_pragma"] {
		name := strings.ToLower(strings.TrimSpace(p))
		if i := strings.IndexAny(name, "(= "); i >= 0 {
			name = name[:i]
		}
		set[name] = true
	}
	for key, pragma := range sqliteShorthands {
		if q.Has(key) {
			set[pragma] = true
		}
	}
	var add []string
	for _, p := range sqlitePragmas {
		if !set[p.name] {
			add = append(add, "_pragma="+p.value)
		}
	}
	if !q.Has("_txlock") {
		// Every transaction takes the write lock when it begins, so two
		// read-then-write transactions cannot deadlock into SQLITE_BUSY.
		add = append(add, "_txlock=immediate")
	}
	if len(add) == 0 {
		return dsn, nil
	}
	sep := "?"
	switch {
	case strings.HasSuffix(dsn, "?") || strings.HasSuffix(dsn, "&"):
		sep = ""
	case strings.Contains(dsn, "?"):
		sep = "&"
	}
	return dsn + sep + strings.Join(add, "&"), nil
}

// sqliteInMemory reports whether a SQLite driver name opens an in-memory
// database, which exists only as long as its one connection.
func sqliteInMemory(name string) bool {
	path, query, _ := strings.Cut(name, "?")
	if path == ":memory:" || path == "file::memory:" {
		return true
	}
	if strings.HasPrefix(path, "file:") {
		q, _ := url.ParseQuery(query)
		return q.Get("mode") == "memory"
	}
	return false
}
