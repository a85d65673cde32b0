-- 004_feedback.sql: ground truth for past predictions and live quality per model version.
BEGIN;

-- Unverified predictions are found through a partial index, so picking a
-- random one stays an index probe at any table size.
ALTER TABLE predictions ADD COLUMN verified boolean NOT NULL DEFAULT false;
CREATE INDEX predictions_unverified ON predictions (model_version_id, id) WHERE NOT verified;
-- Listing by version newest first (keyset on id); the 24 h counts now come
-- from quality_hourly, so the old (version, time) index goes.
CREATE INDEX predictions_version_id ON predictions (model_version_id, id);
DROP INDEX predictions_version_time;

-- Every truth ever reported; the current one per prediction has replaced_at NULL.
CREATE TABLE feedback (
	id                bigserial PRIMARY KEY,
	prediction_id     bigint NOT NULL,
	prediction_at     timestamptz NOT NULL,
	model_version_id  bigint NOT NULL,
	true_number       double precision,    -- regression
	true_label        text,                -- classification
	score             double precision,    -- regression: the prediction; binary: P(positive class)
	user_id           bigint REFERENCES users (id) ON DELETE SET NULL,
	source            text NOT NULL CHECK (source IN ('form', 'api', 'bulk')),
	created_at        timestamptz NOT NULL DEFAULT now(),
	replaced_at       timestamptz,
	CHECK ((true_number IS NULL) <> (true_label IS NULL))
);
CREATE UNIQUE INDEX feedback_current ON feedback (prediction_id) WHERE replaced_at IS NULL;
CREATE INDEX feedback_history ON feedback (prediction_id, id);
CREATE INDEX feedback_version_time ON feedback (model_version_id, prediction_at)
	WHERE replaced_at IS NULL;

-- Live quality, maintained in the prediction log's and the feedback's own
-- transactions, bucketed by the hour the prediction was made. Pages sum
-- buckets; they never scan predictions. A correction subtracts the old
-- truth's contribution and adds the new one.
CREATE TABLE quality_hourly (
	model_version_id  bigint NOT NULL,
	hour              timestamptz NOT NULL,
	predictions       bigint NOT NULL DEFAULT 0,
	verified          bigint NOT NULL DEFAULT 0,
	sum_err           double precision NOT NULL DEFAULT 0,   -- prediction - truth
	sum_abs_err       double precision NOT NULL DEFAULT 0,
	sum_sq_err        double precision NOT NULL DEFAULT 0,
	sum_y             double precision NOT NULL DEFAULT 0,
	sum_y2            double precision NOT NULL DEFAULT 0,
	correct           bigint NOT NULL DEFAULT 0,
	sum_logloss       double precision NOT NULL DEFAULT 0,
	PRIMARY KEY (model_version_id, hour)
);

-- Classification: confusion-matrix counts per bucket.
CREATE TABLE quality_confusion (
	model_version_id  bigint NOT NULL,
	hour              timestamptz NOT NULL,
	actual            text NOT NULL,
	predicted         text NOT NULL,
	n                 bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (model_version_id, hour, actual, predicted)
);

-- Predictions already logged count in their buckets.
INSERT INTO quality_hourly (model_version_id, hour, predictions)
SELECT model_version_id, date_trunc('hour', created_at, 'UTC'), count(*)
FROM predictions GROUP BY 1, 2;

INSERT INTO schema_migrations (version, name) VALUES (4, '004_feedback');
COMMIT;
