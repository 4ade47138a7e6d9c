package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
)

// Table names the table and columns of a data set for [DB.TableTarget].
// Names are SQL identifiers (letters, digits and underscores, not starting
// with a digit; a table may be "schema.table"); they are quoted in
// queries.
type Table struct {
	Table string
	// ID is the table's key: an integer or text column, unique.
	ID string
	// Subject holds the record's data subject; required for subject holds
	// to apply, for periods since an event and for crypto-shredding.
	Subject string
	// Created and LastActivity hold the record's times, for periods since
	// creation and since last activity. On PostgreSQL they are timestamp
	// or timestamptz columns; on SQLite, integers of Unix microseconds
	// (as sqlstore keeps times), unless TimeUnit says otherwise.
	Created      string
	LastActivity string
	// Disposed is a nullable time column that anonymisation and
	// crypto-shredding set, so that the record is not listed again;
	// required for those actions.
	Disposed string
	// TimeUnit is how an integer time column counts on SQLite: "micro"
	// (the default), "milli" or "second".
	TimeUnit string
}

// TableTarget is a [retention.Target] for one SQL table. Each Dispose is
// one short transaction over one batch: a DELETE (or UPDATE) of the
// batch's rows that still qualify. On PostgreSQL the rows are first locked
// with FOR UPDATE SKIP LOCKED, so that two sweepers never dispose of the
// same row and a row the host is writing is left for the next sweep; on
// SQLite, which has one writer at a time, the transaction holds the write
// lock from its start. On SQLite with integer key and time columns, a
// batch of candidates is read as one packed row. For the Delete action it
// is a [retention.NextDisposer]: the sweeper has it select and delete each
// batch in one step when no hold can cover the data set (see
// [TableTarget.DisposeNext]).
type TableTarget struct {
	db       *DB
	t        Table
	columns  map[string]bool
	intID    bool
	intCols  map[string]bool            // the integer columns
	qualTime map[retention.Since]string // quoted time column by trigger
}

var (
	_ retention.Target        = (*TableTarget)(nil)
	_ retention.PolicyChecker = (*TableTarget)(nil)
	_ retention.NextDisposer  = (*TableTarget)(nil)
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// quoteIdent quotes a checked identifier, or schema.identifier.
func quoteIdent(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = `"` + p + `"`
	}
	return strings.Join(parts, ".")
}

// TableTarget returns a target for the table t. It checks every name, and
// that the table and every named column exist, before anything is
// disposed of: it returns a [*dataward.ValidationError] naming each bad or
// missing one.
func (db *DB) TableTarget(ctx context.Context, t Table) (*TableTarget, error) {
	ve := &dataward.ValidationError{Package: "sqlstore"}
	checkName := func(field, name string, required bool) {
		switch {
		case name == "" && required:
			ve.Add("Table."+field, "is required")
		case name == "":
		case field == "Table":
			parts := strings.Split(name, ".")
			if len(parts) > 2 || !identRE.MatchString(parts[0]) || !identRE.MatchString(parts[len(parts)-1]) {
				ve.Add("Table.Table", "must be an SQL identifier (letters, digits, underscores) or schema.identifier")
			}
		case !identRE.MatchString(name):
			ve.Add("Table."+field, "must be an SQL identifier (letters, digits, underscores)")
		}
	}
	checkName("Table", t.Table, true)
	checkName("ID", t.ID, true)
	checkName("Subject", t.Subject, false)
	checkName("Created", t.Created, false)
	checkName("LastActivity", t.LastActivity, false)
	checkName("Disposed", t.Disposed, false)
	switch t.TimeUnit {
	case "", "micro", "milli", "second":
	default:
		ve.Add("Table.TimeUnit", `must be "micro", "milli" or "second"`)
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT * FROM "+quoteIdent(t.Table)+" WHERE 1 = 0")
	if err != nil {
		return nil, (&dataward.ValidationError{Package: "sqlstore"}).Add("Table.Table", "names a table that does not exist or cannot be read: "+firstLine(err))
	}
	cols, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		return nil, storeErr(ctx, "read the table's columns", err)
	}
	tt := &TableTarget{db: db, t: t, columns: map[string]bool{}, intCols: map[string]bool{}, qualTime: map[retention.Since]string{}}
	for _, c := range cols {
		tt.columns[c.Name()] = true
		switch strings.ToUpper(c.DatabaseTypeName()) {
		case "INTEGER", "INT", "INT2", "INT4", "INT8", "BIGINT", "SMALLINT":
			tt.intCols[c.Name()] = true
		}
	}
	tt.intID = tt.intCols[t.ID]
	for field, name := range map[string]string{"ID": t.ID, "Subject": t.Subject, "Created": t.Created, "LastActivity": t.LastActivity, "Disposed": t.Disposed} {
		if name != "" && !tt.columns[name] {
			ve.Add("Table."+field, fmt.Sprintf("names column %q, which table %s does not have", name, t.Table))
		}
	}
	slices.SortFunc(ve.Problems, func(a, b dataward.Problem) int { return strings.Compare(a.Field, b.Field) })
	if err := ve.Err(); err != nil {
		return nil, err
	}
	if t.Created != "" {
		tt.qualTime[retention.SinceCreated] = quoteIdent(t.Created)
	}
	if t.LastActivity != "" {
		tt.qualTime[retention.SinceLastActivity] = quoteIdent(t.LastActivity)
	}
	return tt, nil
}

// firstLine returns the first line of err's message.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// CheckPolicy implements [retention.PolicyChecker]: the columns the
// policy needs exist.
func (tt *TableTarget) CheckPolicy(p retention.Policy) error {
	var errs []string
	need := func(col, what string) {
		if col == "" {
			errs = append(errs, "the table target has no "+what+" column")
		}
	}
	switch p.Since {
	case retention.SinceCreated:
		need(tt.t.Created, "Created")
	case retention.SinceLastActivity:
		need(tt.t.LastActivity, "LastActivity")
	case retention.SinceEvent:
		need(tt.t.Subject, "Subject")
	}
	switch p.Action {
	case retention.Anonymise:
		need(tt.t.Disposed, "Disposed")
		for _, r := range p.Fields {
			if !identRE.MatchString(r.Field) || !tt.columns[r.Field] {
				errs = append(errs, fmt.Sprintf("table %s has no column %q", tt.t.Table, r.Field))
			}
		}
	case retention.Shred:
		need(tt.t.Disposed, "Disposed")
		need(tt.t.Subject, "Subject")
	}
	if errs != nil {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// timeArg converts t for comparing with a time column: truncated down to
// the column's unit, so that "at or before t" keeps its meaning.
func (tt *TableTarget) timeArg(t time.Time) any {
	if tt.db.dialect == Postgres {
		return t.UTC().Truncate(time.Microsecond)
	}
	switch tt.t.TimeUnit {
	case "second":
		return floorDiv(t.UnixNano(), 1e9)
	case "milli":
		return floorDiv(t.UnixNano(), 1e6)
	}
	return floorDiv(t.UnixNano(), 1e3)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// scanTime reads a time column.
type tableTime struct {
	tt *TableTarget
	t  *time.Time
}

func (c tableTime) Scan(src any) error {
	if n, ok := src.(int64); ok {
		switch c.tt.t.TimeUnit {
		case "second":
			*c.t = time.Unix(n, 0).UTC()
		case "milli":
			*c.t = time.UnixMilli(n).UTC()
		default:
			*c.t = time.UnixMicro(n).UTC()
		}
		return nil
	}
	return timeCol{c.t}.Scan(src)
}

// where returns the condition that q selects a row, and its arguments.
func (tt *TableTarget) where(q retention.Query) (string, []any, error) {
	var conds []string
	var args []any
	switch {
	case q.All:
	case q.Subjects != nil:
		subs := make([]string, len(q.Subjects))
		for i, s := range q.Subjects {
			subs[i] = string(s)
		}
		conds = append(conds, tt.anyText(quoteIdent(tt.t.Subject)))
		args = append(args, tt.textList(subs))
	default:
		col, ok := tt.qualTime[q.Since]
		if !ok {
			return "", nil, fmt.Errorf("sqlstore: table %s has no column for a period since %s", tt.t.Table, q.Since)
		}
		conds = append(conds, col+" <= ?")
		args = append(args, tt.timeArg(q.Cutoff))
	}
	if tt.t.Disposed != "" {
		conds = append(conds, quoteIdent(tt.t.Disposed)+" IS NULL")
	}
	if len(conds) == 0 {
		return "1 = 1", args, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

// anyText is a condition that col is one of a list of texts bound as one
// argument with textList.
func (tt *TableTarget) anyText(col string) string {
	if tt.db.dialect == Postgres {
		return col + " = ANY(?::text[])"
	}
	return col + " IN (SELECT value FROM json_each(?))"
}

func (tt *TableTarget) textList(xs []string) any {
	if tt.db.dialect == Postgres {
		return xs
	}
	b := make([]byte, 0, 2+16*len(xs))
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONText(b, x)
	}
	return string(append(b, ']'))
}

// appendJSONText appends x to b as a JSON string that SQLite's json_each
// reads back as exactly x's bytes: quote, backslash and control characters
// escaped, every other byte (DEL, non-ASCII, bytes that are not UTF-8) as
// it is. (strconv.Quote's escapes, such as \x01 or \U000e0001, are not
// JSON.)
func appendJSONText(b []byte, x string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(x); i++ {
		switch c := x[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// idCond is a condition that the ID column is one of ids, and its argument.
func (tt *TableTarget) idCond(ids []string) (string, any, error) {
	col := quoteIdent(tt.t.ID)
	if !tt.intID {
		return tt.anyText(col), tt.textList(ids), nil
	}
	ns := make([]int64, len(ids))
	for i, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return "", nil, fmt.Errorf("sqlstore: table %s: a record ID is not an integer", tt.t.Table)
		}
		ns[i] = n
	}
	return tt.db.dialect.anyInt64(col), tt.db.dialect.int64List(ns), nil
}

// after adds to cond the condition that the ID column is after the cursor
// after, if any.
func (tt *TableTarget) after(cond string, args []any, after string) (string, []any, error) {
	if after == "" {
		return cond, args, nil
	}
	cond += " AND " + quoteIdent(tt.t.ID) + " > ?"
	if tt.intID {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil {
			return "", nil, fmt.Errorf("sqlstore: table %s: the cursor is not an integer", tt.t.Table)
		}
		return cond, append(args, n), nil
	}
	return cond, append(args, after), nil
}

// Candidates implements [retention.Target]: one indexed range query in
// order of the ID column.
func (tt *TableTarget) Candidates(ctx context.Context, q retention.Query) ([]retention.Candidate, error) {
	cond, args, err := tt.where(q)
	if err != nil {
		return nil, err
	}
	if cond, args, err = tt.after(cond, args, q.After); err != nil {
		return nil, err
	}
	subject, tcol, intTime := "NULL", "NULL", true
	if tt.t.Subject != "" {
		subject = quoteIdent(tt.t.Subject)
	}
	if c, ok := tt.qualTime[q.Since]; ok && !q.All && q.Subjects == nil {
		tcol = c
		intTime = tt.intCols[map[retention.Since]string{retention.SinceCreated: tt.t.Created, retention.SinceLastActivity: tt.t.LastActivity}[q.Since]]
	}
	query := "SELECT " + quoteIdent(tt.t.ID) + ", " + subject + ", " + tcol + " FROM " + quoteIdent(tt.t.Table) +
		" WHERE " + cond + " ORDER BY " + quoteIdent(tt.t.ID) + " LIMIT ?"
	args = append(args, max(q.Limit, 0))
	if tt.db.dialect == SQLite && tt.intID && intTime {
		if out, ok, err := tt.candidatesPacked(ctx, query, subject, tcol, args); ok || err != nil {
			return out, err
		}
	}
	query = tt.db.dialect.rebind(query)
	rows, err := tt.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, storeErr(ctx, "list candidates of "+tt.t.Table, err)
	}
	defer rows.Close()
	var out []retention.Candidate
	for rows.Next() {
		var c retention.Candidate
		var id any
		var sub sql.NullString
		if err := rows.Scan(&id, &sub, tableTime{tt, &c.Time}); err != nil {
			return nil, storeErr(ctx, "list candidates of "+tt.t.Table, err)
		}
		c.ID = idString(id)
		c.Subject = dataward.SubjectID(sub.String)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(ctx, "list candidates of "+tt.t.Table, err)
	}
	return out, nil
}

// candidatesPacked lists the candidates that query selects in one row of
// text, "id hex(subject) time ..." (query's rows, concatenated): on
// SQLite, reading 500 rows one by one through the driver takes three
// times as long as the query itself. It reports false if a value is not
// what the table's declared types say (SQLite keeps any value in any
// column), for Candidates to list them row by row.
func (tt *TableTarget) candidatesPacked(ctx context.Context, query, subject, tcol string, args []any) ([]retention.Candidate, bool, error) {
	id := quoteIdent(tt.t.ID)
	packed := "SELECT group_concat(c, ' ') FROM (SELECT " + id + " || ' ' || ifnull(hex(" + subject + "), '') || ' ' || ifnull(" + tcol + ", '') AS c" +
		strings.TrimPrefix(query, "SELECT "+id+", "+subject+", "+tcol) + ")"
	var text sql.NullString
	if err := tt.db.sql.QueryRowContext(ctx, packed, args...).Scan(&text); err != nil {
		return nil, false, storeErr(ctx, "list candidates of "+tt.t.Table, err)
	}
	if !text.Valid {
		return nil, true, nil
	}
	f := strings.Split(text.String, " ")
	if len(f)%3 != 0 {
		return nil, false, nil
	}
	out := make([]retention.Candidate, 0, len(f)/3)
	prev := int64(0)
	for i := 0; i < len(f); i += 3 {
		var c retention.Candidate
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return nil, false, nil
		}
		c.ID = f[i]
		if f[i+1] != "" {
			sub, err := hex.DecodeString(f[i+1])
			if err != nil {
				return nil, false, nil
			}
			c.Subject = dataward.SubjectID(sub)
		}
		if f[i+2] != "" {
			t, err := strconv.ParseInt(f[i+2], 10, 64)
			if err != nil {
				return nil, false, nil
			}
			if err := (tableTime{tt, &c.Time}).Scan(t); err != nil {
				return nil, false, nil
			}
		}
		if len(out) > 0 && n <= prev {
			return nil, false, nil // not in order of ID
		}
		prev = n
		out = append(out, c)
	}
	return out, true, nil
}

func idString(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// Dispose implements [retention.Target]: one transaction that disposes of
// the batch's rows that still qualify and returns their IDs.
func (tt *TableTarget) Dispose(ctx context.Context, b retention.Batch) ([]string, error) {
	if len(b.Records) == 0 {
		return nil, nil
	}
	cond, args, err := tt.where(b.Query)
	if err != nil {
		return nil, err
	}
	idc, idArg, err := tt.idCond(b.IDs())
	if err != nil {
		return nil, err
	}
	args = append([]any{idArg}, args...)
	table, id := quoteIdent(tt.t.Table), quoteIdent(tt.t.ID)
	// The rows to dispose of: the batch's that still qualify. On
	// PostgreSQL they are locked first, skipping rows another transaction
	// holds; SQLite has one writer at a time, so the condition goes in the
	// statement itself (a sub-select would look every row up twice).
	where := idc + " AND " + cond
	if tt.db.dialect == Postgres {
		where = id + " IN (SELECT " + id + " FROM " + table + " WHERE " + where + " FOR UPDATE SKIP LOCKED)"
	}
	var stmt string
	switch b.Action {
	case retention.Delete:
		stmt = "DELETE FROM " + table + " WHERE " + where
	case retention.Shred:
		stmt = "UPDATE " + table + " SET " + quoteIdent(tt.t.Disposed) + " = ? WHERE " + where
		args = append([]any{tt.timeArg(b.Now)}, args...)
	case retention.Anonymise:
		sel := "SELECT " + id + " FROM " + table + " WHERE " + where
		var done []string
		err := tt.db.withTx(ctx, func(q querier) error {
			done = done[:0]
			return tt.anonymise(ctx, q, sel, args, b, &done)
		})
		if err != nil {
			return nil, storeErr(ctx, "dispose of a batch of "+tt.t.Table, err)
		}
		return done, nil
	default:
		return nil, fmt.Errorf("sqlstore: table target cannot %s", string(b.Action))
	}
	done, all, err := tt.disposeStmt(ctx, stmt, args, len(b.Records))
	if err != nil {
		return nil, storeErr(ctx, "dispose of a batch of "+tt.t.Table, err)
	}
	if all {
		return b.IDs(), nil
	}
	return done, nil
}

// DisposeNext implements [retention.NextDisposer] for the Delete action;
// for others it returns an error wrapping [errors.ErrUnsupported]. On
// PostgreSQL it is one statement, DELETE ... WHERE id IN (SELECT ...
// ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED) RETURNING id. On SQLite
// (integer keys only; otherwise [errors.ErrUnsupported]) it is one
// transaction: the batch's IDs read as one packed row, then one DELETE of
// the rows that qualify in the range of IDs they span, which are exactly
// those, as the transaction holds the write lock from its start.
func (tt *TableTarget) DisposeNext(ctx context.Context, b retention.Batch) ([]string, error) {
	if b.Action != retention.Delete || (tt.db.dialect == SQLite && !tt.intID) {
		return nil, fmt.Errorf("sqlstore: table target cannot select and %s a batch of %s in one step: %w", b.Action, tt.t.Table, errors.ErrUnsupported)
	}
	q := b.Query
	cond, args, err := tt.where(q)
	if err != nil {
		return nil, err
	}
	due, base := cond, len(args)
	if cond, args, err = tt.after(cond, args, q.After); err != nil {
		return nil, err
	}
	table, id := quoteIdent(tt.t.Table), quoteIdent(tt.t.ID)
	sel := "SELECT " + id + " FROM " + table + " WHERE " + cond + " ORDER BY " + id + " LIMIT ?"
	args = append(args, max(q.Limit, 0))
	if tt.db.dialect == Postgres {
		done, err := tt.returning(ctx, "WITH d AS (DELETE FROM "+table+" WHERE "+id+" IN ("+sel+" FOR UPDATE SKIP LOCKED) RETURNING "+id+") SELECT "+id+" FROM d ORDER BY "+id, args)
		if err != nil {
			return nil, storeErr(ctx, "dispose of a batch of "+tt.t.Table, err)
		}
		return done, nil
	}
	var done []string
	err = tt.db.withTx(ctx, func(qr querier) error {
		done = done[:0]
		var text sql.NullString
		var n int
		if err := qr.QueryRowContext(ctx, "SELECT group_concat("+id+", ' '), count(*) FROM ("+sel+")", args...).Scan(&text, &n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if !text.Valid {
			return errors.ErrUnsupported // a NULL key
		}
		done = strings.Split(text.String, " ")
		if len(done) != n {
			return errors.ErrUnsupported // a NULL key
		}
		var first, last int64
		for i, f := range done {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil || (i > 0 && n <= last) || strconv.FormatInt(n, 10) != f {
				// Not what an integer key reads as, or not in order.
				return errors.ErrUnsupported
			}
			if i == 0 {
				first = n
			}
			last = n
		}
		// The rows that qualify from the first ID to the last are the
		// batch: no other writer can change them meanwhile.
		del := "DELETE FROM " + table + " WHERE " + due + " AND " + id + " BETWEEN ? AND ?"
		res, err := qr.ExecContext(ctx, del, append(args[:base:base], first, last)...)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k != int64(len(done)) {
			return fmt.Errorf("sqlstore: table %s: deleted %d rows of a batch of %d", tt.t.Table, k, len(done))
		}
		return nil
	})
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, fmt.Errorf("sqlstore: table %s has a key that is not an integer or is NULL: %w", tt.t.Table, err)
	}
	if err != nil {
		return nil, storeErr(ctx, "dispose of a batch of "+tt.t.Table, err)
	}
	return done, nil
}

// errNotAll rolls back a disposal that did not dispose of its whole batch.
var errNotAll = errors.New("not the whole batch")

// disposeStmt runs stmt, a DELETE or UPDATE of the batch's rows that still
// qualify, and returns the IDs it disposed of, or all if it disposed of
// all n. On SQLite, reading 500 IDs back through RETURNING takes as long
// as the deletion: it first runs stmt alone, in a transaction, and commits
// if it changed n rows, the usual case; otherwise (some rows are gone or
// have changed) it rolls back and runs it again with RETURNING. One
// statement is a transaction of its own on PostgreSQL.
func (tt *TableTarget) disposeStmt(ctx context.Context, stmt string, args []any, n int) (done []string, all bool, err error) {
	if tt.db.dialect == SQLite {
		err := tt.db.withTx(ctx, func(q querier) error {
			res, err := q.ExecContext(ctx, stmt, args...)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil || k != int64(n) {
				return errNotAll
			}
			return nil
		})
		if !errors.Is(err, errNotAll) {
			return nil, err == nil, err
		}
	}
	done, err = tt.returning(ctx, stmt+" RETURNING "+quoteIdent(tt.t.ID), args)
	return done, false, err
}

// returning runs a DELETE or UPDATE ... RETURNING of the ID column and
// returns the IDs.
func (tt *TableTarget) returning(ctx context.Context, stmt string, args []any) ([]string, error) {
	rows, err := tt.db.sql.QueryContext(ctx, tt.db.dialect.rebind(stmt), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var done []string
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		done = append(done, idString(v))
	}
	return done, rows.Err()
}

// anonymise rewrites the fields of the selected rows by the batch's rules
// and marks them disposed, in the transaction.
func (tt *TableTarget) anonymise(ctx context.Context, q querier, sel string, args []any, b retention.Batch, done *[]string) error {
	fields := make([]string, len(b.Fields))
	for i, r := range b.Fields {
		fields[i] = quoteIdent(r.Field)
	}
	id := quoteIdent(tt.t.ID)
	query := "SELECT " + id + ", " + strings.Join(fields, ", ") + " FROM " + quoteIdent(tt.t.Table) + " WHERE " + id + " IN (" + sel + ")"
	// Both a *sql.Tx and a *sql.Conn query.
	tx := q.(interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	})
	rows, err := tx.QueryContext(ctx, tt.db.dialect.rebind(query), args...)
	if err != nil {
		return err
	}
	type row struct {
		id   any
		vals []any
	}
	var all []row
	for rows.Next() {
		r := row{vals: make([]any, len(fields))}
		dest := []any{&r.id}
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	set := make([]string, len(fields))
	for i, f := range fields {
		set[i] = f + " = ?"
	}
	upd := tt.db.dialect.rebind("UPDATE " + quoteIdent(tt.t.Table) + " SET " + strings.Join(set, ", ") + ", " +
		quoteIdent(tt.t.Disposed) + " = ? WHERE " + id + " = ?")
	for _, r := range all {
		args := make([]any, 0, len(fields)+2)
		for i, rule := range b.Fields {
			v := r.vals[i]
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			nv, _, err := b.Anonymise(rule.Field, v)
			if err != nil {
				return err
			}
			args = append(args, nv)
		}
		args = append(args, tt.timeArg(b.Now), r.id)
		if _, err := q.ExecContext(ctx, upd, args...); err != nil {
			return err
		}
		*done = append(*done, idString(r.id))
	}
	return nil
}
