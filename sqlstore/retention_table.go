package sqlstore

import (
	"context"
	"database/sql"
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
// one short transaction over one batch: DELETE (or UPDATE) ... RETURNING
// of the batch's rows that still qualify; on PostgreSQL the rows are first
// locked with FOR UPDATE SKIP LOCKED, so that two sweepers never dispose of
// the same row and a row the host is writing is left for the next sweep.
type TableTarget struct {
	db       *DB
	t        Table
	columns  map[string]bool
	intID    bool
	qualTime map[retention.Since]string // quoted time column by trigger
}

var (
	_ retention.Target        = (*TableTarget)(nil)
	_ retention.PolicyChecker = (*TableTarget)(nil)
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
	tt := &TableTarget{db: db, t: t, columns: map[string]bool{}, qualTime: map[retention.Since]string{}}
	for _, c := range cols {
		tt.columns[c.Name()] = true
		if c.Name() == t.ID {
			switch strings.ToUpper(c.DatabaseTypeName()) {
			case "INTEGER", "INT", "INT2", "INT4", "INT8", "BIGINT", "SMALLINT":
				tt.intID = true
			}
		}
	}
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
		b = strconv.AppendQuote(b, x) // valid JSON for printable ASCII and UTF-8
	}
	return string(append(b, ']'))
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

// Candidates implements [retention.Target]: one indexed range query in
// order of the ID column.
func (tt *TableTarget) Candidates(ctx context.Context, q retention.Query) ([]retention.Candidate, error) {
	cond, args, err := tt.where(q)
	if err != nil {
		return nil, err
	}
	if q.After != "" {
		cond += " AND " + quoteIdent(tt.t.ID) + " > ?"
		if tt.intID {
			n, err := strconv.ParseInt(q.After, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("sqlstore: table %s: the cursor is not an integer", tt.t.Table)
			}
			args = append(args, n)
		} else {
			args = append(args, q.After)
		}
	}
	subject, tcol := "NULL", "NULL"
	if tt.t.Subject != "" {
		subject = quoteIdent(tt.t.Subject)
	}
	if c, ok := tt.qualTime[q.Since]; ok && !q.All && q.Subjects == nil {
		tcol = c
	}
	query := tt.db.dialect.rebind("SELECT " + quoteIdent(tt.t.ID) + ", " + subject + ", " + tcol + " FROM " + quoteIdent(tt.t.Table) +
		" WHERE " + cond + " ORDER BY " + quoteIdent(tt.t.ID) + " LIMIT ?")
	args = append(args, max(q.Limit, 0))
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
	// The rows to dispose of: on PostgreSQL locked, skipping rows another
	// transaction holds.
	sel := "SELECT " + id + " FROM " + table + " WHERE " + idc + " AND " + cond
	if tt.db.dialect == Postgres {
		sel += " FOR UPDATE SKIP LOCKED"
	}
	var done []string
	err = tt.db.withTx(ctx, func(q querier) error {
		done = done[:0]
		tx := q.(interface {
			QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		})
		var stmt string
		stmtArgs := args
		switch b.Action {
		case retention.Delete:
			stmt = "DELETE FROM " + table + " WHERE " + id + " IN (" + sel + ") RETURNING " + id
		case retention.Shred:
			stmt = "UPDATE " + table + " SET " + quoteIdent(tt.t.Disposed) + " = ? WHERE " + id + " IN (" + sel + ") RETURNING " + id
			stmtArgs = append([]any{tt.timeArg(b.Now)}, args...)
		case retention.Anonymise:
			return tt.anonymise(ctx, tx, q, sel, args, b, &done)
		default:
			return fmt.Errorf("sqlstore: table target cannot %s", string(b.Action))
		}
		rows, err := tx.QueryContext(ctx, tt.db.dialect.rebind(stmt), stmtArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v any
			if err := rows.Scan(&v); err != nil {
				return err
			}
			done = append(done, idString(v))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, storeErr(ctx, "dispose of a batch of "+tt.t.Table, err)
	}
	return done, nil
}

// anonymise rewrites the fields of the selected rows by the batch's rules
// and marks them disposed, in the transaction.
func (tt *TableTarget) anonymise(ctx context.Context, tx interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, q querier, sel string, args []any, b retention.Batch, done *[]string) error {
	fields := make([]string, len(b.Fields))
	for i, r := range b.Fields {
		fields[i] = quoteIdent(r.Field)
	}
	id := quoteIdent(tt.t.ID)
	query := "SELECT " + id + ", " + strings.Join(fields, ", ") + " FROM " + quoteIdent(tt.t.Table) + " WHERE " + id + " IN (" + sel + ")"
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
