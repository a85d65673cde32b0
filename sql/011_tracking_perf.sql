-- 011_tracking_perf.sql: indexes for browsing and charting experiments of
-- 100,000 runs (issue 7's benchmark figures; README "Benchmarks").
-- 010 belongs to another change; migrate applies every file not yet recorded.
BEGIN;

-- A metric history's reads (the per-pixel chart buckets, sparklines, the
-- get-history pages) want (step, timestamp, value, is_nan) of one (run, key)
-- in step order: with value and is_nan in the index they are index-only scans
-- instead of one heap fetch per point (1,000,000 for the largest chart). It
-- replaces the old (run_uuid, key, step, timestamp) index, so an insert still
-- maintains one index.
CREATE INDEX metrics_run_key_step_value ON metrics (run_uuid, key, step, timestamp, value)
	INCLUDE (is_nan);
DROP INDEX metrics_run_key_step;

INSERT INTO schema_migrations (version, name) VALUES (11, '011_tracking_perf');
COMMIT;
