package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dataward/dataward/rbac"
)

// RBACStore is the [rbac.Store] and [rbac.Watcher] kept in the table
// dataward_rbac_grants, with a change counter in dataward_rbac_head. Get
// one from [DB.RBACStore] and give it to rbac.New in Options.Store. As the
// interface asks, it keeps what it is given and leaves validation to the
// Authorizer.
//
// Each Add and Remove is one transaction that changes the grant, bumps the
// counter and, on PostgreSQL, notifies the channel dataward_rbac, so that
// Authorizers following the store in other processes (rbac.Authorizer.Run)
// see the change within a second: at once on PostgreSQL, within 100 ms on
// SQLite, whose watchers poll. Watch shares its machinery with
// [ConsentStore.Watch].
//
// Errors are prefixed "sqlstore:" and wrap the driver's error; a duplicate
// ID matches [rbac.ErrDuplicate], a missing one [rbac.ErrNotFound], and a
// canceled or expired context is matched by errors.Is(err, ctx.Err()).
// Times are kept to the microsecond and read back in UTC.
type RBACStore struct {
	db                      *DB
	qInsert, qDelete, qBump string
	qList, qHead, qNotify   string
	feeder                  *feeder
}

var (
	_ rbac.Store   = (*RBACStore)(nil)
	_ rbac.Watcher = (*RBACStore)(nil)
)

// rbacChannel is the PostgreSQL channel that changes notify, with a payload
// naming the schema (see watchKey).
const rbacChannel = "dataward_rbac"

const rbacColumns = "id, tenant, user_id, role, not_before, expires, break_glass, reason, granted_by, created"

// RBACStore returns the database's [rbac.Store], which is also a
// [rbac.Watcher]. Every call returns the same one.
func (db *DB) RBACStore() *RBACStore { return db.rbac }

func newRBACStore(db *DB) *RBACStore {
	d := db.dialect
	s := &RBACStore{
		db: db,
		qInsert: d.rebind("INSERT INTO dataward_rbac_grants (" + rbacColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" +
			" ON CONFLICT (id) DO NOTHING"),
		qDelete: d.rebind("DELETE FROM dataward_rbac_grants WHERE id = ?"),
		qBump:   "UPDATE dataward_rbac_head SET seq = seq + 1 WHERE id = 1",
		qList:   "SELECT " + rbacColumns + " FROM dataward_rbac_grants ORDER BY id",
		qHead:   "SELECT seq FROM dataward_rbac_head WHERE id = 1",
		qNotify: d.rebind("SELECT pg_notify('" + rbacChannel + "', " + watchKey + ")::text"),
	}
	s.feeder = newFeeder(db, rbacChannel, func(ctx context.Context, q querier, _ string) (int64, error) {
		var seq int64
		err := q.QueryRowContext(ctx, s.qHead).Scan(&seq)
		return seq, err
	})
	return s
}

// Add keeps g, as [rbac.Store] specifies.
func (s *RBACStore) Add(ctx context.Context, g rbac.Grant) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, "add grant", err)
	}
	d := s.db.dialect
	for _, text := range []string{g.ID, g.Tenant, g.User, g.Role, g.Reason, g.GrantedBy} {
		if !d.textOK(text) {
			return fmt.Errorf("sqlstore: add grant: a text field is not valid UTF-8 or holds a NUL byte, which %s cannot store as text", d)
		}
	}
	err := s.change(ctx, func(q querier) (bool, error) {
		res, err := q.ExecContext(ctx, s.qInsert, g.ID, g.Tenant, g.User, g.Role, d.timeArg(g.NotBefore), d.timeArg(g.Expires),
			g.BreakGlass, g.Reason, g.GrantedBy, d.instantArg(g.Created))
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: %q", rbac.ErrDuplicate, g.ID)
		}
		return err == nil, err
	})
	if err != nil {
		if errors.Is(err, rbac.ErrDuplicate) {
			return fmt.Errorf("sqlstore: add grant: %w", err)
		}
		return storeErr(ctx, "add grant", err)
	}
	return nil
}

// Remove deletes the grant with the ID, as [rbac.Store] specifies.
func (s *RBACStore) Remove(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, "remove grant", err)
	}
	if !s.db.dialect.textOK(id) {
		// No grant can have an ID the database cannot store.
		return fmt.Errorf("sqlstore: remove grant: %w: %q", rbac.ErrNotFound, id)
	}
	err := s.change(ctx, func(q querier) (bool, error) {
		res, err := q.ExecContext(ctx, s.qDelete, id)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: %q", rbac.ErrNotFound, id)
		}
		return err == nil, err
	})
	if err != nil {
		if errors.Is(err, rbac.ErrNotFound) {
			return fmt.Errorf("sqlstore: remove grant: %w", err)
		}
		return storeErr(ctx, "remove grant", err)
	}
	return nil
}

// change runs fn in a transaction and, if it changed a grant, bumps the
// head and notifies watchers in the same transaction.
func (s *RBACStore) change(ctx context.Context, fn func(q querier) (changed bool, err error)) error {
	err := s.db.withTx(ctx, func(q querier) error {
		changed, err := fn(q)
		if err != nil || !changed {
			return err
		}
		if _, err := q.ExecContext(ctx, s.qBump); err != nil {
			return err
		}
		if s.db.dialect == Postgres {
			var notified sql.NullString
			return q.QueryRowContext(ctx, s.qNotify, "").Scan(&notified)
		}
		return nil
	})
	if err == nil {
		s.feeder.wake()
	}
	return err
}

// List returns every grant, in order of ID, or none (a nil slice).
func (s *RBACStore) List(ctx context.Context) ([]rbac.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "list grants", err)
	}
	rows, err := s.db.sql.QueryContext(ctx, s.qList)
	if err != nil {
		return nil, storeErr(ctx, "list grants", err)
	}
	defer rows.Close()
	var out []rbac.Grant
	for rows.Next() {
		var g rbac.Grant
		if err := rows.Scan(&g.ID, &g.Tenant, &g.User, &g.Role, timeCol{&g.NotBefore}, timeCol{&g.Expires},
			&g.BreakGlass, &g.Reason, &g.GrantedBy, timeCol{&g.Created}); err != nil {
			return nil, storeErr(ctx, "list grants", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(ctx, "list grants", err)
	}
	return out, nil
}

// Watch sends on changed, without blocking, once it is ready and then
// after grants are added or removed, by this process or another, until ctx
// is done, as [rbac.Watcher] specifies. It returns ctx.Err() when ctx is
// done, or another error if it could not watch (a lost connection among
// them: call it again to resume). It works as [ConsentStore.Watch] does,
// on the channel dataward_rbac and the head row of dataward_rbac_head.
func (s *RBACStore) Watch(ctx context.Context, changed chan<- struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.feeder.watch(ctx, "", changed)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err == nil {
		err = errors.New("the feed of changes stopped")
	}
	return storeErr(ctx, "watch grants", err)
}
