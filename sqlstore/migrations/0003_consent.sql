-- The consent ledger of package consent (consent.Store).
--
-- dataward_consent_records holds one row per record, at its position seq
-- in its tenant's ledger (from 1, without gaps). Evidence is kept in the
-- protected form the Ledger gives (sealed or hashed), never in clear.
-- Expires is NULL when the record has no expiry, ref NULL when it has no
-- ref. Tenant, subject and ref are compared for exact equality, hence
-- BYTEWISE_TEXT: equality by bytes, whatever the database's collation.
CREATE TABLE dataward_consent_records (
	tenant              {{BYTEWISE_TEXT}} NOT NULL,
	seq                 BIGINT NOT NULL CHECK (seq > 0),
	id                  TEXT NOT NULL,
	subject             {{BYTEWISE_TEXT}} NOT NULL,
	purpose             TEXT NOT NULL,
	kind                TEXT NOT NULL,
	method              TEXT NOT NULL,
	notice_id           TEXT NOT NULL,
	notice_version      BIGINT NOT NULL,
	notice_language     TEXT NOT NULL,
	notice_sha256       TEXT NOT NULL,
	actor_id            TEXT NOT NULL,
	actor_kind          TEXT NOT NULL,
	evidence_ip         TEXT NOT NULL,
	evidence_user_agent TEXT NOT NULL,
	jurisdiction        TEXT NOT NULL,
	time                {{TIMESTAMP}} NOT NULL,
	expires             {{TIMESTAMP}},
	ref                 {{BYTEWISE_TEXT}},
	note                TEXT NOT NULL,
	PRIMARY KEY (tenant, seq)
);

-- A ref is unique within its tenant; records without one are left out.
CREATE UNIQUE INDEX dataward_consent_records_ref ON dataward_consent_records (tenant, ref) WHERE ref <> '';

-- History reads one subject's records in order of seq.
CREATE INDEX dataward_consent_records_subject ON dataward_consent_records (tenant, subject, seq);

-- One row per tenant: the seq of its last record. Every append bumps it
-- first (INSERT ... ON CONFLICT DO UPDATE), in the transaction that adds
-- the record, so that appenders of a tenant, in any number of processes,
-- queue on the row's lock and commit in order of seq; a failed append
-- rolls the bump back. Watchers on SQLite poll it.
CREATE TABLE dataward_consent_heads (
	tenant {{BYTEWISE_TEXT}} NOT NULL PRIMARY KEY,
	seq    BIGINT NOT NULL CHECK (seq > 0)
);
