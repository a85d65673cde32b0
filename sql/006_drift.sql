-- 006_drift.sql: data drift — a reference profile per model version and the reports that compare recent predictions with it.
BEGIN;

-- One reference per version (a new upload replaces it): how many rows it was built from.
CREATE TABLE drift_references (
	model_version_id  bigint PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
	rows              integer NOT NULL CHECK (rows > 0),
	created_by        bigint REFERENCES users (id) ON DELETE SET NULL,
	created_at        timestamptz NOT NULL DEFAULT now()
);

-- The profile of each raw input and of the output (position -1, name
-- 'prediction'): kind number or category; n = values present, missing =
-- rows without one. profile holds, for numbers, "sample" (sorted, n <= 1000)
-- or "quantiles" (1000, n > 1000) plus "mean", "std" (population), "min",
-- "max", "deciles" (9 edges) and "decile_counts" (10), and "counts" when
-- there are at most 5 distinct values; for categories, "counts"
-- ({value: count}).
CREATE TABLE drift_profiles (
	model_version_id  bigint NOT NULL REFERENCES drift_references (model_version_id) ON DELETE CASCADE,
	position          integer NOT NULL,
	name              text NOT NULL,
	kind              text NOT NULL CHECK (kind IN ('number', 'category')),
	n                 integer NOT NULL CHECK (n >= 0),
	missing           integer NOT NULL CHECK (missing >= 0),
	profile           jsonb NOT NULL,
	PRIMARY KEY (model_version_id, position)
);

-- One comparison of a window of recent predictions with the reference.
-- detail: {"features": [{"name", "kind", "test", "statistic", "p_value",
-- "distance", "threshold", "psi", "psi_drifted", "drifted", "reference_n",
-- "current_n", "histogram": {"labels"|"edges", "reference", "current"}}],
-- "prediction": {...the same for the output}}.
CREATE TABLE drift_reports (
	id                bigserial PRIMARY KEY,
	model_version_id  bigint NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
	created_at        timestamptz NOT NULL DEFAULT now(),
	window_hours      integer NOT NULL CHECK (window_hours > 0),
	reference_rows    integer NOT NULL,
	current_rows      integer NOT NULL,
	n_features        integer NOT NULL,
	n_drifted         integer NOT NULL,
	share             double precision NOT NULL,
	dataset_drift     boolean NOT NULL,
	prediction_drift  boolean,
	detail            jsonb NOT NULL,
	created_by        bigint REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX drift_reports_version ON drift_reports (model_version_id, id);

INSERT INTO schema_migrations (version, name) VALUES (6, '006_drift');
COMMIT;
