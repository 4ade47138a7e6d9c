package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
)

// RetentionStore is the [retention.Store] kept in the tables
// dataward_retention_holds, dataward_retention_events and
// dataward_retention_leases. Get one from [DB.RetentionStore] and give it
// to retention.New. As the interface asks, it keeps what it is given and
// leaves validation to the Sweeper.
//
// Leases are rows taken with one conditional upsert, so that of many
// sweepers in many processes exactly one holds a data set's lease; the
// cursor of a sweep lives in the same row and is written only by the
// lease's owner before it expires, in one statement.
//
// Errors are prefixed "sqlstore:" and wrap the driver's error; a duplicate
// hold matches [retention.ErrDuplicate], a missing hold or event
// [retention.ErrNotFound], a lost lease [retention.ErrLeaseLost]. Times
// are kept to the microsecond and read back in UTC.
type RetentionStore struct {
	db                                      *DB
	qAddHold, qRemoveHold, qHolds           string
	qPutEvent, qDeleteEvent, qEvents        string
	qAcquire, qRelease, qCursor, qSetCursor string
}

var _ retention.Store = (*RetentionStore)(nil)

// RetentionStore returns the database's [retention.Store]. Every call
// returns the same one.
func (db *DB) RetentionStore() *RetentionStore { return db.retention }

func newRetentionStore(db *DB) *RetentionStore {
	d := db.dialect
	return &RetentionStore{
		db: db,
		qAddHold: d.rebind("INSERT INTO dataward_retention_holds (id, subject, dataset, record, category, reason, created, until)" +
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"),
		qRemoveHold: d.rebind("DELETE FROM dataward_retention_holds WHERE id = ?"),
		qHolds:      "SELECT id, subject, dataset, record, category, reason, created, until FROM dataward_retention_holds ORDER BY id",
		qPutEvent: d.rebind("INSERT INTO dataward_retention_events (name, subject, at) VALUES (?, ?, ?)" +
			" ON CONFLICT (name, subject) DO UPDATE SET at = excluded.at"),
		qDeleteEvent: d.rebind("DELETE FROM dataward_retention_events WHERE name = ? AND subject = ?"),
		qEvents: d.rebind("SELECT subject, at FROM dataward_retention_events WHERE name = ? AND at <= ? AND subject > ?" +
			" ORDER BY subject LIMIT ?"),
		qAcquire: d.rebind("INSERT INTO dataward_retention_leases (name, owner, expires, resume_at) VALUES (?, ?, ?, '')" +
			" ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires" +
			" WHERE dataward_retention_leases.owner = excluded.owner OR dataward_retention_leases.expires <= ?"),
		qRelease:   d.rebind("UPDATE dataward_retention_leases SET owner = '', expires = ? WHERE name = ? AND owner = ?"),
		qCursor:    d.rebind("SELECT resume_at FROM dataward_retention_leases WHERE name = ?"),
		qSetCursor: d.rebind("UPDATE dataward_retention_leases SET resume_at = ? WHERE name = ? AND owner = ? AND expires > ?"),
	}
}

// textsOK checks that the database can store every text as text.
func (s *RetentionStore) textsOK(op string, texts ...string) error {
	for _, t := range texts {
		if !s.db.dialect.textOK(t) {
			return fmt.Errorf("sqlstore: %s: a text field is not valid UTF-8 or holds a NUL byte, which %s cannot store as text", op, s.db.dialect)
		}
	}
	return nil
}

// exec runs one statement and returns the rows it affected.
func (s *RetentionStore) exec(ctx context.Context, op, query string, args ...any) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, op, err)
	}
	res, err := s.db.sql.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, storeErr(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, storeErr(ctx, op, err)
	}
	return n, nil
}

// AddHold keeps h, as [retention.Store] specifies.
func (s *RetentionStore) AddHold(ctx context.Context, h retention.Hold) error {
	if err := s.textsOK("add hold", h.ID, string(h.Subject), h.Dataset, h.Record, h.Category, h.Reason); err != nil {
		return err
	}
	d := s.db.dialect
	n, err := s.exec(ctx, "add hold", s.qAddHold, h.ID, string(h.Subject), h.Dataset, h.Record, h.Category, h.Reason,
		d.instantArg(h.Created), d.timeArg(h.Until))
	if err == nil && n == 0 {
		err = fmt.Errorf("sqlstore: add hold: %w: %q", retention.ErrDuplicate, h.ID)
	}
	return err
}

// RemoveHold deletes the hold with the ID, as [retention.Store] specifies.
func (s *RetentionStore) RemoveHold(ctx context.Context, id string) error {
	if err := ctx.Err(); err == nil && !s.db.dialect.textOK(id) {
		// No hold can have an ID the database cannot store.
		return fmt.Errorf("sqlstore: remove hold: %w: %q", retention.ErrNotFound, id)
	}
	n, err := s.exec(ctx, "remove hold", s.qRemoveHold, id)
	if err == nil && n == 0 {
		err = fmt.Errorf("sqlstore: remove hold: %w: %q", retention.ErrNotFound, id)
	}
	return err
}

// Holds returns every hold, in order of ID.
func (s *RetentionStore) Holds(ctx context.Context) ([]retention.Hold, error) {
	var out []retention.Hold
	err := s.query(ctx, "list holds", s.qHolds, nil, func(rows *sql.Rows) error {
		var h retention.Hold
		var subject string
		if err := rows.Scan(&h.ID, &subject, &h.Dataset, &h.Record, &h.Category, &h.Reason, timeCol{&h.Created}, timeCol{&h.Until}); err != nil {
			return err
		}
		h.Subject = dataward.SubjectID(subject)
		out = append(out, h)
		return nil
	})
	return out, err
}

// query runs a query and calls scan for each row.
func (s *RetentionStore) query(ctx context.Context, op, query string, args []any, scan func(*sql.Rows) error) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, op, err)
	}
	rows, err := s.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return storeErr(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return storeErr(ctx, op, err)
		}
	}
	if err := rows.Err(); err != nil {
		return storeErr(ctx, op, err)
	}
	return nil
}

// PutEvent records e, replacing the time of an earlier one, as
// [retention.Store] specifies.
func (s *RetentionStore) PutEvent(ctx context.Context, e retention.Event) error {
	if err := s.textsOK("put event", e.Name, string(e.Subject)); err != nil {
		return err
	}
	_, err := s.exec(ctx, "put event", s.qPutEvent, e.Name, string(e.Subject), s.db.dialect.instantArg(e.Time))
	return err
}

// DeleteEvent forgets an event, as [retention.Store] specifies.
func (s *RetentionStore) DeleteEvent(ctx context.Context, name string, subject dataward.SubjectID) error {
	if err := ctx.Err(); err == nil && s.textsOK("delete event", name, string(subject)) != nil {
		// No event can have a key the database cannot store.
		return fmt.Errorf("sqlstore: delete event: %w: %q", retention.ErrNotFound, name)
	}
	n, err := s.exec(ctx, "delete event", s.qDeleteEvent, name, string(subject))
	if err == nil && n == 0 {
		err = fmt.Errorf("sqlstore: delete event: %w: %q", retention.ErrNotFound, name)
	}
	return err
}

// Events lists events, as [retention.Store] specifies.
func (s *RetentionStore) Events(ctx context.Context, name string, cutoff time.Time, after dataward.SubjectID, limit int) ([]retention.Event, error) {
	var out []retention.Event
	if err := ctx.Err(); err == nil && !s.db.dialect.textOK(name) {
		return nil, nil // no event has a name the database cannot store
	}
	args := []any{name, s.db.dialect.instantArg(cutoff), string(after), max(limit, 0)}
	err := s.query(ctx, "list events", s.qEvents, args, func(rows *sql.Rows) error {
		e := retention.Event{Name: name}
		var subject string
		if err := rows.Scan(&subject, timeCol{&e.Time}); err != nil {
			return err
		}
		e.Subject = dataward.SubjectID(subject)
		out = append(out, e)
		return nil
	})
	return out, err
}

// AcquireLease takes or renews a lease, as [retention.Store] specifies,
// in one statement.
func (s *RetentionStore) AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (bool, error) {
	if err := s.textsOK("acquire lease", name, owner); err != nil {
		return false, err
	}
	d := s.db.dialect
	n, err := s.exec(ctx, "acquire lease", s.qAcquire, name, owner, d.instantArg(expires), d.instantArg(now))
	return n == 1, err
}

// ReleaseLease ends owner's lease, keeping the cursor.
func (s *RetentionStore) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := s.exec(ctx, "release lease", s.qRelease, s.db.dialect.instantArg(time.Time{}), name, owner)
	return err
}

// Cursor returns the cursor kept under name, or "".
func (s *RetentionStore) Cursor(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", storeErr(ctx, "read cursor", err)
	}
	if !s.db.dialect.textOK(name) {
		return "", nil // no lease has a name the database cannot store
	}
	var c string
	err := s.db.sql.QueryRowContext(ctx, s.qCursor, name).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", storeErr(ctx, "read cursor", err)
	}
	return c, nil
}

// SetCursor keeps cursor if owner holds the lease name at now, in one
// statement, as [retention.Store] specifies.
func (s *RetentionStore) SetCursor(ctx context.Context, name, owner, cursor string, now time.Time) error {
	if err := ctx.Err(); err == nil && s.textsOK("set cursor", name, owner) != nil {
		// No lease has a name or owner the database cannot store.
		return fmt.Errorf("sqlstore: set cursor: %w: %q", retention.ErrLeaseLost, name)
	}
	if err := s.textsOK("set cursor", cursor); err != nil {
		return err
	}
	n, err := s.exec(ctx, "set cursor", s.qSetCursor, cursor, name, owner, s.db.dialect.instantArg(now))
	if err == nil && n == 0 {
		err = fmt.Errorf("sqlstore: set cursor: %w: %q", retention.ErrLeaseLost, name)
	}
	return err
}
