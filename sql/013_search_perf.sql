-- 013_search_perf.sql: runs/search filtered and sorted on a metric over
-- 100,000 runs (issues 6 and 7; README "Tracking performance work").
-- 012 belongs to another change; migrate applies every file not yet recorded.
BEGIN;

-- The planner estimates `key = 'p0' AND value = 'xgb'` as the product of
-- the two columns' selectivities, but a value belongs to its key: on issue
-- 7's benchmark data (100,000 runs x 20 params) it expected 1,324 rows for
-- 25,000 and chose 12,500 nested index probes (145 ms) over hash joins of
-- the filter's indexes (90 ms). autovacuum's ANALYZE keeps these current.
CREATE STATISTICS params_key_value (mcv, dependencies) ON key, value FROM params;
CREATE STATISTICS tags_key_value (mcv, dependencies) ON key, value FROM tags;

-- A search sorted on a metric reads the sort key's latest_metrics rows and
-- needs, for each, the run's experiment and lifecycle stage (which runs are
-- in the search) and its start time (the tie-breaker). Joining runs for
-- them was about half of the filtered search's cost, so latest_metrics
-- carries a copy: the write path fills it from the run, a trigger follows
-- a run's lifecycle_stage (the experiment and start time never change).
ALTER TABLE latest_metrics ADD COLUMN experiment_id bigint, ADD COLUMN run_stage text,
	ADD COLUMN run_start bigint;
UPDATE latest_metrics l SET experiment_id = r.experiment_id, run_stage = r.lifecycle_stage,
	run_start = r.start_time FROM runs r WHERE r.run_uuid = l.run_uuid;
ALTER TABLE latest_metrics ALTER COLUMN experiment_id SET NOT NULL,
	ALTER COLUMN run_stage SET NOT NULL, ALTER COLUMN run_start SET NOT NULL;

-- One statement per runs UPDATE, set-based: deleting an experiment moves
-- all of its runs at once.
CREATE FUNCTION latest_metrics_follow_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE latest_metrics l SET run_stage = n.lifecycle_stage FROM changed n
	WHERE l.run_uuid = n.run_uuid AND l.run_stage <> n.lifecycle_stage;
	RETURN NULL;
END $$;
CREATE TRIGGER runs_stage_to_latest_metrics AFTER UPDATE ON runs
	REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
	EXECUTE FUNCTION latest_metrics_follow_runs();

-- The same (key, value) walk as before, now answering "is this run in the
-- search, and where does it tie" from the index alone.
CREATE INDEX latest_metrics_key_value_run ON latest_metrics (key, value, run_uuid)
	INCLUDE (experiment_id, run_stage, run_start);
DROP INDEX latest_metrics_key_value;

ANALYZE params;
ANALYZE tags;
ANALYZE latest_metrics;

INSERT INTO schema_migrations (version, name) VALUES (13, '013_search_perf');
COMMIT;
