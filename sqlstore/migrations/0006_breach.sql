-- The breach register of package breach (breach.Store and
-- breach.OutboxStore).
--
-- dataward_breach_versions holds every version of every incident, append
-- only: (id, version) is unique, so of two writers appending the same
-- version one fails. The incident itself is kept as JSON in body; status
-- and updated are copied out for queries.
CREATE TABLE dataward_breach_versions (
	id      {{BYTEWISE_TEXT}} NOT NULL,
	version INTEGER NOT NULL,
	status  TEXT NOT NULL,
	updated {{TIMESTAMP}} NOT NULL,
	body    TEXT NOT NULL,
	PRIMARY KEY (id, version)
);

-- dataward_breach_deliveries is the outbox: one row per notice and
-- recipient, unique by dkey (incident, regime, party, phase, recipient).
-- A pending row with a lease_owner is being sent until lease_until.
CREATE TABLE dataward_breach_deliveries (
	id          {{BYTEWISE_TEXT}} NOT NULL PRIMARY KEY,
	dkey        {{BYTEWISE_TEXT}} NOT NULL UNIQUE,
	incident    {{BYTEWISE_TEXT}} NOT NULL,
	regime      TEXT NOT NULL,
	party       TEXT NOT NULL,
	phase       TEXT NOT NULL,
	subject     TEXT NOT NULL,
	channel     TEXT NOT NULL,
	address     TEXT NOT NULL,
	title       TEXT NOT NULL,
	body_text   TEXT NOT NULL,
	body_html   TEXT NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL,
	next_at     {{TIMESTAMP}} NOT NULL,
	lease_owner TEXT NOT NULL,
	lease_until {{TIMESTAMP}},
	created     {{TIMESTAMP}} NOT NULL
);
CREATE INDEX dataward_breach_deliveries_state ON dataward_breach_deliveries (state, id);
CREATE INDEX dataward_breach_deliveries_incident ON dataward_breach_deliveries (incident, id);

-- dataward_breach_receipts is the proof of every attempt.
CREATE TABLE dataward_breach_receipts (
	delivery {{BYTEWISE_TEXT}} NOT NULL,
	attempt  INTEGER NOT NULL,
	incident {{BYTEWISE_TEXT}} NOT NULL,
	subject  TEXT NOT NULL,
	channel  TEXT NOT NULL,
	at       {{TIMESTAMP}} NOT NULL,
	ok       BOOLEAN NOT NULL,
	detail   TEXT NOT NULL,
	PRIMARY KEY (delivery, attempt)
);
CREATE INDEX dataward_breach_receipts_incident ON dataward_breach_receipts (incident, at);
