-- 008_artifacts.sql: MLflow artifacts (an index of files, their bytes chunked in Postgres or kept under artifact_root) and what the registry needs for MLflow's API.
-- 006 and 007 belong to other migrations; migrate applies every file not yet
-- recorded, so the order in which they land does not matter.
BEGIN;

-- One row per stored file, whatever holds its bytes. path is relative to the
-- artifact root ("0/<run id>/artifacts/model/MLmodel"), already normalized
-- (no leading '/', no empty, '.' or '..' segments). COLLATE "C" orders paths
-- bytewise, so the files under "a/b" are the range ["a/b/", "a/b0").
CREATE TABLE artifact_files (
	path          text COLLATE "C" PRIMARY KEY CHECK (length(path) BETWEEN 1 AND 4096),
	size          bigint NOT NULL CHECK (size >= 0),
	sha256        text NOT NULL,
	chunks        integer NOT NULL CHECK (chunks >= 0),
	-- false: the bytes are rows of artifact_chunks; true: a file under artifact_root
	in_directory  boolean NOT NULL DEFAULT false,
	created_at    timestamptz NOT NULL DEFAULT now()
);

-- The bytes, 1 MiB per row: written and read one chunk at a time, so neither
-- an upload nor a download ever holds a whole file in memory.
CREATE TABLE artifact_chunks (
	path  text COLLATE "C" NOT NULL REFERENCES artifact_files (path) ON DELETE CASCADE,
	n     integer NOT NULL CHECK (n >= 0),
	data  bytea NOT NULL,
	PRIMARY KEY (path, n)
);
-- Artifacts are mostly compressed already (boosters in UBJ, archives):
-- skip TOAST's compression attempt, keep out-of-line storage.
ALTER TABLE artifact_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- MLflow registers versions that carry only metadata (a source URI verdict
-- cannot serve). Such a version has no booster, spec or format, and says why
-- in status_message; a servable one has all three.
ALTER TABLE model_versions
	ALTER COLUMN booster DROP NOT NULL,
	ALTER COLUMN booster_format DROP NOT NULL,
	ALTER COLUMN spec DROP NOT NULL,
	ALTER COLUMN num_features DROP NOT NULL,
	ADD COLUMN status_message text NOT NULL DEFAULT '',
	ADD CONSTRAINT model_versions_servable_whole CHECK (
		(booster IS NULL) = (spec IS NULL) AND (booster IS NULL) = (booster_format IS NULL)
		AND (booster IS NULL) = (num_features IS NULL));

-- A rename (registered-models/rename cascades to versions and aliases) must
-- reach the watchers under the old name too, or they would keep serving it.
CREATE OR REPLACE FUNCTION verdict_registry_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM pg_notify('verdict_registry', OLD.name);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		PERFORM pg_notify('verdict_registry', NEW.name);
	END IF;
	RETURN NULL;
END $$;

INSERT INTO schema_migrations (version, name) VALUES (8, '008_artifacts');
COMMIT;
