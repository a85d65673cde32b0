-- 003_registry.sql: the model registry (MLflow's data model) and the prediction log.
BEGIN;

CREATE TABLE registered_models (
	name         text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$'),
	description  text NOT NULL DEFAULT '',
	created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registered_model_tags (
	name   text NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE,
	key    text NOT NULL CHECK (length(key) BETWEEN 1 AND 250),
	value  text NOT NULL DEFAULT '',
	PRIMARY KEY (name, key)
);

-- A version is a self-contained pipeline: booster bytes + feature spec.
CREATE TABLE model_versions (
	id              bigserial PRIMARY KEY,
	name            text NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE,
	version         integer NOT NULL CHECK (version > 0),
	source          text NOT NULL DEFAULT '',
	run_id          text,
	stage           text NOT NULL DEFAULT 'None'
	                CHECK (stage IN ('None', 'Staging', 'Production', 'Archived')),
	status          text NOT NULL DEFAULT 'READY',
	description     text NOT NULL DEFAULT '',
	booster         bytea NOT NULL,
	booster_format  text NOT NULL CHECK (booster_format IN ('json', 'ubj')),
	spec            jsonb NOT NULL,
	num_features    integer NOT NULL,
	created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	UNIQUE (name, version)
);

CREATE TABLE model_version_tags (
	name     text NOT NULL,
	version  integer NOT NULL,
	key      text NOT NULL CHECK (length(key) BETWEEN 1 AND 250),
	value    text NOT NULL DEFAULT '',
	PRIMARY KEY (name, version, key),
	FOREIGN KEY (name, version) REFERENCES model_versions (name, version) ON DELETE CASCADE ON UPDATE CASCADE
);

-- MLflow's alias rules: [\w-], at most 255, "latest" and v<digits> reserved.
CREATE TABLE model_aliases (
	name     text NOT NULL,
	alias    text NOT NULL CHECK (alias ~ '^[A-Za-z0-9_-]{1,255}$' AND lower(alias) <> 'latest'
	                              AND alias !~ '^[vV][0-9]+$'),
	version  integer NOT NULL,
	PRIMARY KEY (name, alias),
	FOREIGN KEY (name, version) REFERENCES model_versions (name, version) ON DELETE CASCADE ON UPDATE CASCADE
);

-- Audit trail of stage transitions and alias moves.
CREATE TABLE model_transitions (
	id          bigserial PRIMARY KEY,
	at          timestamptz NOT NULL DEFAULT now(),
	name        text NOT NULL,
	version     integer NOT NULL,
	what        text NOT NULL,          -- 'stage' or 'alias:<name>'
	from_value  text,
	to_value    text,
	actor_id    bigint
);
CREATE INDEX model_transitions_name ON model_transitions (name, at);

-- Every verdictd LISTENs here: a stage or alias change reaches all hosts at once.
CREATE FUNCTION verdict_registry_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('verdict_registry', coalesce(NEW.name, OLD.name));
	RETURN NULL;
END $$;
CREATE TRIGGER model_versions_notify AFTER INSERT OR UPDATE OR DELETE ON model_versions
	FOR EACH ROW EXECUTE FUNCTION verdict_registry_notify();
CREATE TRIGGER model_aliases_notify AFTER INSERT OR UPDATE OR DELETE ON model_aliases
	FOR EACH ROW EXECUTE FUNCTION verdict_registry_notify();

-- The prediction log, partitioned by time: add monthly partitions as data
-- grows (the default partition catches everything else).
CREATE SEQUENCE predictions_id_seq;
CREATE TABLE predictions (
	id                bigint NOT NULL DEFAULT nextval('predictions_id_seq'),
	created_at        timestamptz NOT NULL DEFAULT now(),
	model_version_id  bigint NOT NULL,
	user_id           bigint,
	inputs            jsonb NOT NULL,
	output            jsonb NOT NULL,
	latency_us        integer NOT NULL,
	request_id        text,
	PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE predictions_default PARTITION OF predictions DEFAULT;
CREATE INDEX predictions_version_time ON predictions (model_version_id, created_at);

INSERT INTO schema_migrations (version, name) VALUES (3, '003_registry');
COMMIT;
