package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
)

// KeyStore is the [pii.KeyStore] kept in the table dataward_pii_keys. Get
// one from [DB.KeyStore] and give it to [pii.Keyring]. It stays thin, as
// the interface asks: it stores what it is given and leaves validation to
// the Keyring.
//
// Its guarantees hold across processes sharing the database: concurrent
// [KeyStore.Create] calls for one subject, from any number of pools or
// processes, all return the record of the one that won.
//
// Errors are prefixed "sqlstore:" and wrap the driver's error, except that
// a missing record is [pii.ErrKeyNotFound] itself, and a canceled or
// expired context is matched by errors.Is(err, ctx.Err()).
type KeyStore struct {
	db                         *DB
	qGet, qCreate, qShred      string
	qList                      string
	qReplace, qReplaceFromNone string
}

var _ pii.KeyStore = (*KeyStore)(nil)

// KeyStore returns the database's [pii.KeyStore]. Every call returns the
// same one.
func (db *DB) KeyStore() *KeyStore { return db.keys }

const keyColumns = "subject, key_id, wrapped, created_at, shredded_at"

func newKeyStore(db *DB) *KeyStore {
	d := db.dialect
	return &KeyStore{
		db:   db,
		qGet: d.rebind("SELECT " + keyColumns + " FROM dataward_pii_keys WHERE subject = ?"),
		qCreate: d.rebind("INSERT INTO dataward_pii_keys (" + keyColumns + ") VALUES (?, ?, ?, ?, ?)" +
			" ON CONFLICT (subject) DO NOTHING RETURNING " + keyColumns),
		// Insert a tombstone, or turn the live record into one. An existing
		// tombstone is left alone, and then no row is returned.
		qShred: d.rebind("INSERT INTO dataward_pii_keys (" + keyColumns + ") VALUES (?, 0, NULL, NULL, ?)" +
			" ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, shredded_at = excluded.shredded_at" +
			" WHERE dataward_pii_keys.shredded_at IS NULL RETURNING " + keyColumns),
		qList: d.rebind("SELECT " + keyColumns + " FROM dataward_pii_keys" +
			" WHERE subject > ? AND shredded_at IS NULL ORDER BY subject LIMIT ?"),
		qReplace: d.rebind("UPDATE dataward_pii_keys SET wrapped = ?" +
			" WHERE subject = ? AND shredded_at IS NULL AND wrapped = ?"),
		qReplaceFromNone: d.rebind("UPDATE dataward_pii_keys SET wrapped = ?" +
			" WHERE subject = ? AND shredded_at IS NULL AND (wrapped IS NULL OR length(wrapped) = 0)"),
	}
}

// Get returns the record of subject, live or shredded. It returns
// [pii.ErrKeyNotFound] if the table has no row for subject.
func (s *KeyStore) Get(ctx context.Context, subject dataward.SubjectID) (pii.KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return pii.KeyRecord{}, storeErr(ctx, "get key", err)
	}
	rec, err := s.get(ctx, subject)
	if err != nil && !errors.Is(err, pii.ErrKeyNotFound) {
		return pii.KeyRecord{}, storeErr(ctx, "get key", err)
	}
	return rec, err
}

func (s *KeyStore) get(ctx context.Context, subject dataward.SubjectID) (pii.KeyRecord, error) {
	rec, err := scanKeyRecord(s.db.sql.QueryRowContext(ctx, s.qGet, string(subject)))
	if errors.Is(err, sql.ErrNoRows) {
		return pii.KeyRecord{}, pii.ErrKeyNotFound
	}
	return rec, err
}

// Create stores rec unless the table already holds a record for
// rec.Subject, live or shredded, and returns the record held afterwards: rec
// as stored (times truncated to the microsecond, in UTC) or the earlier
// record. It is INSERT ... ON CONFLICT DO NOTHING followed, if nothing was
// inserted, by a read of the winner's row.
func (s *KeyStore) Create(ctx context.Context, rec pii.KeyRecord) (pii.KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return pii.KeyRecord{}, storeErr(ctx, "create key", err)
	}
	d := s.db.dialect
	got, err := scanKeyRecord(s.db.sql.QueryRowContext(ctx, s.qCreate,
		string(rec.Subject), int64(rec.KeyID), bytesArg(rec.Wrapped), d.timeArg(rec.Created), d.timeArg(rec.Shredded)))
	if errors.Is(err, sql.ErrNoRows) {
		got, err = s.get(ctx, rec.Subject)
	}
	if err != nil {
		return pii.KeyRecord{}, storeErr(ctx, "create key", err)
	}
	return got, nil
}

// Shred destroys the wrapped key of subject and returns the tombstone, as
// [pii.KeyStore] specifies: the row's wrapped key becomes NULL and
// shredded_at is set to at; a subject with no row gets a tombstone row with
// key_id 0; a shredded subject is left as it is.
//
// # What remains of a shredded key
//
// The key is gone from the table as soon as Shred returns, but a database
// keeps old versions of rows for a while, so the host must plan for them:
//
//   - SQLite: secure_delete (set by [Open]) overwrites the old row in the
//     database file. After each shred, Shred checkpoints the write-ahead
//     log into the file and truncates it, so that old copies of the page do
//     not linger in the log. This is best effort: if another connection is
//     reading or writing at that moment the checkpoint is skipped, and the
//     old page stays in the log until a later checkpoint (the next Shred,
//     SQLite's automatic checkpoints, or [DB.Close]) overwrites it. Blocks
//     that the file system or an SSD has remapped are beyond its reach.
//   - PostgreSQL: the old row version stays in the table's data files as a
//     dead tuple until VACUUM (or autovacuum) reclaims its space and a later
//     write reuses it, and it stays in the write-ahead log, in WAL archives
//     and on replicas' disks until those are recycled. Run VACUUM on
//     dataward_pii_keys after erasures if that matters, and keep WAL
//     archives no longer than the backups below.
//   - Backups of either database hold the key for as long as they are kept.
//     Crypto-shredding reaches data in backups only once every backup
//     holding the key has expired, so keep backups of the key store (and
//     WAL archives) for less time than the erasure deadline you promise,
//     or back the key store up separately and for a shorter time than the
//     data it protects.
func (s *KeyStore) Shred(ctx context.Context, subject dataward.SubjectID, at time.Time) (pii.KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return pii.KeyRecord{}, storeErr(ctx, "shred key", err)
	}
	rec, err := scanKeyRecord(s.db.sql.QueryRowContext(ctx, s.qShred, string(subject), s.db.dialect.timeArg(at)))
	switch {
	case err == nil:
		if s.db.dialect == SQLite {
			s.db.checkpointWAL(ctx)
		}
	case errors.Is(err, sql.ErrNoRows):
		// Already a tombstone; tombstones never change.
		rec, err = s.get(ctx, subject)
	}
	if err != nil {
		return pii.KeyRecord{}, storeErr(ctx, "shred key", err)
	}
	return rec, nil
}

// List returns at most limit live records whose subject sorts after the
// cursor after, in ascending byte order of subject. A limit of zero or
// less returns no records.
func (s *KeyStore) List(ctx context.Context, after dataward.SubjectID, limit int) ([]pii.KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "list keys", err)
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.sql.QueryContext(ctx, s.qList, string(after), int64(limit))
	if err != nil {
		return nil, storeErr(ctx, "list keys", err)
	}
	defer rows.Close()
	var out []pii.KeyRecord
	for rows.Next() {
		rec, err := scanKeyRecord(rows)
		if err != nil {
			return nil, storeErr(ctx, "list keys", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(ctx, "list keys", err)
	}
	return out, nil
}

// Replace swaps wrapped keys in one transaction, as [pii.KeyStore]
// specifies: each replacement is an UPDATE conditional on the subject being
// live and its wrapped key still equal to Old, applied in order. It returns
// how many rows it changed; on error it changes none.
func (s *KeyStore) Replace(ctx context.Context, rs []pii.Replacement) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, "replace keys", err)
	}
	if len(rs) == 0 {
		return 0, nil
	}
	n, err := s.replace(ctx, rs)
	if err != nil {
		return 0, storeErr(ctx, "replace keys", err)
	}
	return n, nil
}

func (s *KeyStore) replace(ctx context.Context, rs []pii.Replacement) (int, error) {
	tx, err := s.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, s.qReplace)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	n := 0
	for _, r := range rs {
		var res sql.Result
		if len(r.Old) == 0 {
			res, err = tx.ExecContext(ctx, s.qReplaceFromNone, bytesArg(r.New), string(r.Subject))
		} else {
			res, err = stmt.ExecContext(ctx, bytesArg(r.New), string(r.Subject), r.Old)
		}
		if err != nil {
			return 0, err
		}
		changed, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += int(changed)
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanKeyRecord(row rowScanner) (pii.KeyRecord, error) {
	var (
		rec     pii.KeyRecord
		subject string
		keyID   int64
	)
	err := row.Scan(&subject, &keyID, bytesCol{&rec.Wrapped}, timeCol{&rec.Created}, timeCol{&rec.Shredded})
	if err != nil {
		return pii.KeyRecord{}, err
	}
	if keyID < 0 || keyID > math.MaxUint32 {
		return pii.KeyRecord{}, fmt.Errorf("corrupt key record: key_id %d is out of range", keyID)
	}
	rec.Subject = dataward.SubjectID(subject)
	rec.KeyID = uint32(keyID)
	return rec, nil
}
