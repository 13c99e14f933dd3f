-- htgate managed store, schema version 1. Portable SQL for SQLite and
-- PostgreSQL: {{id}} is an auto-assigned integer primary key and {{key}} a
-- text column compared byte by byte (names, paths, hosts). Times are
-- microseconds since 1970-01-01 UTC.

-- version grows with every write; credentials_version and rules_version
-- are the version of the last write to what the gateway's credentials and
-- rules are made of. changes_horizon: credential_changes holds every change
-- after this version (older rows are pruned).
CREATE TABLE meta (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL,
	credentials_version BIGINT NOT NULL,
	rules_version BIGINT NOT NULL,
	changes_horizon BIGINT NOT NULL
);
INSERT INTO meta (id, version, credentials_version, rules_version, changes_horizon) VALUES (1, 1, 1, 1, 1);

-- The users whose credentials a write changed, so that a running gateway
-- reloads only them; user_name '' means every user (an import).
CREATE TABLE credential_changes (
	version BIGINT NOT NULL,
	user_name {{key}} NOT NULL
);
CREATE INDEX credential_changes_version ON credential_changes (version);

CREATE TABLE users (
	id {{id}},
	name {{key}} NOT NULL UNIQUE,
	display_name TEXT NOT NULL DEFAULT '',
	hash TEXT NOT NULL DEFAULT '',
	locked BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	changed_at BIGINT NOT NULL
);

CREATE TABLE user_groups (
	id {{id}},
	name {{key}} NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	changed_at BIGINT NOT NULL
);

CREATE TABLE group_members (
	group_id BIGINT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE digest_secrets (
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	realm {{key}} NOT NULL,
	algorithm TEXT NOT NULL CHECK (algorithm IN ('MD5', 'SHA-256')),
	username TEXT NOT NULL,
	ha1 TEXT NOT NULL,
	PRIMARY KEY (user_id, realm, algorithm)
);

CREATE TABLE protected_urls (
	id {{id}},
	host {{key}} NOT NULL DEFAULT '',
	path {{key}} NOT NULL,
	realm TEXT NOT NULL DEFAULT '',
	schemes TEXT NOT NULL DEFAULT 'basic',
	valid_user BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	changed_at BIGINT NOT NULL,
	UNIQUE (path, host)
);

CREATE TABLE url_user_grants (
	url_id BIGINT NOT NULL REFERENCES protected_urls (id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (url_id, user_id)
);
CREATE INDEX url_user_grants_user ON url_user_grants (user_id);

CREATE TABLE url_group_grants (
	url_id BIGINT NOT NULL REFERENCES protected_urls (id) ON DELETE CASCADE,
	group_id BIGINT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	PRIMARY KEY (url_id, group_id)
);
CREATE INDEX url_group_grants_group ON url_group_grants (group_id);

CREATE TABLE admins (
	id {{id}},
	name {{key}} NOT NULL UNIQUE,
	hash TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
	locked BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	changed_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
	id {{key}} PRIMARY KEY,
	user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
	admin_id BIGINT REFERENCES admins (id) ON DELETE CASCADE,
	hash {{key}} NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	scopes TEXT NOT NULL DEFAULT '',
	expires_at BIGINT,
	revoked_at BIGINT,
	created_at BIGINT NOT NULL,
	CHECK ((user_id IS NULL) <> (admin_id IS NULL))
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX api_tokens_admin ON api_tokens (admin_id);

CREATE TABLE audit_events (
	id {{id}},
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	client TEXT NOT NULL DEFAULT '',
	ref_id TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at);
