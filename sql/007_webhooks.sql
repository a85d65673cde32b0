-- 007_webhooks.sql: alerts by webhook — subscriptions, the delivery log, and
-- the cursor over the events table that deliveries are fanned out from.
BEGIN;

CREATE TABLE webhooks (
	id                 bigserial PRIMARY KEY,
	url                text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
	secret             text NOT NULL CHECK (length(secret) BETWEEN 16 AND 256),
	events             text[] NOT NULL,       -- event kinds, or {'*'}
	model              text,                  -- NULL: every model
	-- "quality below a threshold over a window": checked by the delivery worker
	quality_metric     text,
	quality_threshold  double precision,
	quality_window     text NOT NULL DEFAULT '24h' CHECK (quality_window IN ('24h', '7d', '30d', 'all')),
	quality_breached   boolean NOT NULL DEFAULT false,
	enabled            boolean NOT NULL DEFAULT true,
	created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
	created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
	id               bigserial PRIMARY KEY,
	webhook_id       bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id         bigint NOT NULL,
	kind             text NOT NULL,
	body             text NOT NULL,            -- exactly the bytes signed and sent
	status           text NOT NULL DEFAULT 'pending'
	                 CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts         integer NOT NULL DEFAULT 0,
	last_code        integer,
	last_error       text,
	next_attempt_at  timestamptz NOT NULL DEFAULT now(),
	created_at       timestamptz NOT NULL DEFAULT now(),
	finished_at      timestamptz,
	UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- Events up to this id have been fanned out to deliveries (one row).
CREATE TABLE webhook_cursor (
	one            boolean PRIMARY KEY DEFAULT true CHECK (one),
	last_event_id  bigint NOT NULL
);
INSERT INTO webhook_cursor (last_event_id) SELECT coalesce(max(id), 0) FROM events;

INSERT INTO schema_migrations (version, name) VALUES (7, '007_webhooks');
COMMIT;
