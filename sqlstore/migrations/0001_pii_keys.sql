-- The data keys of package pii (pii.KeyStore): one row per data subject,
-- holding the subject's data key wrapped by the master key, or, once the
-- subject is shredded, a tombstone with no key material (wrapped is NULL).
-- A tombstone of a subject that never had a key has key_id 0 and no
-- created_at. List pages through live rows in byte order of subject, hence
-- BYTEWISE_TEXT.
CREATE TABLE dataward_pii_keys (
	subject     {{BYTEWISE_TEXT}} NOT NULL PRIMARY KEY,
	key_id      BIGINT NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
	wrapped     {{BYTES}},
	created_at  {{TIMESTAMP}},
	shredded_at {{TIMESTAMP}}
);
