-- 014_metric_chunks.sql: metric histories stored as chunks of points, so a
-- log-batch of 1000 points writes about ten rows instead of a thousand
-- (issue 6's ingestion target; README "Metric storage").
-- Other changes may take numbers next to this one; migrate applies every file
-- not yet recorded.
BEGIN;

-- One row per (run, key) and up to 128 consecutive points of one write: the
-- points as three parallel arrays in (step, timestamp, value) order, Postgres'
-- float8 order (NaN above all). A NaN point is a NaN value. For a row
-- inserted without n (migrations, benchmark generators, tests, hand-written
-- SQL) the trigger below sorts the arrays and fills the summary columns;
-- log-batch's binary COPY sends them sorted and summarized (src/tracking.c,
-- put_chunk: the trigger cost 15 % of a 1000-point batch), and test_tracking
-- checks that the two give the same rows:
--   step_lo, ts_lo   the first point's step and timestamp
--   step_hi, ts_hi   the last point's
--   fin_step, fin_ts the last finite point's (NULL when none is finite)
-- A reader prunes with them: a point whose (step, timestamp) is above X lies
-- in a chunk whose (step_hi, ts_hi) is above X. Chunks of one history may
-- overlap (clients log out of order, or everything at step 0).
-- No foreign key, as before: the write path checks the run in its transaction.
CREATE TABLE metric_chunks (
	run_uuid    text NOT NULL,
	key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 250),
	step_lo     bigint NOT NULL,
	ts_lo       bigint NOT NULL,
	step_hi     bigint NOT NULL,
	ts_hi       bigint NOT NULL,
	fin_step    bigint,
	fin_ts      bigint,
	n           integer NOT NULL CHECK (n >= 1),
	steps       bigint[] NOT NULL,
	timestamps  bigint[] NOT NULL,
	vals        double precision[] NOT NULL,
	-- What a writer that sends its own summary can get wrong cheaply
	-- (whether the arrays are sorted is test_tracking's to check).
	CHECK (cardinality(steps) = n AND cardinality(timestamps) = n AND
	    cardinality(vals) = n AND step_lo = steps[1] AND ts_lo = timestamps[1] AND
	    step_hi = steps[n] AND ts_hi = timestamps[n])
) WITH (toast_tuple_target = 8160);
-- 128 points are about 3.2 kB: stored inline and uncompressed (compressing
-- float arrays costs CPU and saves little), two chunks to a page.
-- step_hi and n included: a history page finds how far it must read from
-- this index alone (METRIC_HISTORY in src/db.h).
CREATE INDEX metric_chunks_first ON metric_chunks (run_uuid, key, step_lo, ts_lo)
	INCLUDE (step_hi, n);
CREATE INDEX metric_chunks_last ON metric_chunks (run_uuid, key, step_hi, ts_hi);

CREATE FUNCTION metric_chunks_normalize() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	f record;
BEGIN
	IF cardinality(NEW.steps) IS DISTINCT FROM cardinality(NEW.timestamps) OR
	    cardinality(NEW.steps) IS DISTINCT FROM cardinality(NEW.vals) OR
	    coalesce(array_ndims(NEW.steps), 0) <> 1 OR array_position(NEW.steps, NULL) IS NOT NULL OR
	    array_position(NEW.timestamps, NULL) IS NOT NULL OR
	    array_position(NEW.vals, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'metric_chunks: steps, timestamps and vals must be non-empty '
		    'one-dimensional arrays of one length without NULLs';
	END IF;
	SELECT array_agg(u.s ORDER BY u.s, u.t, u.v) AS s,
	    array_agg(u.t ORDER BY u.s, u.t, u.v) AS t,
	    array_agg(u.v ORDER BY u.s, u.t, u.v) AS v,
	    (array_agg(u.s ORDER BY u.s DESC, u.t DESC) FILTER (WHERE u.v > '-Infinity'
	        AND u.v < 'Infinity'))[1] AS fs,
	    (array_agg(u.t ORDER BY u.s DESC, u.t DESC) FILTER (WHERE u.v > '-Infinity'
	        AND u.v < 'Infinity'))[1] AS ft
	INTO f FROM unnest(NEW.steps, NEW.timestamps, NEW.vals) AS u(s, t, v);
	NEW.steps := f.s;
	NEW.timestamps := f.t;
	NEW.vals := f.v;
	NEW.n := cardinality(f.s);
	NEW.step_lo := f.s[1];
	NEW.ts_lo := f.t[1];
	NEW.step_hi := f.s[NEW.n];
	NEW.ts_hi := f.t[NEW.n];
	NEW.fin_step := f.fs;
	NEW.fin_ts := f.ft;
	RETURN NEW;
END $$;
CREATE TRIGGER metric_chunks_normalize BEFORE INSERT OR UPDATE ON metric_chunks
	FOR EACH ROW WHEN (NEW.n IS NULL) EXECUTE FUNCTION metric_chunks_normalize();

-- The points logged so far, 128 to a chunk in history order.
INSERT INTO metric_chunks (run_uuid, key, steps, timestamps, vals)
SELECT run_uuid, key, array_agg(step ORDER BY o), array_agg(timestamp ORDER BY o),
    array_agg(value ORDER BY o)
FROM (SELECT run_uuid, key, step, timestamp,
	CASE WHEN is_nan THEN 'NaN'::float8 ELSE value END AS value,
	row_number() OVER (PARTITION BY run_uuid, key ORDER BY step, timestamp, value) - 1 AS o
    FROM metrics) p
GROUP BY run_uuid, key, o / 128;
DROP TABLE metrics;

-- Every point, for reads that want them all (a chart of a short history,
-- building a history's block summaries). Reads of part of a history prune on
-- the chunks' columns instead (src/db.h, METRIC_PTS).
CREATE VIEW metrics AS
SELECT c.run_uuid, c.key, m.value, m.timestamp, m.step, m.value = 'NaN'::float8 AS is_nan
FROM metric_chunks c CROSS JOIN LATERAL unnest(c.steps, c.timestamps, c.vals)
    AS m(step, timestamp, value);

ANALYZE metric_chunks;
INSERT INTO schema_migrations (version, name) VALUES (14, '014_metric_chunks');
COMMIT;
