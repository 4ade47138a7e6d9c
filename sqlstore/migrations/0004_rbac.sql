-- The runtime grants of package rbac (rbac.Store).
--
-- dataward_rbac_grants holds one row per grant. not_before and expires are
-- NULL when unbounded. IDs are compared for exact equality and listed in
-- order, hence BYTEWISE_TEXT.
CREATE TABLE dataward_rbac_grants (
	id          {{BYTEWISE_TEXT}} NOT NULL PRIMARY KEY,
	tenant      TEXT NOT NULL,
	user_id     TEXT NOT NULL,
	role        TEXT NOT NULL,
	not_before  {{TIMESTAMP}},
	expires     {{TIMESTAMP}},
	break_glass BOOLEAN NOT NULL,
	reason      TEXT NOT NULL,
	granted_by  TEXT NOT NULL,
	created     {{TIMESTAMP}} NOT NULL
);

-- One row: a number that every change of the grants bumps, in the
-- transaction that makes it. Watchers on SQLite poll it.
CREATE TABLE dataward_rbac_head (
	id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL
);
INSERT INTO dataward_rbac_head (id, seq) VALUES (1, 0);
