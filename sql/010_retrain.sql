-- 010_retrain.sql: the lease that keeps two `verdict retrain` runs of one
-- model from overlapping, across hosts. One row per model at most; a row
-- whose expires_at has passed belongs to a crashed retrain and is taken over.
BEGIN;

CREATE TABLE retrain_locks (
	name         text PRIMARY KEY REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE,
	lease        text NOT NULL UNIQUE CHECK (lease ~ '^[0-9a-f]{32}$'),
	holder       bigint REFERENCES users (id) ON DELETE SET NULL,
	acquired_at  timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL
);

INSERT INTO schema_migrations (version, name) VALUES (10, '010_retrain');
COMMIT;
