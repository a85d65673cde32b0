-- 012_metric_blocks.sql: per-history block summaries, so a chart of a
-- 1,000,000-point history reads a few thousand rows instead of every point
-- (issue 7's chart target; README "Experiment browsing").
-- Other changes may take numbers next to this one; migrate applies every file
-- not yet recorded.
BEGIN;

-- How many finite points (not NaN, not ±Infinity: what a chart counts) the
-- history of (run, key) holds. The ingest upsert adds each batch's count in
-- the same statement that inserts the points, so at any snapshot it equals
-- count(*) of the finite rows of metrics for that (run, key).
ALTER TABLE latest_metrics ADD COLUMN n bigint NOT NULL DEFAULT 0;
UPDATE latest_metrics l SET n = c.n
FROM (SELECT run_uuid, key, count(*) AS n FROM metrics
	WHERE NOT is_nan AND value > '-Infinity' AND value < 'Infinity'
	GROUP BY run_uuid, key) c
WHERE c.run_uuid = l.run_uuid AND c.key = l.key;

-- What the blocks of one (run, key) cover: the first n finite points in
-- (step, timestamp, value) order, the last of them at (last_step, last_ts).
-- Current when n equals latest_metrics.n; written only by the chart read
-- (tracking.c) under a per-(run, key) advisory lock.
CREATE TABLE metric_summaries (
	run_uuid   text NOT NULL,
	key        text NOT NULL,
	n          bigint NOT NULL,
	last_step  bigint,
	last_ts    bigint,
	PRIMARY KEY (run_uuid, key),
	FOREIGN KEY (run_uuid, key) REFERENCES latest_metrics ON DELETE CASCADE
);

-- The covered points cut into ordinal blocks of 64 consecutive finite points
-- (block b holds points b*64 .. b*64+63; only the last may hold fewer).
-- Ordinal, not step ranges: many clients log every point at step 0. Each
-- block keeps its x extent and the min, max and sum of its values, which is
-- what the per-pixel chart aggregates need.
CREATE TABLE metric_blocks (
	run_uuid  text NOT NULL,
	key       text NOT NULL,
	block     integer NOT NULL,
	n         integer NOT NULL,
	step_lo   bigint NOT NULL,
	step_hi   bigint NOT NULL,
	ts_lo     bigint NOT NULL,
	ts_hi     bigint NOT NULL,
	vmin      double precision NOT NULL,
	vmax      double precision NOT NULL,
	vsum      double precision NOT NULL,
	PRIMARY KEY (run_uuid, key, block),
	-- Unlike metrics (no foreign key, for ingest speed), these rows are
	-- written a block at a time by a chart read: deleting a run (or its
	-- latest_metrics rows) takes its summaries with it.
	FOREIGN KEY (run_uuid, key) REFERENCES latest_metrics ON DELETE CASCADE
);

INSERT INTO schema_migrations (version, name) VALUES (12, '012_metric_blocks');
COMMIT;
