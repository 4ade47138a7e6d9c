package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/breach"
)

// BreachStore is the [breach.Store] and [breach.OutboxStore] kept in the
// tables dataward_breach_versions (every version of every incident, the
// incident as JSON), dataward_breach_deliveries (the outbox) and
// dataward_breach_receipts (the proof of every attempt). Get one from
// [DB.BreachStore] and give it to breach.New and breach.NewOutbox. As the
// interfaces ask, it keeps what it is given and leaves validation to the
// Register and the Outbox.
//
// Its guarantees hold across processes sharing the database: a version is
// appended only on top of the latest (the primary key (id, version) makes
// one of two racing appends fail with [breach.ErrConflict]); Claim leases
// deliveries in one statement (on PostgreSQL with FOR UPDATE SKIP LOCKED,
// so that workers in many processes never take the same row); Finish
// keeps the receipt and the new state in one transaction, only if the
// caller still holds the lease.
//
// Errors are prefixed "sqlstore:" and wrap the driver's error; they never
// contain an address. Times are kept to the microsecond and read back in
// UTC.
type BreachStore struct {
	db *DB

	qAppend, qVersions, qList           string
	qEnqueue, qClaim, qFinish, qReceipt string
	qDeliveries, qReceipts              string
}

var (
	_ breach.Store       = (*BreachStore)(nil)
	_ breach.OutboxStore = (*BreachStore)(nil)
)

// BreachStore returns the database's [breach.Store], which is also a
// [breach.OutboxStore]. Every call returns the same one.
func (db *DB) BreachStore() *BreachStore { return db.breach }

const deliveryColumns = "id, dkey, incident, regime, party, phase, subject, channel, address, title, body_text, body_html," +
	" state, attempts, next_at, lease_owner, lease_until, created"

func newBreachStore(db *DB) *BreachStore {
	d := db.dialect
	claimLock := ""
	if d == Postgres {
		claimLock = " FOR UPDATE SKIP LOCKED"
	}
	return &BreachStore{
		db: db,
		qAppend: d.rebind("INSERT INTO dataward_breach_versions (id, version, status, updated, body)" +
			" SELECT ?, ?, ?, ?, ? WHERE (SELECT COALESCE(MAX(version), 0) FROM dataward_breach_versions WHERE id = ?) = ?" +
			" ON CONFLICT (id, version) DO NOTHING"),
		qVersions: d.rebind("SELECT body FROM dataward_breach_versions WHERE id = ? ORDER BY version"),
		qList: "SELECT v.body FROM dataward_breach_versions v WHERE v.version = " +
			"(SELECT MAX(w.version) FROM dataward_breach_versions w WHERE w.id = v.id) ORDER BY v.id",
		qEnqueue: d.rebind("INSERT INTO dataward_breach_deliveries (" + deliveryColumns + ")" +
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
		qClaim: d.rebind("UPDATE dataward_breach_deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1" +
			" WHERE id IN (SELECT id FROM dataward_breach_deliveries WHERE state = 'pending' AND next_at <= ?" +
			" AND (lease_owner = '' OR lease_until < ?) ORDER BY id LIMIT ?" + claimLock + ")" +
			" RETURNING " + deliveryColumns),
		qFinish: d.rebind("UPDATE dataward_breach_deliveries SET state = ?, next_at = COALESCE(?, next_at), lease_owner = '', lease_until = NULL" +
			" WHERE id = ? AND lease_owner = ? AND state = 'pending'"),
		qReceipt: d.rebind("INSERT INTO dataward_breach_receipts (delivery, attempt, incident, subject, channel, at, ok, detail)" +
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		qDeliveries: d.rebind("SELECT " + deliveryColumns + " FROM dataward_breach_deliveries WHERE incident = ? ORDER BY id"),
		qReceipts: d.rebind("SELECT delivery, attempt, incident, subject, channel, at, ok, detail FROM dataward_breach_receipts" +
			" WHERE incident = ? ORDER BY at, delivery, attempt"),
	}
}

// rowsQuerier is a querier that can also return many rows.
type rowsQuerier interface {
	querier
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// utcTimes returns a copy of inc with every time in UTC, to the
// microsecond, as the store keeps them.
func utcTimes(inc breach.Incident) breach.Incident {
	inc = inc.Clone()
	fix := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.UTC().Truncate(time.Microsecond)
		}
	}
	for _, t := range []*time.Time{&inc.Updated, &inc.AwareAt, &inc.OccurredFrom, &inc.OccurredTo, &inc.AssessedAt} {
		fix(t)
	}
	for i := range inc.Notifications {
		fix(&inc.Notifications[i].At)
	}
	return inc
}

// Append keeps inc as the next version of its incident, as
// [breach.Store] specifies.
func (s *BreachStore) Append(ctx context.Context, inc breach.Incident) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, "append incident", err)
	}
	// JSON cannot hold bytes that are not UTF-8: json.Marshal would store
	// U+FFFD in their place, an incident other than the one given.
	if field := invalidUTF8(reflect.ValueOf(inc), "Incident"); field != "" {
		return fmt.Errorf("sqlstore: append incident: %s is not valid UTF-8", field)
	}
	body, err := json.Marshal(utcTimes(inc))
	if err != nil {
		return fmt.Errorf("sqlstore: append incident: %w", err)
	}
	if !s.db.dialect.textOK(string(body)) || !s.db.dialect.textOK(inc.ID) {
		return errors.New("sqlstore: append incident: a text field holds a NUL byte or invalid UTF-8")
	}
	d := s.db.dialect
	res, err := s.db.sql.ExecContext(ctx, s.qAppend, inc.ID, inc.Version, string(inc.Status), d.instantArg(inc.Updated), string(body), inc.ID, inc.Version-1)
	if err != nil {
		return storeErr(ctx, "append incident", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return storeErr(ctx, "append incident", err)
	} else if n == 0 {
		return fmt.Errorf("sqlstore: append incident: %w: %s version %d is not the next", breach.ErrConflict, inc.ID, inc.Version)
	}
	return nil
}

// invalidUTF8 returns the path of the first string in v (structs, slices
// and strings) that is not valid UTF-8, or "".
func invalidUTF8(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return path
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				if p := invalidUTF8(v.Field(i), path+"."+f.Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if p := invalidUTF8(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// Versions returns every version of the incident, oldest first, as
// [breach.Store] specifies.
func (s *BreachStore) Versions(ctx context.Context, id string) ([]breach.Incident, error) {
	if err := ctx.Err(); err == nil && !s.db.dialect.textOK(id) {
		// No incident can have an ID the database cannot store.
		return nil, fmt.Errorf("sqlstore: read incident: %w: %q", breach.ErrNotFound, id)
	}
	out, err := s.incidents(ctx, "read incident", s.qVersions, id)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("sqlstore: read incident: %w: %s", breach.ErrNotFound, id)
	}
	return out, err
}

// List returns the latest version of every incident, in order of ID.
func (s *BreachStore) List(ctx context.Context) ([]breach.Incident, error) {
	return s.incidents(ctx, "list incidents", s.qList)
}

func (s *BreachStore) incidents(ctx context.Context, op, q string, args ...any) ([]breach.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, op, err)
	}
	rows, err := s.db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, storeErr(ctx, op, err)
	}
	defer rows.Close()
	var out []breach.Incident
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, storeErr(ctx, op, err)
		}
		var inc breach.Incident
		if err := json.Unmarshal([]byte(body), &inc); err != nil {
			return nil, fmt.Errorf("sqlstore: %s: a stored incident does not decode: %w", op, err)
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(ctx, op, err)
	}
	return out, nil
}

// Enqueue keeps each delivery whose key is new, in one transaction, as
// [breach.OutboxStore] specifies.
func (s *BreachStore) Enqueue(ctx context.Context, ds []breach.Delivery) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, "enqueue deliveries", err)
	}
	d := s.db.dialect
	for _, x := range ds {
		for _, text := range []string{x.ID, x.Key, x.Incident, x.Regime, x.Phase, string(x.To.Subject), x.To.Channel, x.To.Address, x.Subject, x.Text, x.HTML, x.LeaseOwner} {
			if !d.textOK(text) {
				return 0, fmt.Errorf("sqlstore: enqueue deliveries: a text field of delivery %s holds a NUL byte or invalid UTF-8", x.ID)
			}
		}
	}
	n := 0
	err := s.db.withTx(ctx, func(q querier) error {
		n = 0
		for _, x := range ds {
			res, err := q.ExecContext(ctx, s.qEnqueue, x.ID, x.Key, x.Incident, x.Regime, string(x.Party), x.Phase,
				string(x.To.Subject), x.To.Channel, x.To.Address, x.Subject, x.Text, x.HTML,
				string(x.State), x.Attempts, d.instantArg(x.NextAt), x.LeaseOwner, d.timeArg(x.LeaseUntil), d.instantArg(x.Created))
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, storeErr(ctx, "enqueue deliveries", err)
	}
	return n, nil
}

// Claim leases up to n due deliveries to owner, as [breach.OutboxStore]
// specifies.
func (s *BreachStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, n int) ([]breach.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "claim deliveries", err)
	}
	d := s.db.dialect
	var out []breach.Delivery
	err := s.db.withTx(ctx, func(q querier) error {
		out = out[:0]
		rows, err := q.(rowsQuerier).QueryContext(ctx, s.qClaim, owner, d.instantArg(now.Add(lease)), d.instantArg(now), d.instantArg(now), n)
		if err != nil {
			return err
		}
		out, err = scanDeliveries(rows)
		return err
	})
	if err != nil {
		return nil, storeErr(ctx, "claim deliveries", err)
	}
	slices.SortFunc(out, func(a, b breach.Delivery) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func scanDeliveries(rows *sql.Rows) ([]breach.Delivery, error) {
	defer rows.Close()
	var out []breach.Delivery
	for rows.Next() {
		var x breach.Delivery
		var party, state, subject string
		if err := rows.Scan(&x.ID, &x.Key, &x.Incident, &x.Regime, &party, &x.Phase, &subject, &x.To.Channel, &x.To.Address,
			&x.Subject, &x.Text, &x.HTML, &state, &x.Attempts, timeCol{&x.NextAt}, &x.LeaseOwner, timeCol{&x.LeaseUntil}, timeCol{&x.Created}); err != nil {
			return nil, err
		}
		x.Party, x.State, x.To.Subject = breach.Party(party), breach.DeliveryState(state), dataward.SubjectID(subject)
		out = append(out, x)
	}
	return out, rows.Err()
}

// Finish keeps the receipt and the new state, as [breach.OutboxStore]
// specifies.
func (s *BreachStore) Finish(ctx context.Context, id, owner string, r breach.Receipt, state breach.DeliveryState, nextAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, "finish delivery", err)
	}
	if !s.db.dialect.textOK(r.Detail) {
		r.Detail = strings.ToValidUTF8(strings.ReplaceAll(r.Detail, "\x00", ""), "\uFFFD")
	}
	d := s.db.dialect
	// NextAt changes only for a retry, as in breach.MemStore: a delivered
	// or failed delivery keeps the time it was last due.
	var next any
	if state == breach.Pending {
		next = d.instantArg(nextAt)
	}
	err := s.db.withTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, s.qFinish, string(state), next, id, owner)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			return fmt.Errorf("%w: %s", breach.ErrLeaseLost, id)
		}
		_, err = q.ExecContext(ctx, s.qReceipt, r.Delivery, r.Attempt, r.Incident, string(r.Subject), r.Channel, d.instantArg(r.At), r.OK, r.Detail)
		return err
	})
	if err != nil {
		if errors.Is(err, breach.ErrLeaseLost) {
			return fmt.Errorf("sqlstore: finish delivery: %w", err)
		}
		return storeErr(ctx, "finish delivery", err)
	}
	return nil
}

// Deliveries returns the incident's deliveries in order of ID.
func (s *BreachStore) Deliveries(ctx context.Context, incident string) ([]breach.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read deliveries", err)
	}
	if !s.db.dialect.textOK(incident) {
		return nil, nil // no delivery has an incident the database cannot store
	}
	rows, err := s.db.sql.QueryContext(ctx, s.qDeliveries, incident)
	if err != nil {
		return nil, storeErr(ctx, "read deliveries", err)
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, storeErr(ctx, "read deliveries", err)
	}
	return out, nil
}

// Receipts returns the receipts of the incident's deliveries in order of
// time, delivery and attempt.
func (s *BreachStore) Receipts(ctx context.Context, incident string) ([]breach.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read receipts", err)
	}
	if !s.db.dialect.textOK(incident) {
		return nil, nil // no receipt has an incident the database cannot store
	}
	rows, err := s.db.sql.QueryContext(ctx, s.qReceipts, incident)
	if err != nil {
		return nil, storeErr(ctx, "read receipts", err)
	}
	defer rows.Close()
	var out []breach.Receipt
	for rows.Next() {
		var r breach.Receipt
		var subject string
		if err := rows.Scan(&r.Delivery, &r.Attempt, &r.Incident, &subject, &r.Channel, timeCol{&r.At}, &r.OK, &r.Detail); err != nil {
			return nil, storeErr(ctx, "read receipts", err)
		}
		r.Subject = dataward.SubjectID(subject)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(ctx, "read receipts", err)
	}
	return out, nil
}
