// Package sqlstore keeps dataward's stores in a SQL database: SQLite, the
// embedded default (one file, no server, no cgo), or PostgreSQL, for
// several replicas of a host sharing one database. Both pass the same
// conformance suites.
//
// [Open] a [DB] from a DSN, or wrap a pool the host already has with
// [OpenDB], then take the stores from it:
//
//	db, err := sqlstore.Open(ctx, "sqlite:/var/lib/app/dataward.db", nil)
//	if err != nil { ... }
//	defer db.Close()
//	keys := db.KeyStore()       // a pii.KeyStore
//	auditLog := db.AuditStore() // an audit.Store
//
// A [DB] and its stores are safe for concurrent use, and the guarantees of
// each store interface hold across processes sharing the database: what
// must be coordinated is coordinated by the database (unique keys,
// conditional updates, transactions and advisory locks), never by state in
// one process.
//
// # Tables
//
// Every table is named dataward_*, so the tables can share a database (or,
// on PostgreSQL, a schema chosen with search_path in the DSN) with the
// host's own. The stores are:
//
//   - [DB.KeyStore]: the data keys of package pii, in dataward_pii_keys.
//   - [DB.AuditStore]: the tamper-evident log of package audit, in
//     dataward_audit_entries (the entries, with their query columns and
//     Merkle tree hashes), dataward_audit_checkpoints
//     (signed checkpoints) and dataward_audit_head (one row: the log's
//     size, whose lock serialises appenders). Migrations 0002 and, on
//     SQLite, 0007 (indexes of runs of entries, which cost a durable
//     append less than an index entry per entry).
//   - [DB.ConsentStore]: the consent ledger of package consent, in
//     dataward_consent_records (the records, by tenant and Seq) and
//     dataward_consent_heads (one row per tenant: its last Seq, whose lock
//     serialises a tenant's appenders so that records appear in Seq order
//     without gaps). On PostgreSQL, appends notify the channel
//     dataward_consent, which [ConsentStore.Watch] listens to.
//   - [DB.RBACStore]: the runtime grants of package rbac, in
//     dataward_rbac_grants, with dataward_rbac_head (one row: a counter of
//     changes, which SQLite watchers poll). On PostgreSQL, changes notify
//     the channel dataward_rbac, which [RBACStore.Watch] listens to.
//   - [DB.RetentionStore]: the legal holds, trigger events, leases and
//     cursors of package retention, in dataward_retention_holds,
//     dataward_retention_events and dataward_retention_leases (one row per
//     data set: the sweeper holding it, until when, and its cursor).
//     [DB.TableTarget] sweeps a table of the host's own. Migration 0005.
//   - [DB.BreachStore]: the breach register and outbox of package breach,
//     in dataward_breach_versions (every version of every incident),
//     dataward_breach_deliveries (the outbox, leased with FOR UPDATE SKIP
//     LOCKED on PostgreSQL) and dataward_breach_receipts (the proof of
//     every attempt). Migration 0006.
//
// # SQLite
//
// [Open] treats a DSN that does not start with postgres:// or
// postgresql:// as SQLite: sqlite:PATH, sqlite://PATH, a file: URI (whose
// SQLite URI parameters, such as mode=ro, apply), or a bare path. It adds
// these settings to every connection unless the DSN sets the same PRAGMA
// (the DSN's own choice wins, so weaken them knowingly):
//
//	_pragma=busy_timeout(10000)  wait up to 10 s for another writer
//	_pragma=journal_mode(WAL)    readers and the writer do not block each other
//	_pragma=synchronous(FULL)    a committed key survives a power cut
//	_pragma=foreign_keys(1)
//	_pragma=secure_delete(1)     deleted content is overwritten with zeros
//	_pragma=temp_store(MEMORY)   temporary data and statement journals stay off disk
//	_txlock=immediate            transactions take the write lock at BEGIN
//
// A host using [OpenDB] with its own SQLite pool should open it with the
// same parameters. Times are stored as Unix microseconds (INTEGER).
//
// # PostgreSQL
//
// PostgreSQL is reached through pgx's database/sql driver. Column types are
// native (BYTEA, TIMESTAMPTZ); text compared as keys is COLLATE "C" so that
// it orders by bytes, as the store contracts require, whatever the
// database's locale. The tables may live in any schema: put search_path in
// the DSN (postgres://host/db?search_path=dataward).
//
// # Migrations
//
// [Open] and [OpenDB] apply the embedded migrations unless told not to
// ([Options].SkipMigrate), and [DB.Migrate] applies them on demand. Each
// migration runs in its own transaction and is recorded in the table
// dataward_migrations (version, name, applied_at). Several processes may
// start at once: on PostgreSQL they queue on an advisory lock held for the
// whole run; on SQLite each migration's BEGIN IMMEDIATE transaction
// serialises them, and a process skips a migration another has applied.
//
// # Adding a migration
//
// A package that needs tables adds one file to the directory migrations/
// of this package and nothing else:
//
//	migrations/0004_retention.sql
//
// The number is the next unused one (numbers are never reused or changed
// once released; the name after it is lower case, with underscores). The
// file holds SQL that both databases accept, run as one script in one
// transaction; for the column types they spell differently, write a token
// that the migration runner expands (the list is in dialect.go, the one
// place that knows the dialects apart):
//
//	{{BYTES}}          BLOB on SQLite, BYTEA on PostgreSQL
//	{{TIMESTAMP}}      INTEGER Unix microseconds on SQLite, TIMESTAMPTZ on PostgreSQL
//	{{BYTEWISE_TEXT}}  TEXT on SQLite, TEXT COLLATE "C" on PostgreSQL
//	{{INT64_KEY}}      INTEGER on SQLite (so that INTEGER PRIMARY KEY is the rowid), BIGINT on PostgreSQL
//
// When a step cannot be written once, give it two files with the same
// number and name, 0004_retention.sqlite.sql and 0004_retention.postgres.sql (a
// version with only one of them is recorded as a no-op on the other
// dialect). Queries are written with ? placeholders and passed through the
// dialect's rebind, and timestamps are bound and scanned with the helpers
// in dialect.go. The test TestEmbeddedMigrations checks every file's name
// and tokens, and the tests of both dialects apply the whole set.
package sqlstore
