-- 002_accounts.sql: users, sessions, API tokens and login attempts.
-- Raw session and API tokens never reach the database: only a
-- crypto_generichash (BLAKE2b-256) of each, hex-encoded, is stored.
BEGIN;

CREATE TABLE users (
	id             bigserial PRIMARY KEY,
	username       text NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
	password_hash  text NOT NULL,
	role           text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
	disabled       boolean NOT NULL DEFAULT false,
	created_at     timestamptz NOT NULL DEFAULT now(),
	last_login_at  timestamptz,
	password_changed_at timestamptz NOT NULL DEFAULT now()
);
-- Unique case-insensitively: "Ada" and "ada" are one account.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

CREATE TABLE sessions (
	id            bigserial PRIMARY KEY,
	token_hash    text NOT NULL UNIQUE,
	user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at    timestamptz NOT NULL DEFAULT now(),
	last_seen_at  timestamptz NOT NULL DEFAULT now(),
	expires_at    timestamptz NOT NULL,
	user_agent    text,
	addr          text
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
	id            bigserial PRIMARY KEY,
	token_hash    text NOT NULL UNIQUE,
	user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	created_at    timestamptz NOT NULL DEFAULT now(),
	last_used_at  timestamptz,
	expires_at    timestamptz,
	revoked_at    timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed and successful logins, for throttling per username and per address.
CREATE TABLE login_attempts (
	id        bigserial PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT now(),
	username  text NOT NULL,          -- lower-cased, as typed (may not exist)
	addr      text NOT NULL,
	success   boolean NOT NULL
);
CREATE INDEX login_attempts_user_at ON login_attempts (username, at);
CREATE INDEX login_attempts_addr_at ON login_attempts (addr, at);

INSERT INTO schema_migrations (version, name) VALUES (2, '002_accounts');
COMMIT;
