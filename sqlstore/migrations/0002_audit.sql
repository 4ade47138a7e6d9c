-- The tamper-evident log of package audit (audit.Store).
--
-- dataward_audit_entries holds one row per entry, at its position idx (from
-- 0, without gaps): the canonical encoding that the Merkle tree commits to
-- (data), the fields that queries find through an index (time, actor_id,
-- subject), and the hashes of the Merkle tree stored with the entry
-- (tlog.StoredHashes: those at storage indexes tlog.StoredHashIndex(0, idx)
-- up to that of idx+1, 32 bytes each; one row per entry costs half as much
-- to append as a row per hash).
--
-- The rows are narrow because appending them is the cost of every durable
-- audit event: each bound value and each byte written to the write-ahead
-- log counts. The entry's other fields (action, class, resource type and
-- id, outcome) have no column: data holds them, and the store reads them
-- from it (audit.DecodeEntry); queries on them test the rows that the
-- indexed conditions select. Columns of their own cost five more values
-- to bind per row (eleven instead of seven) and ~15 % more bytes, for
-- conditions that no index served anyway (every index slows appends);
-- dropping them made the store's share of a durable append about 15 %
-- cheaper. fields is NULL
-- for every entry a Logger appends, whose columns are those its data
-- encodes (audit.Entry.FromData); an entry given by other means keeps
-- those five fields there (each as uvarint length and bytes), so that the
-- store returns what it was given.
--
-- The text columns are compared for exact equality with the values of an
-- audit.Filter, hence BYTEWISE_TEXT: equality by bytes, whatever the
-- database's collation, and cheaper index comparisons on PostgreSQL. The
-- zero time is stored as the instant it stands for (year 1), not as NULL,
-- so that time ranges select it as they would any other time.
--
-- idx is INT64_KEY: on SQLite the column becomes the rowid, so the table's
-- own b-tree is ordered by it and each append writes one b-tree fewer than
-- with a separate primary key index.
CREATE TABLE dataward_audit_entries (
	idx      {{INT64_KEY}} NOT NULL PRIMARY KEY CHECK (idx >= 0),
	data     {{BYTES}},
	time     {{TIMESTAMP}} NOT NULL,
	actor_id {{BYTEWISE_TEXT}} NOT NULL,
	subject  {{BYTEWISE_TEXT}} NOT NULL,
	fields   {{BYTES}},
	hashes   {{BYTES}} NOT NULL CHECK (length(hashes) % 32 = 0 AND length(hashes) > 0)
);

-- Queries return entries in order of idx, a page at a time (idx > after
-- ... LIMIT n). Ending each equality index with idx lets the database read
-- one subject's (or actor's) entries already in that order, starting at
-- the cursor, and stop after a page. Time ranges are usually narrow, and
-- time grows with idx. Every index slows appends (two more cost a third of
-- the throughput of a durable append on SQLite), so these three are all.
-- (On SQLite, 0007_audit_runs.sqlite.sql replaces them by indexes of runs
-- of entries.)
CREATE INDEX dataward_audit_entries_time ON dataward_audit_entries (time);
CREATE INDEX dataward_audit_entries_subject ON dataward_audit_entries (subject, idx);
CREATE INDEX dataward_audit_entries_actor ON dataward_audit_entries (actor_id, idx);

-- Signed checkpoints, at most one per log size.
CREATE TABLE dataward_audit_checkpoints (
	size BIGINT NOT NULL PRIMARY KEY,
	root {{BYTES}} NOT NULL CHECK (length(root) = 32),
	time {{TIMESTAMP}},
	note {{BYTES}}
);

-- One row: the size of the log and the number of stored hashes, which is
-- where the next append must start. Every append updates this row first,
-- in the transaction that adds its entries, so appenders in any number of
-- processes queue on its lock and each sees the size its predecessor left.
CREATE TABLE dataward_audit_head (
	id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	size   BIGINT NOT NULL CHECK (size >= 0),
	hashes BIGINT NOT NULL CHECK (hashes >= 0)
);
INSERT INTO dataward_audit_head (id, size, hashes) VALUES (1, 0, 0);
