-- The shared state of package retention's sweepers (retention.Store).
--
-- dataward_retention_holds holds one row per legal hold; exactly one of
-- subject, record (with dataset) and category is not empty. until is NULL
-- for a hold without an end.
CREATE TABLE dataward_retention_holds (
	id       {{BYTEWISE_TEXT}} NOT NULL PRIMARY KEY,
	subject  TEXT NOT NULL,
	dataset  TEXT NOT NULL,
	record   TEXT NOT NULL,
	category TEXT NOT NULL,
	reason   TEXT NOT NULL,
	created  {{TIMESTAMP}} NOT NULL,
	until    {{TIMESTAMP}}
);

-- The events that start retention periods, one per name and subject,
-- listed by name in order of subject.
CREATE TABLE dataward_retention_events (
	name    {{BYTEWISE_TEXT}} NOT NULL,
	subject {{BYTEWISE_TEXT}} NOT NULL,
	at      {{TIMESTAMP}} NOT NULL,
	PRIMARY KEY (name, subject)
);

-- One row per data set: who holds its lease and until when, and the
-- cursor its sweep resumes from. A released lease keeps its row and
-- cursor, with no owner.
CREATE TABLE dataward_retention_leases (
	name      {{BYTEWISE_TEXT}} NOT NULL PRIMARY KEY,
	owner     TEXT NOT NULL,
	expires   {{TIMESTAMP}} NOT NULL,
	resume_at TEXT NOT NULL
);
