package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
)

// ConsentStore is the [consent.Store] and [consent.Watcher] kept in the
// tables dataward_consent_records (one row per record) and
// dataward_consent_heads (one row per tenant: the Seq of its last record).
// Get one from [DB.ConsentStore] and give it to [consent.New]. As the
// interface asks, it keeps what it is given and leaves validation,
// protection of evidence and derivation of states to the Ledger.
//
// Its guarantees hold across processes sharing the database. Each
// [ConsentStore.Append] is one transaction that first bumps the tenant's
// head row and then inserts the record, so appenders of a tenant queue on
// that row's lock (on SQLite, on the database's write lock) and commit in
// order of Seq: readers never see a gap, and a failed append, a duplicate
// ref included, consumes no Seq.
//
// Errors are prefixed "sqlstore:" and wrap the driver's error; they never
// contain a subject, evidence or any other field of a record but the
// tenant. A duplicate ref matches [consent.ErrDuplicateRef], and a
// canceled or expired context is matched by errors.Is(err, ctx.Err()).
//
// On PostgreSQL the text fields of a record must be valid UTF-8 without
// NUL bytes, as TEXT requires; an Append that breaks this fails and stores
// nothing. SQLite keeps any string. Times are kept to the microsecond and
// read back in UTC.
type ConsentStore struct {
	db *DB

	qAppend          string // PostgreSQL: bump, insert and notify in one statement
	qBump, qInsert   string // SQLite: the two statements of an append's transaction
	qHistory, qSince string
	qHead            string

	feeder *feeder // the machinery of Watch
}

var (
	_ consent.Store   = (*ConsentStore)(nil)
	_ consent.Watcher = (*ConsentStore)(nil)
)

// ConsentStore returns the database's [consent.Store], which is also a
// [consent.Watcher]. Every call returns the same one.
func (db *DB) ConsentStore() *ConsentStore { return db.consent }

const (
	consentColumns = "tenant, seq, id, subject, purpose, kind, method," +
		" notice_id, notice_version, notice_language, notice_sha256, actor_id, actor_kind," +
		" evidence_ip, evidence_user_agent, jurisdiction, time, expires, ref, note"
	// The values of consentColumns after tenant and seq.
	consentValues = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"

	// consentChannel is the PostgreSQL channel that appends notify, with a
	// payload naming the schema and the tenant (see watchKey).
	consentChannel = "dataward_consent"
)

func newConsentStore(db *DB) *ConsentStore {
	d := db.dialect
	const bump = "INSERT INTO dataward_consent_heads (tenant, seq) VALUES (?, 1)" +
		" ON CONFLICT (tenant) DO UPDATE SET seq = dataward_consent_heads.seq + 1 RETURNING seq"
	s := &ConsentStore{
		db: db,
		// One statement, so one round trip and one transaction: the bump
		// takes the head row's lock, which the insert's commit releases;
		// the notification is sent when the statement commits.
		qAppend: d.rebind("WITH head AS (" + bump + ")," +
			" rec AS (INSERT INTO dataward_consent_records (" + consentColumns + ")" +
			" VALUES (?, (SELECT seq FROM head), " + consentValues + ") RETURNING seq)" +
			" SELECT seq, pg_notify('" + consentChannel + "', " + watchKey + ")::text FROM rec"),
		qBump: d.rebind(bump),
		qInsert: d.rebind("INSERT INTO dataward_consent_records (" + consentColumns + ")" +
			" VALUES (?, ?, " + consentValues + ")"),
		qHistory: d.rebind("SELECT " + consentColumns + " FROM dataward_consent_records" +
			" WHERE tenant = ? AND subject = ? ORDER BY seq"),
		qSince: d.rebind("SELECT " + consentColumns + " FROM dataward_consent_records" +
			" WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?"),
		qHead: d.rebind("SELECT seq FROM dataward_consent_heads WHERE tenant = ?"),
	}
	s.feeder = newFeeder(db, consentChannel, s.headSeq)
	return s
}

// consentTextFields names the text fields of a record, for errors.
var consentTextFields = [...]string{"Tenant", "ID", "Subject", "Purpose", "Kind", "Method",
	"Notice.ID", "Notice.Language", "Notice.SHA256", "ActorID", "ActorKind",
	"Evidence.IP", "Evidence.UserAgent", "Jurisdiction", "Ref", "Note"}

// Append adds rec to the ledger of rec.Tenant, as [consent.Store]
// specifies, and returns its Seq. rec.Seq is ignored. Time and Expires are
// stored to the microsecond; a zero Expires, and an empty Ref, as NULL.
//
// On PostgreSQL the append is a single statement that bumps the head row,
// inserts the record and notifies watchers (pg_notify, delivered at
// commit); on SQLite, a BEGIN IMMEDIATE transaction of the bump and the
// insert. If rec.Ref is not empty and the tenant has a record with that
// Ref, the unique index on (tenant, ref) refuses the insert, the
// transaction rolls back, and the error matches [consent.ErrDuplicateRef].
// On any error nothing is stored and no Seq is consumed.
func (s *ConsentStore) Append(ctx context.Context, rec consent.Record) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, "append consent record", err)
	}
	d := s.db.dialect
	texts := [len(consentTextFields)]string{rec.Tenant, rec.ID, string(rec.Subject), rec.Purpose,
		string(rec.Kind), string(rec.Method), rec.Notice.ID, rec.Notice.Language, rec.Notice.SHA256,
		rec.ActorID, string(rec.ActorKind), rec.Evidence.IP, rec.Evidence.UserAgent, rec.Jurisdiction,
		rec.Ref, rec.Note}
	for i, text := range texts {
		if !d.textOK(text) {
			return 0, fmt.Errorf("sqlstore: append consent record: %s is not valid UTF-8 or holds a NUL byte, which %s cannot store as text",
				consentTextFields[i], d)
		}
	}
	// The values after tenant and seq, in the order of consentColumns.
	args := []any{rec.ID, string(rec.Subject), rec.Purpose, string(rec.Kind), string(rec.Method),
		rec.Notice.ID, int64(rec.Notice.Version), rec.Notice.Language, rec.Notice.SHA256,
		rec.ActorID, string(rec.ActorKind), rec.Evidence.IP, rec.Evidence.UserAgent, rec.Jurisdiction,
		d.instantArg(rec.Time), d.timeArg(rec.Expires), nonEmpty(rec.Ref), rec.Note}

	var seq int64
	var err error
	if d == Postgres {
		var notified sql.NullString
		all := append(append([]any{rec.Tenant, rec.Tenant}, args...), rec.Tenant)
		err = s.db.sql.QueryRowContext(ctx, s.qAppend, all...).Scan(&seq, &notified)
	} else {
		err = s.db.withTx(ctx, func(q querier) error {
			if err := q.QueryRowContext(ctx, s.qBump, rec.Tenant).Scan(&seq); err != nil {
				return err
			}
			_, err := q.ExecContext(ctx, s.qInsert, append([]any{rec.Tenant, seq}, args...)...)
			return err
		})
	}
	if err != nil {
		if duplicateRef(err) {
			return 0, fmt.Errorf("sqlstore: append consent record: %w (tenant %q)", consent.ErrDuplicateRef, rec.Tenant)
		}
		return 0, storeErr(ctx, "append consent record", err)
	}
	s.feeder.wake()
	return seq, nil
}

// duplicateRef reports whether err is the violation of the unique index on
// (tenant, ref): SQLITE_CONSTRAINT_UNIQUE (2067) on SQLite, where it is the
// records table's only unique index (its primary key would be
// SQLITE_CONSTRAINT_PRIMARYKEY), or unique_violation (23505) of
// dataward_consent_records_ref on PostgreSQL.
func duplicateRef(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && pgErr.ConstraintName == "dataward_consent_records_ref"
	}
	var sqliteErr interface{ Code() int }
	return errors.As(err, &sqliteErr) && sqliteErr.Code() == 2067 &&
		strings.Contains(err.Error(), "dataward_consent_records.ref")
}

// History returns every record of subject in tenant, in Seq order, or
// none (a nil slice).
func (s *ConsentStore) History(ctx context.Context, tenant string, subject dataward.SubjectID) ([]consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read consent history", err)
	}
	if d := s.db.dialect; !d.textOK(tenant) || !d.textOK(string(subject)) {
		return nil, nil // no record has a tenant or subject the database cannot store
	}
	out, err := s.query(ctx, s.qHistory, tenant, string(subject))
	if err != nil {
		return nil, storeErr(ctx, "read consent history", err)
	}
	return out, nil
}

// Since returns the tenant's records with Seq > after, in Seq order, at
// most limit of them, or none (a nil slice). A limit outside 1 to
// [consent.MaxPage] is an error.
func (s *ConsentStore) Since(ctx context.Context, tenant string, after int64, limit int) ([]consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read consent records", err)
	}
	if limit < 1 || limit > consent.MaxPage {
		return nil, fmt.Errorf("sqlstore: read consent records: limit %d is out of range 1 to %d", limit, consent.MaxPage)
	}
	if !s.db.dialect.textOK(tenant) {
		return nil, nil // no record has a tenant the database cannot store
	}
	out, err := s.query(ctx, s.qSince, tenant, after, int64(limit))
	if err != nil {
		return nil, storeErr(ctx, "read consent records", err)
	}
	return out, nil
}

func (s *ConsentStore) query(ctx context.Context, query string, args ...any) ([]consent.Record, error) {
	rows, err := s.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []consent.Record
	for rows.Next() {
		var (
			r                     consent.Record
			subject, kind, method string
			actorKind             string
			noticeVersion         int64
			ref                   sql.NullString
		)
		err := rows.Scan(&r.Tenant, &r.Seq, &r.ID, &subject, &r.Purpose, &kind, &method,
			&r.Notice.ID, &noticeVersion, &r.Notice.Language, &r.Notice.SHA256, &r.ActorID, &actorKind,
			&r.Evidence.IP, &r.Evidence.UserAgent, &r.Jurisdiction, timeCol{&r.Time}, timeCol{&r.Expires},
			&ref, &r.Note)
		if err != nil {
			return nil, err
		}
		r.Subject = dataward.SubjectID(subject)
		r.Kind = consent.Kind(kind)
		r.Method = consent.Method(method)
		r.ActorKind = dataward.ActorKind(actorKind)
		r.Notice.Version = int(noticeVersion)
		r.Ref = ref.String
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Head returns the Seq of the tenant's last record, or 0 if it has none,
// as its head row records it.
func (s *ConsentStore) Head(ctx context.Context, tenant string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, "read consent head", err)
	}
	if !s.db.dialect.textOK(tenant) {
		return 0, nil // no record has a tenant the database cannot store
	}
	seq, err := s.headSeq(ctx, s.db.sql, tenant)
	if err != nil {
		return 0, storeErr(ctx, "read consent head", err)
	}
	return seq, nil
}

// headSeq is Head through q.
func (s *ConsentStore) headSeq(ctx context.Context, q querier, tenant string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, s.qHead, tenant).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// Watch sends on changed, without blocking, once it is ready and then
// after records are added to tenant, by this process or another, until ctx
// is done, as [consent.Watcher] specifies. It returns ctx.Err() when ctx is
// done, or another error if it could not watch (a lost connection among
// them: call it again to resume).
//
// The watchers of a ConsentStore share one feed of changes, whatever
// their number and tenants: one connection of the pool, held while any
// Watch runs and released when the last one returns.
//
// On PostgreSQL the feed's connection listens on the channel
// dataward_consent: appends notify at commit, with a payload naming the
// schema and the tenant, and each watcher is signalled for its own. Every
// 30 s without a notification the feed pings the server, so that a lost
// connection ends Watch with an error rather than silence.
//
// On SQLite the feed reads PRAGMA data_version on its connection every
// 100 ms: the number changes when another connection or process commits,
// and the feed then reads the head of each watched tenant to see whether
// the commit added records. Appends through this store wake the feed at
// once, without waiting for the poll.
//
// With a pool limited to a single connection (SQLite's :memory:, say), the
// feed holds none and reads the heads through the pool every 100 ms, and
// when appends through this store wake it.
func (s *ConsentStore) Watch(ctx context.Context, tenant string, changed chan<- struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.feeder.watch(ctx, tenant, changed)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err == nil {
		err = errors.New("the feed of changes stopped")
	}
	return storeErr(ctx, "watch consent records", err)
}
