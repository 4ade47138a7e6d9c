// Package audit keeps a tamper-evident log of actions on personal data:
// who logged in, who viewed, added, changed or deleted what, and with what
// outcome (GDPR Art. 5(2) and 30; POPIA s17).
//
// A [Logger] records [Event] values, used the way a slog.Logger is. Before an
// event is stored, the fields that could identify a person are replaced by a
// keyed hash or encrypted under the data subject's key (see [Sensitivity]),
// so that clear personal data never lands in the log and shredding a subject
// makes their secret fields unreadable. The stored events form an
// append-only log committed by an RFC 6962 Merkle tree
// (golang.org/x/mod/sumdb/tlog), with signed checkpoints in the C2SP
// checkpoint format (golang.org/x/mod/sumdb/note), inclusion and consistency
// proofs that a third party checks with the public key alone, and [Verify],
// which recomputes the tree and reports where a log was altered.
//
// [Middleware] records HTTP requests; [Logger.Query] reads events back,
// optionally with inclusion proofs, and [WriteCSV], [WriteJSONLines] and
// [WriteOCSF] export them for a report.
//
// Each event class has a delivery [Policy]: Durable (Record returns once
// the event is stored), FailClosed (Record returns the store's error so that
// the host can refuse the action) or Buffered (bounded, with dropped events
// counted in a gap record). Concurrent Record calls share one append.
//
// The log is kept in a [Store]: [NewMemStore] in memory, the SQL store of
// package sqlstore (SQLite or PostgreSQL), or the host's own, checked with
// package audittest.
package audit
