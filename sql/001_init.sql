-- 001_init.sql: the schema's starting point. Later migrations add accounts,
-- the registry, predictions, feedback and the MLflow tables.
BEGIN;

-- Audit trail of significant actions (promotions, retrains, permission changes).
CREATE TABLE IF NOT EXISTS events (
	id         bigserial PRIMARY KEY,
	at         timestamptz NOT NULL DEFAULT now(),
	kind       text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
	actor_id   bigint,
	subject    text,
	detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS events_at ON events (at);

INSERT INTO schema_migrations (version, name) VALUES (1, '001_init');
COMMIT;
