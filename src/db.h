/* db.h: one Postgres connection per worker, every statement prepared at connect from one table. */
#ifndef VERDICT_DB_H
#define VERDICT_DB_H

#include <libpq-fe.h>

#include "util.h"

/* Pieces the statements below share. */
#define ISO_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define SPEC_TASK "coalesce(v.spec->>'task', 'regression')"
#define SPEC_CLASSES "coalesce((v.spec->'classes')::text, '[]')"
/* A prediction object's columns (feedback.c: prediction_json). */
#define PRED_COLS "p.id, v.name, v.version, " ISO_TIME("p.created_at") ", " SPEC_TASK ", " \
	SPEC_CLASSES ", p.inputs::text, p.output::text, p.verified, f.true_number, " \
	"f.true_label, u.username, p.latency_us, coalesce(p.request_id, '') "
#define PRED_FROM "FROM predictions p JOIN model_versions v ON v.id = p.model_version_id " \
	"LEFT JOIN feedback f ON f.prediction_id = p.id AND f.replaced_at IS NULL " \
	"LEFT JOIN users u ON u.id = p.user_id "
/* Quality buckets (and verified rows) in a window of $2 hours, 0 meaning all. */
#define IN_WINDOW(col) "($2::int = 0 OR " col " >= date_trunc('hour', now(), 'UTC') - " \
	"($2::int - 1) * interval '1 hour')"

/* Epoch milliseconds of a timestamptz, as MLflow's API speaks them. */
#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"
/* A model version as MLflow's ModelVersion (run_id left out when there is none). */
#define MV_JSON "jsonb_strip_nulls(jsonb_build_object('name', v.name, 'version', " \
	"v.version::text, 'creation_timestamp', " MS("v.created_at") ", " \
	"'last_updated_timestamp', " MS("v.updated_at") ", 'user_id', coalesce((SELECT " \
	"username FROM users WHERE id = v.created_by), ''), 'current_stage', v.stage, " \
	"'description', v.description, 'source', v.source, 'run_id', v.run_id, 'status', " \
	"v.status, 'status_message', v.status_message, 'tags', coalesce((SELECT " \
	"jsonb_agg(jsonb_build_object('key', t.key, 'value', t.value) ORDER BY t.key) FROM " \
	"model_version_tags t WHERE t.name = v.name AND t.version = v.version), '[]'), " \
	"'aliases', coalesce((SELECT jsonb_agg(a.alias ORDER BY a.alias) FROM model_aliases a " \
	"WHERE a.name = v.name AND a.version = v.version), '[]')))::text"
/* A registered model as MLflow's RegisteredModel: latest version per stage. */
#define RM_JSON "jsonb_build_object('name', m.name, 'creation_timestamp', " \
	MS("m.created_at") ", 'last_updated_timestamp', " MS("m.updated_at") ", 'user_id', " \
	"coalesce((SELECT username FROM users WHERE id = m.created_by), ''), 'description', " \
	"m.description, 'latest_versions', coalesce((SELECT jsonb_agg(" MV_JSON "::jsonb " \
	"ORDER BY v.version) FROM (SELECT DISTINCT ON (stage) * FROM model_versions WHERE " \
	"name = m.name ORDER BY stage, version DESC) v), '[]'), 'tags', coalesce((SELECT " \
	"jsonb_agg(jsonb_build_object('key', t.key, 'value', t.value) ORDER BY t.key) FROM " \
	"registered_model_tags t WHERE t.name = m.name), '[]'), 'aliases', coalesce((SELECT " \
	"jsonb_agg(jsonb_build_object('alias', a.alias, 'version', a.version::text) ORDER BY " \
	"a.alias) FROM model_aliases a WHERE a.name = m.name), '[]'))::text"

/* A metric point that charts count: not NaN, not infinite (NaN sorts above
 * Infinity in Postgres). */
#define FINITE(m) m ".value > '-Infinity' AND " m ".value < 'Infinity'"
/* A NaN point of metric_chunks: a NaN value (Postgres' NaN equals NaN). */
#define IS_NAN(m) "(" m ".value = 'NaN')"
/* The points m(step, timestamp, value) of the chunks c of history ($1 run, $2
 * key) that pass chunk_cond (sql/014_metric_chunks.sql): a part of a history
 * is read from the chunks that can hold it. */
#define METRIC_PTS(chunk_cond) "metric_chunks c CROSS JOIN LATERAL unnest(c.steps, " \
	"c.timestamps, c.vals) AS m(step, timestamp, value) WHERE c.run_uuid = $1 AND " \
	"c.key = $2 AND " chunk_cond
/* Chunks that can hold points with (step, timestamp) above (s, t). */
#define CHUNKS_AFTER(s, t) "(c.step_hi, c.ts_hi) > (" s ", " t ")"
/* latest_metrics upsert: is the batch's point later than the stored one? */
#define LM_NEWER "(EXCLUDED.timestamp, EXCLUDED.value) > (l.timestamp, l.value)"
/* A chart's x bounds ($1 run, $2 key): the first and last points by step, two
 * index probes made once (MATERIALIZED keeps the planner from re-running them). */
#define METRIC_BOUNDS "b AS MATERIALIZED (SELECT f.step_lo AS s0, f.ts_lo AS t0, " \
	"l.step_hi AS s1, l.ts_hi AS t1 FROM (SELECT step_lo, ts_lo FROM metric_chunks WHERE " \
	"run_uuid = $1 AND key = $2 ORDER BY step_lo, ts_lo LIMIT 1) f, (SELECT step_hi, " \
	"ts_hi FROM metric_chunks WHERE run_uuid = $1 AND key = $2 ORDER BY step_hi DESC, " \
	"ts_hi DESC LIMIT 1) l)"
/* x0 and dx of the bounds for $3 = 'step' or 'time'. */
#define METRIC_X0 "CASE WHEN $3 = 'step' THEN b.s0 ELSE least(b.t0, b.t1) END AS x0, " \
	"CASE WHEN $3 = 'step' THEN b.s1 - b.s0 ELSE abs(b.t1 - b.t0) END AS dx"
/* The pixel (0 .. $4 - 1) of an x, clamped. */
#define METRIC_PIXEL(x) "least(greatest(floor((" x " - x0)::float8 * $4::int / " \
	"greatest(dx, 1)), 0), $4::int - 1)::int"
/* Points per block of metric_blocks. */
#define METRIC_BLOCK_POINTS "64"
/* Blocks of p's points (step, timestamp, value, o = 0-based ordinal). */
#define BLOCKS_OF_P "a AS (SELECT o / " METRIC_BLOCK_POINTS " AS block, " \
	"count(*)::int AS n, min(step) AS step_lo, max(step) AS step_hi, min(timestamp) " \
	"AS ts_lo, max(timestamp) AS ts_hi, min(value) AS vmin, max(value) AS vmax, " \
	"sum(value) AS vsum FROM p GROUP BY 1)"
#define BLOCK_COLS "(run_uuid, key, block, n, step_lo, step_hi, ts_lo, ts_hi, vmin, vmax, vsum)"
/* Params, tags or latest metrics (cols) of the runs $1, by run and key. */
#define RUNS_KV(cols, table, extra) "SELECT run_uuid, key, " cols " FROM " table \
	" WHERE run_uuid = ANY($1::text[])" extra " ORDER BY run_uuid, key"
#define LM_COLS "value, timestamp, step, is_nan"
#define RUNS_KEYS_IN " AND key = ANY($2::text[])"
/* The last finite point of $1, $2 by (step, timestamp): the largest of its
 * chunks' last finite points. */
#define LAST_FINITE "(SELECT fin_step AS step, fin_ts AS timestamp FROM metric_chunks " \
	"WHERE run_uuid = $1 AND key = $2 AND fin_step IS NOT NULL ORDER BY fin_step DESC, " \
	"fin_ts DESC LIMIT 1)"

/*
 * The statement table: X(NAME, readonly, "SQL with $1 params"). Each is
 * prepared on every (re)connect; db_exec runs them by enum. readonly
 * statements are retried once on a fresh connection when the old one
 * turns out to be dead (a Postgres restart), others are not.
 */
#define DB_STATEMENTS(X) \
	X(SCHEMA_VERSION, 1, "SELECT coalesce(max(version), 0) FROM schema_migrations") \
	X(PING, 1, "SELECT 1") \
	/* users */ \
	X(USER_INSERT, 0, "INSERT INTO users (username, password_hash, role) " \
	    "VALUES ($1, $2, $3) RETURNING id") \
	X(USER_BY_NAME, 1, "SELECT id, username, password_hash, role, disabled " \
	    "FROM users WHERE lower(username) = lower($1)") \
	X(USER_BY_ID, 1, "SELECT id, username, role, disabled, " \
	    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	    "coalesce(to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), " \
	    "password_hash FROM users WHERE id = $1") \
	X(USER_SET_HASH, 0, "UPDATE users SET password_hash = $2, " \
	    "password_changed_at = now() WHERE id = $1") \
	X(USER_REHASH, 0, "UPDATE users SET password_hash = $2 WHERE id = $1") \
	X(USER_LOGGED_IN, 0, "UPDATE users SET last_login_at = now() WHERE id = $1") \
	X(USER_LIST, 1, "SELECT id, username, role, disabled, " \
	    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), " \
	    "coalesce(to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '') " \
	    "FROM users WHERE $1 = '' OR username ILIKE '%' || $1 || '%' ESCAPE '\\' " \
	    "ORDER BY lower(username) LIMIT $2::int OFFSET $3::int") \
	X(USER_SET_ROLE, 0, "UPDATE users SET role = $2 WHERE id = $1") \
	X(USER_SET_DISABLED, 0, "UPDATE users SET disabled = $2::boolean WHERE id = $1") \
	/* sessions: token_hash is hex(BLAKE2b-256(raw token)) */ \
	X(SESSION_INSERT, 0, "INSERT INTO sessions (token_hash, user_id, expires_at, " \
	    "user_agent, addr) VALUES ($1, $2, now() + $3::int * interval '1 second', " \
	    "$4, $5) RETURNING id") \
	X(SESSION_LOOKUP, 1, "SELECT s.id, u.id, u.username, u.role, " \
	    "extract(epoch FROM now() - s.last_seen_at)::int FROM sessions s " \
	    "JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 " \
	    "AND s.expires_at > now() AND s.last_seen_at > now() - $2::int * " \
	    "interval '1 second' AND NOT u.disabled") \
	X(SESSION_TOUCH, 0, "UPDATE sessions SET last_seen_at = now() WHERE id = $1") \
	X(SESSION_DELETE, 0, "DELETE FROM sessions WHERE token_hash = $1") \
	X(SESSION_DELETE_OWN, 0, "DELETE FROM sessions WHERE id = $1 AND user_id = $2 " \
	    "RETURNING token_hash") \
	X(SESSION_DELETE_OTHERS, 0, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2") \
	X(SESSION_DELETE_USER, 0, "DELETE FROM sessions WHERE user_id = $1") \
	X(SESSION_LIST, 1, "SELECT id, to_char(created_at AT TIME ZONE 'UTC', " \
	    "'YYYY-MM-DD HH24:MI'), to_char(last_seen_at AT TIME ZONE 'UTC', " \
	    "'YYYY-MM-DD HH24:MI'), coalesce(user_agent, ''), coalesce(addr, ''), " \
	    "id = $2 FROM sessions WHERE user_id = $1 AND expires_at > now() " \
	    "ORDER BY last_seen_at DESC LIMIT 100") \
	/* API tokens */ \
	X(TOKEN_INSERT, 0, "INSERT INTO api_tokens (token_hash, user_id, name, expires_at) " \
	    "VALUES ($1, $2, $3, CASE WHEN $4::int > 0 THEN now() + $4::int * " \
	    "interval '1 second' END) RETURNING id") \
	X(TOKEN_LOOKUP, 1, "SELECT t.id, u.id, u.username, u.role FROM api_tokens t " \
	    "JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND " \
	    "t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) " \
	    "AND NOT u.disabled") \
	X(TOKEN_TOUCH, 0, "UPDATE api_tokens SET last_used_at = now() WHERE id = $1 " \
	    "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')") \
	X(TOKEN_LIST, 1, "SELECT id, name, to_char(created_at AT TIME ZONE 'UTC', " \
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(to_char(last_used_at AT TIME ZONE " \
	    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), coalesce(to_char(expires_at AT " \
	    "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), revoked_at IS NOT NULL " \
	    "FROM api_tokens WHERE user_id = $1 ORDER BY id DESC LIMIT 200") \
	X(TOKEN_REVOKE, 0, "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 " \
	    "AND user_id = $2 AND revoked_at IS NULL RETURNING token_hash") \
	/* login throttling: failures in 15 min (per user since its last success) */ \
	X(ATTEMPT_INSERT, 0, "INSERT INTO login_attempts (username, addr, success) " \
	    "VALUES ($1, $2, $3::boolean)") \
	X(ATTEMPT_FAILS, 1, "SELECT " \
	    "(SELECT count(*) FROM login_attempts WHERE username = $1 AND NOT success " \
	    " AND at > greatest(now() - interval '15 minutes', coalesce((SELECT max(at) " \
	    " FROM login_attempts WHERE username = $1 AND success), '-infinity'))), " \
	    "(SELECT coalesce(extract(epoch FROM now() - max(at)), 0) FROM login_attempts " \
	    " WHERE username = $1 AND NOT success), " \
	    "(SELECT count(*) FROM login_attempts WHERE addr = $2 AND NOT success " \
	    " AND at > now() - interval '15 minutes'), " \
	    "(SELECT coalesce(extract(epoch FROM now() - max(at)), 0) FROM login_attempts " \
	    " WHERE addr = $2 AND NOT success)") \
	X(SIGNUPS_BY_ADDR, 1, "SELECT count(*) FROM events WHERE kind = 'signup' " \
	    "AND subject = $1 AND at > now() - interval '1 hour'") \
	X(EVENT_INSERT, 0, "INSERT INTO events (kind, actor_id, subject, detail) " \
	    "VALUES ($1, $2::bigint, $3, coalesce($4::jsonb, '{}'::jsonb))") \
	/* registry: resolution of name + selector to a version id */ \
	X(MODEL_EXISTS, 1, "SELECT 1 FROM registered_models WHERE name = $1") \
	X(MODEL_RESOLVE_VERSION, 1, "SELECT id FROM model_versions WHERE name = $1 " \
	    "AND version = $2::int") \
	X(MODEL_RESOLVE_ALIAS, 1, "SELECT v.id FROM model_aliases a JOIN model_versions v " \
	    "ON v.name = a.name AND v.version = a.version WHERE a.name = $1 AND a.alias = $2") \
	X(MODEL_RESOLVE_STAGE, 1, "SELECT id FROM model_versions WHERE name = $1 " \
	    "AND stage = $2 ORDER BY version DESC LIMIT 1") \
	X(MODEL_RESOLVE_DEFAULT, 1, "SELECT id FROM model_versions WHERE name = $1 " \
	    "AND stage <> 'Archived' AND booster IS NOT NULL ORDER BY (stage = 'Production') " \
	    "DESC, version DESC LIMIT 1") \
	X(MODEL_LOAD, 1, "SELECT name, version, booster, spec::text, booster IS NULL, " \
	    "status_message FROM model_versions WHERE id = $1") \
	X(MODEL_CREATE, 0, "INSERT INTO registered_models (name, description, created_by) " \
	    "VALUES ($1, $2, $3::bigint)") \
	X(MODEL_LIST, 1, "SELECT m.name, m.description, " \
	    "to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	    "(SELECT max(version) FROM model_versions v WHERE v.name = m.name), " \
	    "(SELECT max(version) FROM model_versions v WHERE v.name = m.name " \
	    " AND v.stage = 'Production') FROM registered_models m ORDER BY m.name LIMIT 1000") \
	X(MODEL_VERSIONS, 1, "SELECT version, stage, status, source, coalesce(run_id, ''), " \
	    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	    "num_features, coalesce((SELECT string_agg(alias, ',' ORDER BY alias) FROM " \
	    "model_aliases a WHERE a.name = v.name AND a.version = v.version), '') " \
	    "FROM model_versions v WHERE name = $1 ORDER BY version DESC") \
	X(MODEL_GET, 1, "SELECT name, description FROM registered_models WHERE name = $1") \
	X(VERSION_SPEC, 1, "SELECT spec::text, stage, coalesce(run_id, ''), " \
	    "coalesce(num_features, 0) FROM model_versions WHERE name = $1 AND version = $2::int") \
	X(VERSION_INSERT, 0, "INSERT INTO model_versions (name, version, source, run_id, " \
	    "booster, booster_format, spec, num_features, created_by, description, " \
	    "status_message) SELECT $1, coalesce(max(version), 0) + 1, $2, nullif($3, ''), " \
	    "$4::bytea, $5, $6::jsonb, $7::int, $8::bigint, coalesce($9, ''), coalesce($10, '') " \
	    "FROM model_versions WHERE name = $1 RETURNING version") \
	X(MODEL_LOCK, 0, "SELECT 1 FROM registered_models WHERE name = $1 FOR UPDATE") \
	X(VERSION_STAGE_GET, 0, "SELECT stage FROM model_versions WHERE name = $1 " \
	    "AND version = $2::int FOR UPDATE") \
	X(VERSION_SET_STAGE, 0, "UPDATE model_versions SET stage = $3, updated_at = now() " \
	    "WHERE name = $1 AND version = $2::int") \
	X(VERSION_ARCHIVE_OTHERS, 0, "UPDATE model_versions SET stage = 'Archived', " \
	    "updated_at = now() WHERE name = $1 AND version <> $2::int AND stage = $3 " \
	    "RETURNING version") \
	X(ALIAS_SET, 0, "INSERT INTO model_aliases (name, alias, version) VALUES ($1, $2, " \
	    "$3::int) ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version") \
	X(ALIAS_DELETE, 0, "DELETE FROM model_aliases WHERE name = $1 AND alias = $2 " \
	    "RETURNING version") \
	/* registry: HTML pages */ \
	X(MODEL_LIST_PAGE, 1, "SELECT m.name, m.description, " \
	    "(SELECT max(version) FROM model_versions v WHERE v.name = m.name), " \
	    "s.version, s.stage, " \
	    "(SELECT coalesce(sum(q.predictions), 0) FROM quality_hourly q JOIN model_versions v " \
	    " ON v.id = q.model_version_id WHERE v.name = m.name AND q.hour >= " \
	    " date_trunc('hour', now(), 'UTC') - interval '23 hours') " \
	    "FROM registered_models m LEFT JOIN LATERAL (SELECT version, stage FROM model_versions v " \
	    " WHERE v.name = m.name AND stage <> 'Archived' " \
	    " ORDER BY (stage = 'Production') DESC, version DESC LIMIT 1) s ON true " \
	    "ORDER BY m.name LIMIT 1000") \
	X(VERSION_DETAIL, 1, "SELECT stage, booster_format, num_features, " \
	    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), source, " \
	    "coalesce(run_id, ''), octet_length(booster), spec::text, " \
	    "coalesce((SELECT string_agg(alias, ',' ORDER BY alias) FROM model_aliases a " \
	    "WHERE a.name = v.name AND a.version = v.version), ''), v.status_message " \
	    "FROM model_versions v WHERE name = $1 AND version = $2::int") \
	X(VERSION_BOOSTER, 1, "SELECT booster, booster_format FROM model_versions " \
	    "WHERE name = $1 AND version = $2::int") \
	X(TRANSITION_INSERT, 0, "INSERT INTO model_transitions (name, version, what, " \
	    "from_value, to_value, actor_id) VALUES ($1, $2::int, $3, $4, $5, $6::bigint)") \
	/* feedback: a batch locks its predictions, then reads their current truths */ \
	X(FEEDBACK_LOCK, 0, "SELECT p.id, p.created_at::text, " \
	    "date_trunc('hour', p.created_at, 'UTC')::text, p.model_version_id, p.output::text, " \
	    SPEC_TASK ", " SPEC_CLASSES ", v.name FROM predictions p JOIN model_versions v " \
	    "ON v.id = p.model_version_id WHERE p.id = ANY($1::bigint[]) ORDER BY p.id " \
	    "FOR UPDATE OF p") \
	X(FEEDBACK_CURRENT, 0, "SELECT prediction_id, id, true_number, true_label, " \
	    "coalesce(user_id, 0) FROM feedback WHERE prediction_id = ANY($1::bigint[]) " \
	    "AND replaced_at IS NULL") \
	X(FEEDBACK_REPLACE, 0, "UPDATE feedback SET replaced_at = now() " \
	    "WHERE id = ANY($1::bigint[])") \
	X(FEEDBACK_INSERT, 0, "INSERT INTO feedback (prediction_id, prediction_at, " \
	    "model_version_id, true_number, true_label, score, user_id, source) " \
	    "SELECT u.p, u.t, u.v, u.n, u.l, u.s, nullif($7::bigint, 0), $8 FROM " \
	    "unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::float8[], $5::text[], " \
	    "$6::float8[]) AS u (p, t, v, n, l, s)") \
	X(PREDICTION_VERIFIED, 0, "UPDATE predictions SET verified = true " \
	    "WHERE id = ANY($1::bigint[]) AND NOT verified") \
	X(QUALITY_ADD, 0, "INSERT INTO quality_hourly AS q (model_version_id, hour, verified, " \
	    "sum_err, sum_abs_err, sum_sq_err, sum_y, sum_y2, correct, sum_logloss) " \
	    "SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::float8[], " \
	    "$5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::bigint[], $10::float8[]) " \
	    "ON CONFLICT (model_version_id, hour) DO UPDATE SET " \
	    "verified = q.verified + EXCLUDED.verified, sum_err = q.sum_err + EXCLUDED.sum_err, " \
	    "sum_abs_err = q.sum_abs_err + EXCLUDED.sum_abs_err, " \
	    "sum_sq_err = q.sum_sq_err + EXCLUDED.sum_sq_err, sum_y = q.sum_y + EXCLUDED.sum_y, " \
	    "sum_y2 = q.sum_y2 + EXCLUDED.sum_y2, correct = q.correct + EXCLUDED.correct, " \
	    "sum_logloss = q.sum_logloss + EXCLUDED.sum_logloss") \
	X(CONFUSION_ADD, 0, "INSERT INTO quality_confusion AS q (model_version_id, hour, " \
	    "actual, predicted, n) SELECT * FROM unnest($1::bigint[], $2::timestamptz[], " \
	    "$3::text[], $4::text[], $5::bigint[]) ON CONFLICT (model_version_id, hour, actual, " \
	    "predicted) DO UPDATE SET n = q.n + EXCLUDED.n") \
	/* a version with unverified predictions (weighted by how many) and their id range */ \
	X(FEEDBACK_PICK_VERSION, 1, "WITH v AS (SELECT id FROM model_versions WHERE name = $1 " \
	    "AND ($2::int = 0 OR version = $2::int)), c AS (SELECT q.model_version_id AS id, " \
	    "sum(q.predictions - q.verified) AS w FROM quality_hourly q WHERE " \
	    "q.model_version_id IN (SELECT id FROM v) GROUP BY 1 " \
	    "HAVING sum(q.predictions - q.verified) > 0) " \
	    "SELECT pk.id, (SELECT min(p.id) FROM predictions p WHERE p.model_version_id = pk.id " \
	    "AND NOT p.verified), (SELECT max(p.id) FROM predictions p WHERE " \
	    "p.model_version_id = pk.id AND NOT p.verified) FROM (SELECT 1) one LEFT JOIN LATERAL " \
	    "(SELECT id FROM c ORDER BY -ln(1 - random()) / w LIMIT 1) pk ON true " \
	    "WHERE EXISTS (SELECT 1 FROM v)") \
	X(FEEDBACK_NEXT, 1, "SELECT " PRED_COLS PRED_FROM "WHERE p.id = (SELECT coalesce(" \
	    "(SELECT id FROM predictions WHERE model_version_id = $1::bigint AND NOT verified " \
	    "AND id >= $2::bigint ORDER BY id LIMIT 1), (SELECT id FROM predictions WHERE " \
	    "model_version_id = $1::bigint AND NOT verified AND id < $2::bigint " \
	    "ORDER BY id DESC LIMIT 1)))") \
	X(PREDICTION_LIST, 1, "SELECT " PRED_COLS PRED_FROM "WHERE ($1 = '' OR v.name = $1) " \
	    "AND ($2::int = 0 OR v.version = $2::int) AND ($3::int < 0 OR p.verified = " \
	    "($3::int = 1)) AND ($4::timestamptz IS NULL OR p.created_at >= $4::timestamptz) " \
	    "AND ($5::timestamptz IS NULL OR p.created_at < $5::timestamptz) " \
	    "AND ($7::bigint = 0 OR p.id < $7::bigint) ORDER BY p.id DESC LIMIT $6::int") \
	X(PREDICTION_GET, 1, "SELECT " PRED_COLS PRED_FROM "WHERE p.id = $1::bigint") \
	X(FEEDBACK_HISTORY, 1, "SELECT f.true_number, f.true_label, u.username, f.source, " \
	    ISO_TIME("f.created_at") ", f.replaced_at IS NULL FROM feedback f " \
	    "LEFT JOIN users u ON u.id = f.user_id WHERE f.prediction_id = $1::bigint " \
	    "ORDER BY f.id") \
	/* live quality: hourly buckets summed over a window of $2 hours (0: all) */ \
	X(QUALITY_VERSIONS, 1, "SELECT id, version, stage, " SPEC_TASK ", " SPEC_CLASSES \
	    ", coalesce(run_id, '') FROM model_versions v WHERE name = $1 " \
	    "ORDER BY version DESC") \
	X(QUALITY_DAILY, 1, "SELECT q.model_version_id, to_char(date_trunc('day', q.hour, " \
	    "'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sum(q.predictions), sum(q.verified), " \
	    "sum(q.sum_err), sum(q.sum_abs_err), sum(q.sum_sq_err), sum(q.sum_y), " \
	    "sum(q.sum_y2), sum(q.correct), sum(q.sum_logloss) FROM quality_hourly q " \
	    "JOIN model_versions v ON v.id = q.model_version_id WHERE v.name = $1 AND " \
	    IN_WINDOW("q.hour") " GROUP BY 1, 2 ORDER BY 1, 2") \
	X(QUALITY_CONFUSION, 1, "SELECT c.model_version_id, c.actual, c.predicted, sum(c.n) " \
	    "FROM quality_confusion c JOIN model_versions v ON v.id = c.model_version_id " \
	    "WHERE v.name = $1 AND " IN_WINDOW("c.hour") " GROUP BY 1, 2, 3") \
	X(QUALITY_POINTS, 1, "SELECT x.model_version_id, x.score, x.true_number FROM " \
	    "model_versions v CROSS JOIN LATERAL (SELECT f.model_version_id, f.score, " \
	    "f.true_number, f.prediction_at FROM feedback f WHERE f.model_version_id = v.id " \
	    "AND f.replaced_at IS NULL AND f.true_number IS NOT NULL AND " \
	    IN_WINDOW("f.prediction_at") " ORDER BY f.prediction_at DESC LIMIT 500) x " \
	    "WHERE v.name = $1 AND v.spec->>'task' = 'regression'") \
	X(QUALITY_SCORES, 1, "SELECT f.score, f.true_label = $3 FROM feedback f " \
	    "WHERE f.model_version_id = $1::bigint AND f.replaced_at IS NULL AND " \
	    "f.score IS NOT NULL AND " IN_WINDOW("f.prediction_at") \
	    " ORDER BY f.prediction_at DESC LIMIT $4::int") \
	/* /metrics */ \
	X(METRICS_VERSIONS, 1, "SELECT id, name, version FROM model_versions " \
	    "WHERE id = ANY($1::bigint[]) ORDER BY name, version") \
	X(METRICS_DRIFT, 1, "SELECT DISTINCT ON (r.model_version_id) v.name, v.version, " \
	    "r.detail::text FROM drift_reports r JOIN model_versions v ON v.id = " \
	    "r.model_version_id WHERE v.stage <> 'Archived' ORDER BY r.model_version_id, r.id DESC") \
	X(METRICS_QUALITY, 1, "SELECT v.name, v.version, w.name, " SPEC_TASK ", " \
	    "sum(q.verified), sum(q.sum_err), sum(q.sum_abs_err), sum(q.sum_sq_err), " \
	    "sum(q.correct), sum(q.sum_logloss) FROM model_versions v JOIN quality_hourly q " \
	    "ON q.model_version_id = v.id JOIN (VALUES ('24h', 24), ('7d', 168), " \
	    "('30d', 720), ('all', 0)) w (name, hours) ON (w.hours = 0 OR q.hour >= " \
	    "date_trunc('hour', now(), 'UTC') - (w.hours - 1) * interval '1 hour') " \
	    "WHERE v.stage <> 'Archived' GROUP BY 1, 2, 3, 4 HAVING sum(q.verified) > 0 " \
	    "ORDER BY 1, 2, 3") \
	/* webhooks: subscriptions (admin API) */ \
	X(WEBHOOK_INSERT, 0, "INSERT INTO webhooks (url, secret, events, model, quality_metric, " \
	    "quality_threshold, quality_window, created_by) VALUES ($1, $2, $3::text[], " \
	    "nullif($4, ''), nullif($5, ''), $6::float8, $7, nullif($8::bigint, 0)) RETURNING id") \
	X(WEBHOOK_LIST, 1, "SELECT id, url, array_to_json(events)::text, coalesce(model, ''), " \
	    "coalesce(quality_metric, ''), quality_threshold, quality_window, quality_breached, " \
	    "enabled, " ISO_TIME("created_at") ", (SELECT count(*) FROM webhook_deliveries d " \
	    "WHERE d.webhook_id = w.id AND d.status = 'pending'), (SELECT count(*) FROM " \
	    "webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'failed') " \
	    "FROM webhooks w ORDER BY id") \
	X(WEBHOOK_DELETE, 0, "DELETE FROM webhooks WHERE id = $1::bigint RETURNING id") \
	X(WEBHOOK_DELIVERIES, 1, "SELECT id, event_id, kind, status, attempts, last_code, " \
	    "coalesce(last_error, ''), " ISO_TIME("created_at") ", coalesce(" \
	    ISO_TIME("finished_at") ", ''), body FROM webhook_deliveries WHERE webhook_id = " \
	    "$1::bigint ORDER BY id DESC LIMIT 200") \
	/* webhooks: the delivery worker. Fan-out rescans the last 500 event ids so an event \
	 * whose id was drawn before a later one committed is not skipped; the unique \
	 * (webhook, event) pair keeps that idempotent. */ \
	X(WEBHOOK_FANOUT, 0, "WITH c AS (SELECT last_event_id FROM webhook_cursor FOR UPDATE " \
	    "SKIP LOCKED), e AS (SELECT ev.id, ev.kind, ev.subject, ev.detail, ev.at FROM events " \
	    "ev, c WHERE ev.id > c.last_event_id - 500 AND ev.kind = ANY($1::text[]) " \
	    "ORDER BY ev.id LIMIT 2000), ins AS (INSERT INTO webhook_deliveries (webhook_id, " \
	    "event_id, kind, body) SELECT w.id, e.id, e.kind, jsonb_build_object('id', e.id, " \
	    "'event', e.kind, 'at', " ISO_TIME("e.at") ", 'model', e.subject, 'detail', " \
	    "e.detail)::text FROM e JOIN webhooks w ON w.enabled AND (e.kind = ANY(w.events) " \
	    "OR '*' = ANY(w.events)) AND (w.model IS NULL OR w.model = e.subject) " \
	    "ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING 1) " \
	    "UPDATE webhook_cursor SET last_event_id = greatest(last_event_id, " \
	    "(SELECT coalesce(max(id), 0) FROM e)) WHERE EXISTS (SELECT 1 FROM c) " \
	    "RETURNING (SELECT count(*) FROM ins)") \
	X(WEBHOOK_DUE, 0, "SELECT d.id, d.body, d.kind, d.attempts, w.url, w.secret " \
	    "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id " \
	    "WHERE d.status = 'pending' AND d.next_attempt_at <= now() " \
	    "ORDER BY d.next_attempt_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED") \
	X(WEBHOOK_DONE, 0, "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, " \
	    "last_code = nullif($3::int, 0), last_error = nullif($4, ''), next_attempt_at = " \
	    "now() + $5::bigint * interval '1 millisecond', finished_at = CASE WHEN $2 = " \
	    "'pending' THEN NULL ELSE now() END WHERE id = $1::bigint") \
	/* quality alerts: each subscribed webhook's metric over its window, per version */ \
	X(WEBHOOK_QUALITY, 0, "SELECT w.id, w.quality_metric, w.quality_threshold, " \
	    "w.quality_breached, v.name, v.version, sum(q.verified), sum(q.sum_err), " \
	    "sum(q.sum_abs_err), sum(q.sum_sq_err), sum(q.correct), sum(q.sum_logloss) " \
	    "FROM webhooks w JOIN model_versions v ON v.name = w.model AND v.stage <> 'Archived' " \
	    "JOIN quality_hourly q ON q.model_version_id = v.id AND (w.quality_window = 'all' " \
	    "OR q.hour >= date_trunc('hour', now(), 'UTC') - (CASE w.quality_window WHEN '24h' " \
	    "THEN 23 WHEN '7d' THEN 167 ELSE 719 END) * interval '1 hour') " \
	    "WHERE w.enabled AND w.quality_metric IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 " \
	    "HAVING sum(q.verified) > 0 ORDER BY 1, 6 DESC") \
	X(WEBHOOK_BREACHED, 0, "UPDATE webhooks SET quality_breached = $2::boolean " \
	    "WHERE id = $1::bigint") \
	X(WEBHOOK_DIRECT, 0, "INSERT INTO webhook_deliveries (webhook_id, event_id, kind, body) " \
	    "SELECT $1::bigint, $2::bigint, $3, jsonb_build_object('id', e.id, 'event', e.kind, " \
	    "'at', " ISO_TIME("e.at") ", 'model', e.subject, 'detail', e.detail)::text " \
	    "FROM events e WHERE e.id = $2::bigint") \
	/* the dashboard */ \
	X(DASH_HOURLY, 1, "SELECT v.name, (extract(epoch FROM date_trunc('hour', now(), 'UTC') - " \
	    "q.hour) / 3600)::int, sum(q.predictions) FROM quality_hourly q JOIN model_versions v " \
	    "ON v.id = q.model_version_id WHERE q.hour >= date_trunc('hour', now(), 'UTC') - " \
	    "interval '23 hours' GROUP BY 1, 2") \
	X(DASH_QUALITY, 1, "SELECT v.name, v.version, v.id, " SPEC_TASK ", sum(q.predictions), " \
	    "sum(q.verified), sum(q.sum_abs_err), sum(q.sum_sq_err), sum(q.correct) " \
	    "FROM quality_hourly q JOIN model_versions v ON v.id = q.model_version_id " \
	    "WHERE q.hour >= date_trunc('hour', now(), 'UTC') - interval '167 hours' " \
	    "GROUP BY 1, 2, 3, 4") \
	X(DASH_DRIFT, 1, "SELECT DISTINCT ON (v.name) v.name, r.dataset_drift, r.share, " \
	    ISO_TIME("r.created_at") " FROM drift_reports r JOIN model_versions v " \
	    "ON v.id = r.model_version_id ORDER BY v.name, r.id DESC") \
	X(DASH_VERSION_IDS, 1, "SELECT name, id FROM model_versions ORDER BY name") \
	X(DASH_EVENTS, 1, "SELECT e.kind, coalesce(e.subject, ''), " ISO_TIME("e.at") ", " \
	    "coalesce(u.username, ''), e.detail::text FROM events e LEFT JOIN users u " \
	    "ON u.id = e.actor_id WHERE e.kind IN ('model.stage', 'drift.detected', " \
	    "'retrain.result', 'quality.below') ORDER BY e.id DESC LIMIT 15") \
	/* permissions (MLflow's auth model) */ \
	X(PERM_MODEL, 1, "SELECT permission FROM registered_model_permissions WHERE name = $1 " \
	    "AND user_id = $2::bigint") \
	X(PERM_EXPERIMENT, 1, "SELECT permission FROM experiment_permissions " \
	    "WHERE experiment_id = $1::bigint AND user_id = $2::bigint") \
	X(PERM_RUN_EXPERIMENT, 1, "SELECT experiment_id FROM runs WHERE run_uuid = $1") \
	X(PERM_MODEL_SET, 0, "INSERT INTO registered_model_permissions (name, user_id, " \
	    "permission) VALUES ($1, $2::bigint, $3) ON CONFLICT (name, user_id) DO UPDATE " \
	    "SET permission = EXCLUDED.permission") \
	X(PERM_EXPERIMENT_SET, 0, "INSERT INTO experiment_permissions (experiment_id, user_id, " \
	    "permission) VALUES ($1::bigint, $2::bigint, $3) ON CONFLICT (experiment_id, " \
	    "user_id) DO UPDATE SET permission = EXCLUDED.permission") \
	X(PERM_MODEL_DELETE, 0, "DELETE FROM registered_model_permissions WHERE name = $1 " \
	    "AND user_id = $2::bigint RETURNING 1") \
	X(PERM_EXPERIMENT_DELETE, 0, "DELETE FROM experiment_permissions WHERE experiment_id = " \
	    "$1::bigint AND user_id = $2::bigint RETURNING 1") \
	X(PERM_OF_USER, 1, "SELECT 'e', experiment_id::text, permission FROM " \
	    "experiment_permissions WHERE user_id = $1::bigint UNION ALL SELECT 'm', name, " \
	    "permission FROM registered_model_permissions WHERE user_id = $1::bigint " \
	    "ORDER BY 1, 2") \
	X(USER_DELETE, 0, "DELETE FROM users WHERE id = $1::bigint") \
	X(EXPERIMENT_EXISTS, 1, "SELECT 1 FROM experiments WHERE experiment_id = $1::bigint") \
	X(EVENT_INSERT_ID, 0, "INSERT INTO events (kind, actor_id, subject, detail) " \
	    "VALUES ($1, $2::bigint, $3, coalesce($4::jsonb, '{}'::jsonb)) RETURNING id") \
	/* tracking (MLflow): experiments */ \
	X(EXP_INSERT, 0, "WITH n AS (SELECT nextval('experiments_experiment_id_seq') AS id) " \
	    "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, " \
	    "last_update_time, created_by) SELECT id, $1, CASE WHEN $2 = '' THEN " \
	    "'mlflow-artifacts:/' || id ELSE $2 END, $3::bigint, $3::bigint, $4::bigint " \
	    "FROM n RETURNING experiment_id") \
	X(EXP_GET, 1, "SELECT experiment_id, name, artifact_location, lifecycle_stage, " \
	    "creation_time, last_update_time FROM experiments WHERE experiment_id = $1::bigint") \
	X(EXP_GET_FOR_UPDATE, 0, "SELECT experiment_id, name, artifact_location, " \
	    "lifecycle_stage, creation_time, last_update_time FROM experiments " \
	    "WHERE experiment_id = $1::bigint FOR UPDATE") \
	X(EXP_BY_NAME, 1, "SELECT experiment_id, name, artifact_location, lifecycle_stage, " \
	    "creation_time, last_update_time FROM experiments WHERE name = $1") \
	X(EXP_BY_IDS, 1, "SELECT experiment_id, name, artifact_location, lifecycle_stage, " \
	    "creation_time, last_update_time FROM experiments " \
	    "WHERE experiment_id = ANY($1::bigint[])") \
	X(EXP_TAGS, 1, "SELECT experiment_id, key, value FROM experiment_tags " \
	    "WHERE experiment_id = ANY($1::bigint[]) ORDER BY experiment_id, key") \
	X(EXP_RENAME, 0, "UPDATE experiments SET name = $2, last_update_time = $3::bigint " \
	    "WHERE experiment_id = $1::bigint") \
	X(EXP_SET_STAGE, 0, "UPDATE experiments SET lifecycle_stage = $2, " \
	    "last_update_time = $3::bigint WHERE experiment_id = $1::bigint") \
	X(EXP_TAG_SET, 0, "INSERT INTO experiment_tags (experiment_id, key, value) " \
	    "VALUES ($1::bigint, $2, $3) ON CONFLICT (experiment_id, key) " \
	    "DO UPDATE SET value = EXCLUDED.value") \
	X(EXP_TAG_DELETE, 0, "DELETE FROM experiment_tags WHERE experiment_id = $1::bigint " \
	    "AND key = $2") \
	X(EXP_RUNS_DELETE, 0, "UPDATE runs SET lifecycle_stage = 'deleted', " \
	    "deleted_time = $2::bigint WHERE experiment_id = $1::bigint " \
	    "AND lifecycle_stage = 'active'") \
	X(EXP_RUNS_RESTORE, 0, "UPDATE runs SET lifecycle_stage = 'active', " \
	    "deleted_time = NULL WHERE experiment_id = $1::bigint " \
	    "AND lifecycle_stage = 'deleted' AND deleted_time = $2::bigint") \
	/* tracking: runs */ \
	X(RUN_INSERT, 0, "INSERT INTO runs (run_uuid, experiment_id, name, user_id, " \
	    "start_time, artifact_uri) VALUES ($1, $2::bigint, $3, $4, $5::bigint, $6)") \
	X(RUN_STATE, 0, "SELECT lifecycle_stage, experiment_id FROM runs WHERE run_uuid = $1") \
	X(RUN_UPDATE, 0, "UPDATE runs SET status = coalesce($2, status), " \
	    "end_time = coalesce($3::bigint, end_time), name = coalesce($4, name) " \
	    "WHERE run_uuid = $1") \
	X(RUN_SET_STAGE, 0, "UPDATE runs SET lifecycle_stage = $2, deleted_time = $3::bigint " \
	    "WHERE run_uuid = $1") \
	X(RUNS_BY_IDS, 1, "SELECT run_uuid, experiment_id, name, user_id, status, " \
	    "start_time, end_time, lifecycle_stage, artifact_uri FROM runs " \
	    "WHERE run_uuid = ANY($1::text[])") \
	X(RUNS_PARAMS, 1, RUNS_KV("value", "params", "")) \
	X(RUNS_TAGS, 1, RUNS_KV("value", "tags", "")) \
	X(RUNS_METRICS, 1, RUNS_KV(LM_COLS, "latest_metrics", "")) \
	/* The same for the keys $2 only (the columns of a runs table). */ \
	X(RUNS_PARAMS_OF, 1, RUNS_KV("value", "params", RUNS_KEYS_IN)) \
	X(RUNS_TAGS_OF, 1, RUNS_KV("value", "tags", RUNS_KEYS_IN)) \
	X(RUNS_METRICS_OF, 1, RUNS_KV(LM_COLS, "latest_metrics", RUNS_KEYS_IN)) \
	/* Every key the runs $1 have, by kind (0 params, 1 metrics, 2 tags): index-only. */ \
	X(RUNS_KEYS, 1, "SELECT k, key FROM (SELECT DISTINCT 0 AS k, key FROM params WHERE " \
	    "run_uuid = ANY($1::text[]) UNION ALL SELECT DISTINCT 1, key FROM latest_metrics " \
	    "WHERE run_uuid = ANY($1::text[]) UNION ALL SELECT DISTINCT 2, key FROM tags " \
	    "WHERE run_uuid = ANY($1::text[])) u ORDER BY k, key COLLATE \"C\"") \
	X(RUNS_INPUTS, 1, "SELECT i.run_uuid, d.name, d.digest, d.source_type, d.source, " \
	    "d.schema, d.profile, coalesce((SELECT json_agg(json_build_object('key', t.key, " \
	    "'value', t.value) ORDER BY t.key) FROM input_tags t WHERE t.run_uuid = " \
	    "i.run_uuid AND t.dataset_id = i.dataset_id)::text, '[]') FROM inputs i " \
	    "JOIN datasets d ON d.dataset_id = i.dataset_id " \
	    "WHERE i.run_uuid = ANY($1::text[]) ORDER BY i.run_uuid, d.dataset_id") \
	X(TAG_DELETE, 0, "DELETE FROM tags WHERE run_uuid = $1 AND key = $2") \
	/* tracking: writes of one batch, arrays unnested in one statement each */ \
	X(PARAMS_INSERT, 0, "INSERT INTO params (run_uuid, key, value) SELECT $1, k, v " \
	    "FROM unnest($2::text[], $3::text[]) AS t(k, v) ON CONFLICT (run_uuid, key) " \
	    "DO NOTHING") \
	X(PARAMS_GET, 0, "SELECT key, value FROM params WHERE run_uuid = $1 " \
	    "AND key = ANY($2::text[])") \
	X(TAGS_UPSERT, 0, "INSERT INTO tags (run_uuid, key, value) SELECT $1, k, v " \
	    "FROM unnest($2::text[], $3::text[]) AS t(k, v) ON CONFLICT (run_uuid, key) " \
	    "DO UPDATE SET value = EXCLUDED.value") \
	/* Per key of a batch (whose points went in by COPY): the latest point and the \
	 * count of finite points. n grows on every batch, the rest only when the batch \
	 * holds a later point (timestamp, then value), so every column goes through a CASE. */ \
	X(LATEST_UPSERT, 0, "INSERT INTO latest_metrics AS l (run_uuid, key, value, timestamp, " \
	    "step, is_nan, n, experiment_id, run_stage, run_start) SELECT $1, k, v, ts, st, nan, " \
	    "cnt, r.experiment_id, r.lifecycle_stage, r.start_time FROM unnest($2::text[], " \
	    "$3::float8[], $4::bigint[], $5::bigint[], $6::bool[], $7::bigint[]) AS " \
	    "t(k, v, ts, st, nan, cnt), runs r WHERE r.run_uuid = $1 " \
	    "ON CONFLICT (run_uuid, key) DO UPDATE SET n = l.n + EXCLUDED.n, " \
	    "value = CASE WHEN " LM_NEWER " THEN EXCLUDED.value ELSE l.value END, " \
	    "timestamp = CASE WHEN " LM_NEWER " THEN EXCLUDED.timestamp ELSE l.timestamp END, " \
	    "step = CASE WHEN " LM_NEWER " THEN EXCLUDED.step ELSE l.step END, " \
	    "is_nan = CASE WHEN " LM_NEWER " THEN EXCLUDED.is_nan ELSE l.is_nan END") \
	X(DATASET_UPSERT, 0, "INSERT INTO datasets (experiment_id, name, digest, source_type, " \
	    "source, schema, profile) VALUES ($1::bigint, $2, $3, $4, $5, $6, $7) " \
	    "ON CONFLICT (experiment_id, name, digest) DO UPDATE SET name = EXCLUDED.name " \
	    "RETURNING dataset_id") \
	X(INPUT_INSERT, 0, "INSERT INTO inputs (run_uuid, dataset_id) VALUES ($1, $2::bigint) " \
	    "ON CONFLICT DO NOTHING") \
	X(INPUT_TAG_SET, 0, "INSERT INTO input_tags (run_uuid, dataset_id, key, value) " \
	    "VALUES ($1, $2::bigint, $3, $4) ON CONFLICT (run_uuid, dataset_id, key) " \
	    "DO UPDATE SET value = EXCLUDED.value") \
	/* tracking pages: the experiments list with active run counts and the newest run */ \
	X(EXP_OVERVIEW, 1, "SELECT e.experiment_id, e.name, e.lifecycle_stage, e.creation_time, " \
	    "greatest(e.last_update_time, coalesce((SELECT max(r.start_time) FROM runs r " \
	    "WHERE r.experiment_id = e.experiment_id), 0)), (SELECT count(*) FROM runs r " \
	    "WHERE r.experiment_id = e.experiment_id AND r.lifecycle_stage = 'active') " \
	    "FROM experiments e WHERE e.lifecycle_stage = ANY($1::text[]) AND ($2 = '' OR " \
	    "e.name ILIKE '%' || $2 || '%' ESCAPE '\\') " \
	    "ORDER BY e.last_update_time DESC, e.experiment_id DESC LIMIT $3::int") \
	X(RUN_MODEL_VERSIONS, 1, "SELECT name, version, stage FROM model_versions " \
	    "WHERE run_id = $1 ORDER BY name, version") \
	/* Per-pixel aggregation of one history: $3 'step' or 'time' picks x, $4 buckets. \
	 * The bucket bounds come from the first and last points by step (METRIC_BOUNDS); \
	 * points outside them (timestamps out of step order) are clamped into the edge \
	 * buckets, and each bucket reports its own exact x range. Below \
	 * chart_summary_min_points the chart reads every point this way. */ \
	X(METRIC_BUCKETS, 1, "WITH " METRIC_BOUNDS ", p AS (SELECT CASE WHEN $3 = 'step' " \
	    "THEN m.step ELSE m.timestamp END AS x, " METRIC_X0 ", m.value " \
	    "FROM metrics m, b WHERE m.run_uuid = $1 AND m.key = $2 AND " FINITE("m") ") " \
	    "SELECT " METRIC_PIXEL("x") " AS k, min(x), max(x), min(value), max(value), " \
	    "avg(value), count(*) FROM p GROUP BY k ORDER BY k") \
	/* Larger histories are drawn from their blocks (sql/012_metric_blocks.sql): \
	 * the same bounds and output, each block in the pixel of its x midpoint. */ \
	X(METRIC_BLOCK_BUCKETS, 1, "WITH " METRIC_BOUNDS ", p AS (SELECT CASE WHEN " \
	    "$3 = 'step' THEN (k.step_lo::float8 + k.step_hi) / 2 ELSE (k.ts_lo::float8 + " \
	    "k.ts_hi) / 2 END AS x, CASE WHEN $3 = 'step' THEN k.step_lo ELSE k.ts_lo END " \
	    "AS xlo, CASE WHEN $3 = 'step' THEN k.step_hi ELSE k.ts_hi END AS xhi, " \
	    METRIC_X0 ", k.n, k.vmin, k.vmax, k.vsum FROM metric_blocks k, b " \
	    "WHERE k.run_uuid = $1 AND k.key = $2) " \
	    "SELECT " METRIC_PIXEL("x") " AS k, min(xlo), max(xhi), min(vmin), max(vmax), " \
	    "sum(vsum) / sum(n), sum(n) FROM p GROUP BY k ORDER BY k") \
	/* Refreshes of one (run, key) serialize on this lock; a loser draws exactly. */ \
	X(METRIC_SUMMARY_LOCK, 0, "SELECT pg_try_advisory_xact_lock(hashtext('verdict.chart'), " \
	    "hashtext($1 || ' ' || $2))") \
	/* The summary's state: the finite points logged, those the blocks cover and \
	 * those past the covered ones (an index range count, empty when current): \
	 * covered + past = logged means nothing landed inside the covered range. */ \
	X(METRIC_SUMMARY_STATE, 1, "SELECT l.n, s.n, (SELECT count(*) FROM " \
	    METRIC_PTS(CHUNKS_AFTER("s.last_step", "s.last_ts")) " AND (m.step, m.timestamp) > " \
	    "(s.last_step, s.last_ts) AND " FINITE("m") ") FROM latest_metrics l " \
	    "LEFT JOIN metric_summaries s ON s.run_uuid = l.run_uuid AND s.key = l.key " \
	    "WHERE l.run_uuid = $1 AND l.key = $2") \
	/* Summarizes the points past the covered ones, numbering them on from the \
	 * covered count: the first of them fill the last, partial block (its aggregates \
	 * merged with theirs), the rest make new blocks. */ \
	X(METRIC_BLOCKS_APPEND, 0, "WITH s AS (SELECT n, last_step, last_ts FROM " \
	    "metric_summaries WHERE run_uuid = $1 AND key = $2), p AS (SELECT m.step, " \
	    "m.timestamp, m.value, s.n - 1 + row_number() OVER (ORDER BY m.step, m.timestamp, " \
	    "m.value) AS o FROM s, " METRIC_PTS(CHUNKS_AFTER("s.last_step", "s.last_ts")) \
	    " AND (m.step, m.timestamp) > (s.last_step, s.last_ts) AND " FINITE("m") "), " \
	    BLOCKS_OF_P ", w AS (INSERT INTO metric_blocks AS b " BLOCK_COLS " SELECT $1, $2, " \
	    "a.* FROM a ON CONFLICT (run_uuid, key, block) DO UPDATE SET n = b.n + EXCLUDED.n, " \
	    "step_lo = least(b.step_lo, EXCLUDED.step_lo), step_hi = greatest(b.step_hi, " \
	    "EXCLUDED.step_hi), ts_lo = least(b.ts_lo, EXCLUDED.ts_lo), ts_hi = greatest(" \
	    "b.ts_hi, EXCLUDED.ts_hi), vmin = least(b.vmin, EXCLUDED.vmin), vmax = greatest(" \
	    "b.vmax, EXCLUDED.vmax), vsum = b.vsum + EXCLUDED.vsum) " \
	    "UPDATE metric_summaries u SET n = u.n + (SELECT coalesce(sum(n), 0) FROM a), " \
	    "last_step = e.step, last_ts = e.timestamp FROM " LAST_FINITE " e " \
	    "WHERE u.run_uuid = $1 AND u.key = $2") \
	/* A point landed inside the covered range: the history is summarized anew. */ \
	X(METRIC_BLOCKS_CLEAR, 0, "DELETE FROM metric_blocks WHERE run_uuid = $1 AND key = $2") \
	X(METRIC_BLOCKS_BUILD, 0, "WITH p AS (SELECT step, timestamp, value, row_number() " \
	    "OVER (ORDER BY step, timestamp, value) - 1 AS o FROM metrics m WHERE " \
	    "m.run_uuid = $1 AND m.key = $2 AND " FINITE("m") "), " BLOCKS_OF_P ", " \
	    "w AS (INSERT INTO metric_blocks " BLOCK_COLS " SELECT $1, $2, a.* FROM a) " \
	    "INSERT INTO metric_summaries (run_uuid, key, n, last_step, last_ts) " \
	    "SELECT $1, $2, (SELECT coalesce(sum(n), 0) FROM a), e.step, e.timestamp " \
	    "FROM (SELECT 1) one LEFT JOIN " LAST_FINITE " e ON true " \
	    "ON CONFLICT (run_uuid, key) DO UPDATE SET n = EXCLUDED.n, " \
	    "last_step = EXCLUDED.last_step, last_ts = EXCLUDED.last_ts") \
	/* Sparklines: $2 evenly spaced steps t per key, each the first non-NaN \
	 * point at or after t in the chunk that ends first at or after t (exact for \
	 * a history logged in step order): an index probe and one chunk's points. */ \
	X(METRIC_SPARKS, 1, "SELECT l.key, p.step, p.value FROM latest_metrics l " \
	    "CROSS JOIN LATERAL (SELECT min(step_lo) AS lo, max(step_hi) AS hi FROM " \
	    "metric_chunks c WHERE c.run_uuid = l.run_uuid AND c.key = l.key) b " \
	    "CROSS JOIN LATERAL generate_series(0, $2::int - 1) s(i) " \
	    "CROSS JOIN LATERAL (SELECT b.lo + (b.hi - b.lo) * s.i / greatest($2::int - 1, 1) " \
	    "AS t) x CROSS JOIN LATERAL (SELECT m.step, m.value FROM (SELECT steps, vals FROM " \
	    "metric_chunks c WHERE c.run_uuid = l.run_uuid AND c.key = l.key AND " \
	    "c.step_hi >= x.t ORDER BY c.step_hi LIMIT 1) c CROSS JOIN LATERAL " \
	    "unnest(c.steps, c.vals) AS m(step, value) WHERE m.step >= x.t AND " \
	    "NOT " IS_NAN("m") " ORDER BY m.step LIMIT 1) p " \
	    "WHERE l.run_uuid = $1 ORDER BY l.key, s.i") \
	/* tracking: metric history; the keyset is (step, timestamp, value) plus a skip */ \
	/* A page: the chunks at or after the token, up to the bound b.hi. Chunks \
	 * starting past the token's step hold only points after it; the first of \
	 * them by step_lo to reach $6 + $7 points end by max(step_hi) of those, \
	 * so no point of the page lies in a chunk starting later (index-only). */ \
	X(METRIC_HISTORY, 1, "WITH k AS (SELECT c.step_hi, c.n, sum(c.n) OVER (ORDER BY " \
	    "c.step_lo, c.ts_lo ROWS UNBOUNDED PRECEDING) AS cum FROM metric_chunks c WHERE " \
	    "c.run_uuid = $1 AND c.key = $2 AND ($3::bigint IS NULL OR c.step_lo > $3::bigint)), " \
	    "b AS (SELECT CASE WHEN max(cum) >= $6::int + $7::int THEN max(step_hi) FILTER " \
	    "(WHERE cum - n < $6::int + $7::int) END AS hi FROM k) " \
	    "SELECT m.value, m.timestamp, m.step, " IS_NAN("m") " FROM b, " \
	    METRIC_PTS("($3::bigint IS NULL OR (c.step_hi, c.ts_hi) >= ($3::bigint, " \
	    "$4::bigint)) AND (b.hi IS NULL OR c.step_lo <= b.hi)") " AND ($3::bigint IS NULL " \
	    "OR (m.step, m.timestamp, m.value) >= ($3::bigint, $4::bigint, $5::float8)) " \
	    "ORDER BY m.step, m.timestamp, m.value OFFSET $6::int LIMIT $7::int") \
	X(METRIC_SAMPLE, 1, "WITH p AS (SELECT m.value, m.timestamp, m.step, " \
	    IS_NAN("m") " AS is_nan, row_number() OVER (ORDER BY m.step, m.timestamp, " \
	    "m.value) AS rn FROM " METRIC_PTS("c.step_hi >= $3::bigint AND c.step_lo <= " \
	    "$4::bigint") " AND m.step BETWEEN $3::bigint AND $4::bigint), " \
	    "s AS (SELECT count(*) AS n, " \
	    "(SELECT rn FROM p WHERE NOT is_nan ORDER BY value, rn LIMIT 1) AS lo, " \
	    "(SELECT rn FROM p WHERE NOT is_nan ORDER BY value DESC, rn LIMIT 1) AS hi FROM p) " \
	    "SELECT p.value, p.timestamp, p.step, p.is_nan, (p.rn = 1 OR p.rn = s.n), " \
	    "(p.rn = s.lo OR p.rn = s.hi) FROM p, s WHERE s.n <= $5::int OR p.rn = 1 " \
	    "OR p.rn = s.n OR p.rn = s.lo OR p.rn = s.hi OR (p.rn - 1) % " \
	    "greatest(1, ceil(s.n::float8 / greatest($5::int - 4, 1)))::bigint = 0 " \
	    "ORDER BY p.rn") \
	/* drift: a version's reference is replaced as a whole (profiles cascade) */ \
	X(DRIFT_REF_DELETE, 0, "DELETE FROM drift_references WHERE model_version_id = $1::bigint") \
	X(DRIFT_REF_INSERT, 0, "INSERT INTO drift_references (model_version_id, rows, " \
	    "created_by) VALUES ($1::bigint, $2::int, nullif($3::bigint, 0))") \
	X(DRIFT_PROFILES_INSERT, 0, "INSERT INTO drift_profiles (model_version_id, position, " \
	    "name, kind, n, missing, profile) SELECT $1::bigint, x.position, x.name, x.kind, " \
	    "x.n, x.missing, x.profile FROM jsonb_to_recordset($2::jsonb) AS x (position int, " \
	    "name text, kind text, n int, missing int, profile jsonb)") \
	/* versions of model $1 with a reference ($2 = 0) or version $2's */ \
	X(DRIFT_REF_VERSIONS, 1, "SELECT v.id, v.version, v.stage, d.rows, " \
	    ISO_TIME("d.created_at") " FROM model_versions v JOIN drift_references d " \
	    "ON d.model_version_id = v.id WHERE v.name = $1 AND ($2::int = 0 OR " \
	    "v.version = $2::int) ORDER BY v.version DESC") \
	X(DRIFT_PROFILES, 1, "SELECT position, name, kind, n, missing, profile::text " \
	    "FROM drift_profiles WHERE model_version_id = $1::bigint ORDER BY position") \
	/* the newest $3 predictions of the last $2 hours */ \
	X(DRIFT_CURRENT, 1, "SELECT inputs::text, output::text FROM predictions " \
	    "WHERE model_version_id = $1::bigint AND created_at >= now() - $2::int * " \
	    "interval '1 hour' ORDER BY id DESC LIMIT $3::int") \
	X(DRIFT_REPORT_INSERT, 0, "INSERT INTO drift_reports (model_version_id, window_hours, " \
	    "reference_rows, current_rows, n_features, n_drifted, share, dataset_drift, " \
	    "prediction_drift, detail, created_by) VALUES ($1::bigint, $2::int, $3::int, " \
	    "$4::int, $5::int, $6::int, $7::float8, $8::boolean, $9::boolean, $10::jsonb, " \
	    "nullif($11::bigint, 0)) RETURNING id, " ISO_TIME("created_at")) \
	X(DRIFT_LATEST, 1, "SELECT * FROM (SELECT DISTINCT ON (r.model_version_id) r.id, " \
	    "v.version, " ISO_TIME("r.created_at") ", r.window_hours, r.reference_rows, " \
	    "r.current_rows, r.n_features, r.n_drifted, r.share, r.dataset_drift, " \
	    "r.prediction_drift, r.detail::text FROM drift_reports r JOIN model_versions v " \
	    "ON v.id = r.model_version_id WHERE v.name = $1 ORDER BY r.model_version_id, " \
	    "r.id DESC) x ORDER BY version DESC") \
	X(DRIFT_HISTORY, 1, "SELECT r.id, v.version, " ISO_TIME("r.created_at") ", r.share, " \
	    "r.dataset_drift FROM drift_reports r JOIN model_versions v ON v.id = " \
	    "r.model_version_id WHERE v.name = $1 ORDER BY r.id DESC LIMIT 200") \
	/* artifacts: an index in artifact_files, the bytes in 1 MiB chunks (or a directory) */ \
	X(ART_LOCK, 0, "SELECT pg_advisory_xact_lock(hashtext('verdict artifact ' || $1))") \
	X(ART_CLASH, 0, "SELECT path FROM artifact_files WHERE path IN (SELECT " \
	    "array_to_string((string_to_array($1, '/'))[1:i], '/') FROM generate_series(1, " \
	    "cardinality(string_to_array($1, '/')) - 1) i) OR (path >= $1 || '/' AND " \
	    "path < $1 || '0') LIMIT 1") \
	X(ART_DELETE_FILE, 0, "DELETE FROM artifact_files WHERE path = $1 RETURNING in_directory") \
	X(ART_DELETE_TREE, 0, "DELETE FROM artifact_files WHERE path = $1 OR (path >= $1 || '/' " \
	    "AND path < $1 || '0') RETURNING path, in_directory") \
	X(ART_BEGIN_FILE, 0, "INSERT INTO artifact_files (path, size, sha256, chunks, " \
	    "in_directory) VALUES ($1, 0, '', 0, $2::boolean)") \
	X(ART_CHUNK_PUT, 0, "INSERT INTO artifact_chunks (path, n, data) VALUES ($1, $2::int, $3)") \
	X(ART_END_FILE, 0, "UPDATE artifact_files SET size = $2::bigint, sha256 = $3, " \
	    "chunks = $4::int WHERE path = $1") \
	X(ART_GET, 1, "SELECT size, sha256, chunks, in_directory FROM artifact_files " \
	    "WHERE path = $1") \
	X(ART_CHUNK_GET, 0, "SELECT data FROM artifact_chunks WHERE path = $1 AND n = $2::int") \
	/* the children of directory $1 ('' = the root): name, is a directory, size */ \
	X(ART_LIST, 1, "SELECT split_part(rest, '/', 1), bool_or(strpos(rest, '/') > 0), " \
	    "max(size) FILTER (WHERE strpos(rest, '/') = 0) FROM (SELECT substr(path, " \
	    "length($1) + CASE WHEN $1 = '' THEN 1 ELSE 2 END) AS rest, size FROM artifact_files " \
	    "WHERE $1 = '' OR (path >= $1 || '/' AND path < $1 || '0')) f GROUP BY 1 " \
	    "ORDER BY 1 LIMIT $2::int") \
	X(RUN_ARTIFACT_URI, 1, "SELECT artifact_uri FROM runs WHERE run_uuid = $1") \
	/* registry in MLflow's shapes, built by Postgres as JSON */ \
	X(RM_JSON, 1, "SELECT " RM_JSON " FROM registered_models m WHERE m.name = $1") \
	X(RM_JSON_MANY, 1, "SELECT " RM_JSON " FROM unnest($1::text[]) WITH ORDINALITY " \
	    "x(n, i) JOIN registered_models m ON m.name = x.n ORDER BY x.i") \
	X(MV_JSON, 1, "SELECT " MV_JSON " FROM model_versions v WHERE v.name = $1 " \
	    "AND v.version = $2::int") \
	X(MV_JSON_MANY, 1, "SELECT " MV_JSON " FROM unnest($1::bigint[]) WITH ORDINALITY " \
	    "x(id, i) JOIN model_versions v ON v.id = x.id ORDER BY x.i") \
	X(MV_LATEST, 1, "SELECT " MV_JSON " FROM (SELECT DISTINCT ON (stage) * FROM " \
	    "model_versions WHERE name = $1 AND (cardinality($2::text[]) = 0 OR " \
	    "stage = ANY($2::text[])) ORDER BY stage, version DESC) v ORDER BY v.version") \
	X(RM_RENAME, 0, "UPDATE registered_models SET name = $2, updated_at = now() " \
	    "WHERE name = $1") \
	X(RM_UPDATE, 0, "UPDATE registered_models SET description = $2, updated_at = now() " \
	    "WHERE name = $1") \
	X(RM_DELETE, 0, "DELETE FROM registered_models WHERE name = $1") \
	X(RM_TAG_SET, 0, "INSERT INTO registered_model_tags (name, key, value) VALUES ($1, $2, " \
	    "$3) ON CONFLICT (name, key) DO UPDATE SET value = EXCLUDED.value") \
	X(RM_TAG_DELETE, 0, "DELETE FROM registered_model_tags WHERE name = $1 AND key = $2") \
	X(RM_TOUCH, 0, "UPDATE registered_models SET updated_at = now() WHERE name = $1") \
	X(MV_UPDATE, 0, "UPDATE model_versions SET description = $3, updated_at = now() " \
	    "WHERE name = $1 AND version = $2::int") \
	X(MV_DELETE, 0, "DELETE FROM model_versions WHERE name = $1 AND version = $2::int") \
	X(MV_EXISTS, 0, "SELECT id FROM model_versions WHERE name = $1 AND version = $2::int") \
	X(MV_TAG_SET, 0, "INSERT INTO model_version_tags (name, version, key, value) VALUES " \
	    "($1, $2::int, $3, $4) ON CONFLICT (name, version, key) DO UPDATE SET " \
	    "value = EXCLUDED.value") \
	X(MV_TAG_DELETE, 0, "DELETE FROM model_version_tags WHERE name = $1 " \
	    "AND version = $2::int AND key = $3") \
	/* retrain: the per-model lease (api-retrain.c); takers serialize on the advisory lock */ \
	X(RETRAIN_XLOCK, 0, "SELECT pg_try_advisory_xact_lock(hashtext('verdict.retrain'), " \
	    "hashtext($1))") \
	X(RETRAIN_LOCK_GET, 0, "SELECT coalesce(u.username, ''), " ISO_TIME("l.acquired_at") \
	    ", " ISO_TIME("l.expires_at") ", l.expires_at > now() FROM retrain_locks l " \
	    "LEFT JOIN users u ON u.id = l.holder WHERE l.name = $1 FOR UPDATE OF l") \
	X(RETRAIN_LOCK_TAKE, 0, "INSERT INTO retrain_locks (name, lease, holder, expires_at) " \
	    "VALUES ($1, $2, $3::bigint, now() + $4::int * interval '1 second') " \
	    "ON CONFLICT (name) DO UPDATE SET lease = EXCLUDED.lease, holder = EXCLUDED.holder, " \
	    "acquired_at = now(), expires_at = EXCLUDED.expires_at RETURNING " \
	    ISO_TIME("expires_at")) \
	X(RETRAIN_LOCK_RELEASE, 0, "DELETE FROM retrain_locks WHERE name = $1 AND lease = $2")

enum stmt {
#define X(name, ro, sql) STMT_##name,
	DB_STATEMENTS(X)
#undef X
	STMT__COUNT
};

struct db;

/* Creates a handle; does not connect yet. Caller frees with db_free. */
struct db *db_new(const char *conninfo) WUR;
void db_free(struct db *d);

/*
 * Makes sure the connection is up and prepared. Reconnect attempts are
 * throttled (one per 250 ms per worker) so an outage costs each request
 * microseconds, not a connect timeout. Returns 0 or -1.
 */
int db_ensure(struct db *d) WUR;

/*
 * Runs a prepared statement with text parameters (NULL = SQL NULL).
 * Returns a result with status TUPLES_OK or COMMAND_OK (caller PQclear()s),
 * or NULL: then db_sqlstate() is the SQLSTATE, or "" when the connection
 * was lost (db_lost() is 1).
 */
PGresult *db_exec(struct db *d, enum stmt s, int n, const char *const *vals) WUR;
/*
 * db_exec with binary parameters and results, for bytes that must not
 * travel as hex text (artifact chunks): lens[i] and fmts[i] (1 = binary)
 * per parameter, as PQexecPrepared takes them; binary_result asks for
 * every column in binary. Retried like db_exec.
 */
PGresult *db_exec_bin(struct db *d, enum stmt s, int n, const char *const *vals,
    const int *lens, const int *fmts, int binary_result) WUR;
/*
 * Runs SQL that is built at request time (search filters, multi-row writes)
 * with PQexecParams: values only ever travel as the text parameters vals
 * (NULL = SQL NULL), never inside sql. Results and errors as db_exec; not
 * retried after a lost connection.
 */
PGresult *db_query(struct db *d, const char *sql, int n, const char *const *vals) WUR;
/* Plain command without parameters (BEGIN, COMMIT, ROLLBACK). 0 or -1. */
int db_command(struct db *d, const char *sql) WUR;
/*
 * Runs copy, a fixed "COPY table (columns) FROM STDIN ..." statement, and
 * sends data[0..len) as its input: the bulk path for rows whose values are
 * all in data (binary COPY carries them typed and length-prefixed, never
 * as SQL). 0, or -1 with the error as db_exec's.
 */
int db_copy_in(struct db *d, const char *copy, const char *data, size_t len) WUR;

/* ROLLBACK after a failed step; if even that fails the connection is lost and reconnects. */
void db_rollback(struct db *d);

/* Tells every worker of this process to check its connection before its next request. */
void db_mark_lost(void);

/* Connections of this process that are up and prepared (a gauge). */
int db_connections_up(void);

const char *db_sqlstate(const struct db *d);
const char *db_errmsg(const struct db *d);
int db_lost(const struct db *d);
PGconn *db_conn(struct db *d);

#endif
