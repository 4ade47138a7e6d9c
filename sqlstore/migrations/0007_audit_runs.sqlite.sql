-- On SQLite, the indexes of the audit log (0002) hold runs of entries
-- rather than every entry. (PostgreSQL keeps them: see auditRunReach in
-- sqlstore/audit.go.)
--
-- An audit log repeats itself: a user's requests, a support agent's
-- session, a batch job each record many entries with the same actor, and
-- often the same subject, close together, and times grow as entries are
-- appended. An index entry per log entry made every durable append insert
-- into three indexes once per entry: with one actor and subject, about a
-- quarter of the cost of a durable append on SQLite (BENCHMARKS.md,
-- audit).
--
-- A run is a stretch of one batch (one append):
-- - of a subject (or actor): from an entry of that subject to the last one
--   that comes back within 16 entries of the one before (entries a, b, a,
--   a, c, ..., a over 100 entries make a run of a from its first entry to
--   the last one within reach);
-- - of times: entries whose times do not go back, nor move more than 10 ms
--   from the run's first one.
-- (sqlstore's auditRunReach and auditTimeRunSpan.) The first entry of
-- each run stores the index of its last entry in subject_end (actor_end,
-- time_end); the others store NULL there (-1 in time_end), and the partial
-- indexes below hold the first entries alone.
--
-- A query for a subject seeks its runs that end past the cursor, in order
-- of their end, which is the order of the log (runs of one subject never
-- overlap), and reads each run's stretch of the log, keeping the entries
-- of that subject: fewer than 16 entries read for each one kept, and,
-- with the subject repeating, a handful of index entries for a batch of
-- 64 instead of 64. A query for times from t reads the runs that start
-- from t - 10 ms on (the first entry of a run has its earliest time).
--
-- An entry appended before this migration is a run of its own. So is one
-- that a process of an earlier build appends after it (during an upgrade,
-- before that process restarts): it leaves time_end at its default, -2,
-- and the next query of this build finds such entries through the index
-- dataward_audit_entries_unindexed (empty otherwise) and makes each a run.
ALTER TABLE dataward_audit_entries ADD COLUMN actor_end BIGINT;
ALTER TABLE dataward_audit_entries ADD COLUMN subject_end BIGINT;
ALTER TABLE dataward_audit_entries ADD COLUMN time_end BIGINT NOT NULL DEFAULT -2;
UPDATE dataward_audit_entries SET actor_end = idx, subject_end = idx, time_end = idx;
DROP INDEX dataward_audit_entries_time;
DROP INDEX dataward_audit_entries_subject;
DROP INDEX dataward_audit_entries_actor;
CREATE INDEX dataward_audit_entries_time_runs ON dataward_audit_entries (time, time_end)
	WHERE time_end >= 0;
CREATE INDEX dataward_audit_entries_unindexed ON dataward_audit_entries (idx)
	WHERE time_end = -2;
CREATE INDEX dataward_audit_entries_subject_runs ON dataward_audit_entries (subject, subject_end)
	WHERE subject_end IS NOT NULL;
CREATE INDEX dataward_audit_entries_actor_runs ON dataward_audit_entries (actor_id, actor_end)
	WHERE actor_end IS NOT NULL;
