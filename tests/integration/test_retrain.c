/* test_retrain.c: `verdict retrain` run as cron would against a real stack, on public data (vega-datasets' Seattle weather) — a candidate better on the holdout is promoted, a worse one stays in Staging with the reason, the retrain.result event carries the Production metric the test recomputes from real predictions, the lease keeps two retrains apart, and bad input exits 2. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "csvtab.h"
#include "fixtures.h"
#include "harness.h"
#include "util.h"

#define SLICE_ROWS 60           /* the weak Production: the first 60 days (winter) */
#define FEEDBACK_ROWS 300       /* verified predictions of later days */

static char hdr[300], hdr2[300], token[200], tmpdir[64];
static char datadir[1024], seattle[PATH_MAX + 64];

/* verdict ARGS in the test's directory as the test user. */
#define verdict(r, fmt, ...) fx_verdict((r), tmpdir, fmt " --url %s --token %s", \
	##__VA_ARGS__, harness_url(), token)

#define ck_assert_out(r, s) ck_assert_msg(strstr((r)->out, (s)) != NULL, \
	"output lacks \"%s\":\n%s", (s), (r)->out)
#define ck_assert_exit(r, n) ck_assert_msg((r)->status == (n), \
	"exit %d, want %d:\n%s", (r)->status, (n), (r)->out)

/* A JSON call as h; the answer's JSON (caller decrefs) and its status. */
static json_t *
call_as(const char *h, const char *method, const char *path, const char *body, long *status)
{
	struct http_resp r;
	json_t *j;

	*status = fx_call(h, method, path, body ? "application/json" : NULL, body, &r);
	j = http_json(&r);
	http_resp_free(&r);
	return j;
}

static json_t *
call(const char *method, const char *path, const char *body, long *status)
{
	return call_as(hdr, method, path, body, status);
}

/* Seattle's rows (header at 0) as raw objects of strings. */
static json_t *
seattle_rows(void)
{
	struct arena *a = arena_new((size_t)64 << 20);
	struct csv_table t;
	char err[256], *csv;
	size_t len;
	json_t *rows = json_array();

	ck_assert_ptr_nonnull(csv = fx_slurp(seattle, &len));
	ck_assert_int_eq(csv_table_parse(a, csv, len, 100000, &t, err, sizeof(err)), 0);
	for (size_t i = 1; i < t.n; i++) {
		long bad;

		json_array_append_new(rows, csv_record_json(&t, i, &bad));
	}
	free(csv);
	arena_free(a);
	return rows;
}

/* The first n rows of Seattle without the weather column, as CSV into path. */
static void
write_slice(const char *path, json_t *rows, size_t n)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "date,precipitation,temp_max,temp_min,wind\n");
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(rows, i);

		fprintf(f, "%s,%s,%s,%s,%s\n", json_string_value(json_object_get(r, "date")),
		    json_string_value(json_object_get(r, "precipitation")),
		    json_string_value(json_object_get(r, "temp_max")),
		    json_string_value(json_object_get(r, "temp_min")),
		    json_string_value(json_object_get(r, "wind")));
	}
	ck_assert_int_eq(fclose(f), 0);
}

/* Raw inputs of a row as a client sends them: no target, no weather. */
static json_t *
inputs_of(json_t *row)
{
	json_t *o = json_copy(row);

	json_object_del(o, "temp_max");
	json_object_del(o, "weather");
	return o;
}

/* Predicts rows[from..from+n) with model (version 0: serving); values and ids out. */
static void
predict(const char *model, int version, json_t *rows, size_t from, size_t n, double *value,
    long long *id)
{
	json_t *inst = json_array(), *req, *ans;
	char path[300], *body;
	long st;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(inst, inputs_of(json_array_get(rows, from + i)));
	req = json_pack("{s:o}", "instances", inst);
	if (version > 0)
		json_object_set_new(req, "version", json_integer(version));
	body = json_dumps(req, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/models/%s/predict", model);
	ans = call("POST", path, body, &st);
	ck_assert_msg(st == 200, "predict %s: %ld", model, st);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(json_object_get(ans, "predictions"), i);

		value[i] = json_number_value(json_object_get(p, "value"));
		if (id != NULL)
			id[i] = json_integer_value(json_object_get(p, "prediction_id"));
	}
	free(body);
	json_decref(req);
	json_decref(ans);
}

/* Verifies ids with the rows' true temp_max (atomic: all or nothing). */
static void
verify(const long long *id, json_t *rows, size_t from, size_t n)
{
	json_t *list = json_array(), *ans;
	char *body;
	long st;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:I, s:f}", "prediction_id",
		    (json_int_t)id[i], "true_value", strtod(json_string_value(json_object_get(
		    json_array_get(rows, from + i), "temp_max")), NULL)));
	body = json_dumps(list, JSON_COMPACT);
	ans = call("POST", "/api/feedback?atomic=true", body, &st);
	ck_assert_msg(st == 200, "feedback: %ld %s", st, body);
	free(body);
	json_decref(list);
	json_decref(ans);
}

/* A model's version objects by number: stage of v (caller's buffer), its run id. */
static void
version_info(const char *model, int v, char *stage, size_t slen, char *run, size_t rlen)
{
	char path[300];
	json_t *m, *x;
	long st;
	size_t i;

	snprintf(path, sizeof(path), "/api/models/%s", model);
	m = call("GET", path, NULL, &st);
	ck_assert_int_eq(st, 200);
	stage[0] = '\0';
	json_array_foreach(json_object_get(m, "versions"), i, x)
		if (json_integer_value(json_object_get(x, "version")) == v) {
			snprintf(stage, slen, "%s", json_string_value(json_object_get(x, "stage")));
			if (run != NULL)
				snprintf(run, rlen, "%s", json_string_value(json_object_get(x,
				    "run_id")));
		}
	json_decref(m);
	ck_assert_msg(stage[0] != '\0', "%s has no version %d", model, v);
}

/* A run's tag or param (kind "tags" / "params"); "" when absent. Caller's buffer. */
static void
run_value(const char *run_id, const char *kind, const char *key, char *dst, size_t len)
{
	char path[300];
	json_t *r;
	const char *v;
	long st;

	snprintf(path, sizeof(path), "/api/2.0/mlflow/runs/get?run_id=%s", run_id);
	r = call("GET", path, NULL, &st);
	ck_assert_int_eq(st, 200);
	v = json_string_value(fx_run_value(json_object_get(r, "run"), kind, key));
	snprintf(dst, len, "%s", v != NULL ? v : "");
	json_decref(r);
}

/* The newest retrain.result event of model: its detail (caller decrefs), and how many there are. */
static json_t *
last_event(const char *model, int *count)
{
	PGconn *c = fx_db();
	const char *vals[1] = { model };
	PGresult *res = PQexecParams(c, "SELECT detail::text, kind, subject, actor_id FROM "
	    "events WHERE kind = 'retrain.result' AND subject = $1 ORDER BY id DESC", 1, NULL,
	    vals, NULL, NULL, 0);
	json_t *d = NULL;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	*count = PQntuples(res);
	if (*count > 0) {
		d = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
		ck_assert(!PQgetisnull(res, 0, 3));
	}
	PQclear(res);
	PQfinish(c);
	return d;
}

/* The split verdict train made of a file (--split-out): the validation row indices. */
static json_t *
valid_rows_of(const char *split_file)
{
	char p[PATH_MAX + 64];
	json_t *j, *v;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, split_file);
	ck_assert_ptr_nonnull(j = json_load_file(p, 0, NULL));
	v = json_incref(json_object_get(j, "valid"));
	json_decref(j);
	return v;
}

START_TEST(better_candidate_is_promoted)
{
	json_t *rows = seattle_rows(), *valid, *ev, *v;
	double fbpred[FEEDBACK_ROWS], *vpred, se = 0, want;
	long long fbid[FEEDBACK_ROWS];
	size_t nv, i, hold = (size_t)ceil(FEEDBACK_ROWS * 0.2);
	char path[PATH_MAX + 64], stage[32], run[64], val[256];
	struct fx_cli r;
	int n;
	long st;

	/* Production: a weak model, 60 winter days. */
	snprintf(path, sizeof(path), "%s/slice.csv", tmpdir);
	write_slice(path, rows, SLICE_ROWS);
	verdict(&r, "train --data slice.csv --target temp_max --task regression --infer-spec "
	    "--experiment retrain-better --split-out slice-split.json --out slice-out "
	    "--register temp_better --stage Production --quiet");
	ck_assert_exit(&r, 0);

	/* Later days predicted by it and verified with what really happened. */
	for (i = 0; i < FEEDBACK_ROWS; i += 100)
		predict("temp_better", 0, rows, SLICE_ROWS + i, 100, fbpred + i, fbid + i);
	verify(fbid, rows, SLICE_ROWS, FEEDBACK_ROWS);

	/* Production on the holdout, from its own predictions: the slice's validation rows
	 * (train's split) and the newest 20% of the feedback. */
	valid = valid_rows_of("slice-split.json");
	nv = json_array_size(valid);
	ck_assert_uint_gt(nv, 5);
	vpred = calloc(nv, sizeof(double));
	for (i = 0; i < nv; i++) {
		size_t row = (size_t)json_integer_value(json_array_get(valid, i));
		double y = strtod(json_string_value(json_object_get(json_array_get(rows, row),
		    "temp_max")), NULL);

		predict("temp_better", 1, rows, row, 1, vpred + i, NULL);
		se += (vpred[i] - y) * (vpred[i] - y);
	}
	for (i = FEEDBACK_ROWS - hold; i < FEEDBACK_ROWS; i++) {
		double y = strtod(json_string_value(json_object_get(json_array_get(rows,
		    SLICE_ROWS + i), "temp_max")), NULL);

		se += (fbpred[i] - y) * (fbpred[i] - y);
	}
	want = sqrt(se / (double)(nv + hold));

	verdict(&r, "retrain --model temp_better --include-feedback");
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "promoted to Production");

	/* Version 2 serves; version 1 is archived. */
	version_info("temp_better", 2, stage, sizeof(stage), run, sizeof(run));
	ck_assert_str_eq(stage, "Production");
	version_info("temp_better", 1, stage, sizeof(stage), NULL, 0);
	ck_assert_str_eq(stage, "Archived");
	{
		double one;

		ev = call("POST", "/api/models/temp_better/predict", "{\"inputs\":{\"date\":"
		    "\"2013-07-01\",\"temp_min\":\"15\",\"wind\":\"2\",\"precipitation\":\"0\"}}",
		    &st);
		ck_assert_int_eq(st, 200);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "version")), 2);
		one = json_number_value(json_object_get(json_array_get(json_object_get(ev,
		    "predictions"), 0), "value"));
		json_decref(ev);
		ck_assert(isfinite(one));
	}

	/* The candidate's run: data rows + feedback rows, in the same experiment, tagged. */
	run_value(run, "tags", "verdict.data.rows", val, sizeof(val));
	ck_assert_int_eq(atoi(val), SLICE_ROWS + FEEDBACK_ROWS);
	run_value(run, "tags", "verdict.retrain.of", val, sizeof(val));
	ck_assert_str_eq(val, "temp_better");
	run_value(run, "tags", "verdict.retrain.compared", val, sizeof(val));
	ck_assert_str_eq(val, "candidate v2 vs Production v1");
	run_value(run, "tags", "verdict.retrain.feedback.rows", val, sizeof(val));
	ck_assert_int_eq(atoi(val), FEEDBACK_ROWS);
	run_value(run, "params", "valid_rows", val, sizeof(val));
	ck_assert_uint_eq((size_t)atoi(val), nv + hold);

	/* The event: promoted, and the Production RMSE the test computed itself. */
	ck_assert_ptr_nonnull(ev = last_event("temp_better", &n));
	ck_assert_int_eq(n, 1);
	ck_assert(json_is_true(json_object_get(ev, "promoted")));
	ck_assert_str_eq(json_string_value(json_object_get(ev, "metric")), "rmse");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "candidate_version")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "production_version")), 1);
	v = json_object_get(ev, "production_value");
	ck_assert_msg(fabs(json_number_value(v) - want) <= 1e-6 * want,
	    "event's Production RMSE %.9g, the test's %.9g", json_number_value(v), want);
	ck_assert(json_number_value(json_object_get(ev, "candidate_value")) < want);
	fprintf(stderr, "# better: Production RMSE %.4f (recomputed %.4f), candidate %.4f on "
	    "%zu holdout rows\n", json_number_value(v), want,
	    json_number_value(json_object_get(ev, "candidate_value")), nv + hold);
	json_decref(ev);
	json_decref(valid);
	json_decref(rows);
	free(vpred);
}
END_TEST

/* Production trained on the whole file: a retrain that must be 50% better cannot be. */
static void
strong_model(const char *name)
{
	struct fx_cli r;
	char path[PATH_MAX + 64];
	json_t *rows;

	snprintf(path, sizeof(path), "%s/%s.csv", tmpdir, name);
	rows = seattle_rows();
	write_slice(path, rows, json_array_size(rows));
	json_decref(rows);
	verdict(&r, "train --data %s.csv --target temp_max --task regression --infer-spec "
	    "--experiment %s --rounds 20 --param max_depth=3 --out %s-out --register %s "
	    "--stage Production --quiet", name, name, name, name);
	ck_assert_exit(&r, 0);
}

START_TEST(worse_candidate_stays_in_staging)
{
	struct fx_cli r;
	char stage[32], val[600];
	json_t *ev, *tags, *t;
	int n;
	long st;
	size_t i;

	strong_model("temp_worse");
	verdict(&r, "retrain --model temp_worse --min-improvement 0.5");
	ck_assert_exit(&r, 3);
	ck_assert_out(&r, "stays in Staging");
	version_info("temp_worse", 2, stage, sizeof(stage), NULL, 0);
	ck_assert_str_eq(stage, "Staging");
	version_info("temp_worse", 1, stage, sizeof(stage), NULL, 0);
	ck_assert_str_eq(stage, "Production");

	ev = call("GET", "/api/2.0/mlflow/model-versions/get?name=temp_worse&version=2", NULL,
	    &st);
	ck_assert_int_eq(st, 200);
	val[0] = '\0';
	tags = json_object_get(json_object_get(ev, "model_version"), "tags");
	json_array_foreach(tags, i, t)
		if (!strcmp(json_string_value(json_object_get(t, "key")), "verdict.retrain.reason"))
			snprintf(val, sizeof(val), "%s", json_string_value(json_object_get(t,
			    "value")));
	json_decref(ev);
	ck_assert_msg(strstr(val, "RMSE ") == val && strstr(val, " vs Production v1 ") &&
	    strstr(val, ": not better by 50%"), "reason tag: '%s'", val);

	ck_assert_ptr_nonnull(ev = last_event("temp_worse", &n));
	ck_assert_int_eq(n, 1);
	ck_assert(json_is_false(json_object_get(ev, "promoted")));
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), val);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "production_version")), 1);
	json_decref(ev);
}
END_TEST

/* Multiclass: log loss, the event's Production value recomputed from the API's probabilities. */
START_TEST(multiclass_uses_log_loss)
{
	struct fx_cli r;
	json_t *rows = seattle_rows(), *valid, *inst = json_array(), *req, *ans, *ev;
	double ll = 0, want;
	char *body;
	long st;
	size_t i, nv;
	int n;

	verdict(&r, "train --data '%s' --target weather --task multiclass --infer-spec "
	    "--spec-out mc.spec.json --experiment retrain-mc --rounds 10 --split-out "
	    "mc-split.json --out mc-out --register weather_mc --stage Production --quiet",
	    seattle);
	ck_assert_exit(&r, 0);
	verdict(&r, "retrain --model weather_mc --min-improvement 0.9");
	ck_assert_exit(&r, 3);
	ck_assert_out(&r, "log loss ");

	valid = valid_rows_of("mc-split.json");
	nv = json_array_size(valid);
	json_array_foreach(valid, i, ev) {
		json_t *o = json_copy(json_array_get(rows, (size_t)json_integer_value(ev)));

		json_object_del(o, "weather");
		json_array_append_new(inst, o);
	}
	req = json_pack("{s:o, s:i}", "instances", inst, "version", 1);
	body = json_dumps(req, JSON_COMPACT);
	ans = call("POST", "/api/models/weather_mc/predict", body, &st);
	ck_assert_int_eq(st, 200);
	for (i = 0; i < nv; i++) {
		const char *truth = json_string_value(json_object_get(json_array_get(rows,
		    (size_t)json_integer_value(json_array_get(valid, i))), "weather"));
		double p = json_number_value(json_object_get(json_object_get(json_array_get(
		    json_object_get(ans, "predictions"), i), "probabilities"), truth));

		ll -= log(fmin(fmax(p, 1e-15), 1 - 1e-15));
	}
	want = ll / (double)nv;
	ck_assert_ptr_nonnull(ev = last_event("weather_mc", &n));
	ck_assert_str_eq(json_string_value(json_object_get(ev, "metric")), "mlogloss");
	ck_assert(json_is_false(json_object_get(ev, "promoted")));
	ck_assert_msg(fabs(json_number_value(json_object_get(ev, "production_value")) - want) <=
	    1e-5 * want, "event's Production log loss %.9g, the test's %.9g",
	    json_number_value(json_object_get(ev, "production_value")), want);
	/* No new rows: the candidate is the same training again (data, split, spec, params,
	 * seed), so it must score exactly as Production does. */
	ck_assert_msg(fabs(json_number_value(json_object_get(ev, "candidate_value")) -
	    json_number_value(json_object_get(ev, "production_value"))) <= 1e-9 * want,
	    "a retrain without new data differs from its Production");
	fprintf(stderr, "# multiclass: Production log loss %.5f (recomputed %.5f), candidate "
	    "%.5f on %zu holdout rows\n", json_number_value(json_object_get(ev,
	    "production_value")), want, json_number_value(json_object_get(ev,
	    "candidate_value")), nv);
	json_decref(ev);
	json_decref(ans);
	free(body);
	json_decref(req);
	json_decref(valid);
	json_decref(rows);
}
END_TEST

START_TEST(lock_keeps_retrains_apart)
{
	struct fx_cli r;
	json_t *a, *b;
	long st;
	char path[300], lease[64];
	PGconn *c;
	PGresult *res;

	strong_model("temp_lock");
	a = call("POST", "/api/models/temp_lock/retrain-lock", NULL, &st);
	ck_assert_int_eq(st, 200);
	snprintf(lease, sizeof(lease), "%s", json_string_value(json_object_get(a, "lease")));
	ck_assert_uint_eq(strlen(lease), 32);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(a, "expires_at")));
	json_decref(a);

	/* Held: the API says who since when; the CLI exits 4 with that message. */
	b = call_as(hdr, "POST", "/api/models/temp_lock/retrain-lock", NULL, &st);
	ck_assert_int_eq(st, 409);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(b, "message")),
	    "holds the lock since"));
	json_decref(b);
	verdict(&r, "retrain --model temp_lock --min-improvement 0.5");
	ck_assert_exit(&r, 4);
	ck_assert_out(&r, "holds the lock since");
	ck_assert_int_eq((int)fx_db_num("SELECT count(*) FROM model_versions WHERE name = $1",
	    "temp_lock"), 1);

	/* Released: it runs (and releases its own lease: the lock is free afterwards). */
	snprintf(path, sizeof(path), "/api/models/temp_lock/retrain-lock/%s", lease);
	json_decref(call("DELETE", path, NULL, &st));
	ck_assert_int_eq(st, 204);
	json_decref(call("DELETE", path, NULL, &st));
	ck_assert_int_eq(st, 404);
	verdict(&r, "retrain --model temp_lock --min-improvement 0.5");
	ck_assert_exit(&r, 3);
	ck_assert_int_eq((int)fx_db_num("SELECT count(*) FROM retrain_locks WHERE name = $1",
	    "temp_lock"), 0);

	/* An expired lease (a crashed retrain) is taken over. */
	a = call("POST", "/api/models/temp_lock/retrain-lock", NULL, &st);
	ck_assert_int_eq(st, 200);
	snprintf(lease, sizeof(lease), "%s", json_string_value(json_object_get(a, "lease")));
	json_decref(a);
	c = fx_db();
	res = PQexec(c, "UPDATE retrain_locks SET expires_at = now() - interval '1 second' "
	    "WHERE name = 'temp_lock'");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(c);
	a = call("POST", "/api/models/temp_lock/retrain-lock", NULL, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_ne(json_string_value(json_object_get(a, "lease")), lease);
	json_decref(a);
	/* The crashed retrain's lease no longer releases anything. */
	snprintf(path, sizeof(path), "/api/models/temp_lock/retrain-lock/%s", lease);
	json_decref(call("DELETE", path, NULL, &st));
	ck_assert_int_eq(st, 404);
}
END_TEST

START_TEST(bad_input_exits_2)
{
	struct fx_cli r;
	char path[PATH_MAX + 64];
	float x[40], y[20];
	char *booster;
	size_t blen;
	FILE *f;
	json_t *rows;

	verdict(&r, "retrain --model no_such_model");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "no_such_model");
	ck_assert_out(&r, "does not exist");

	/* A version registered without a run: nothing records its data. */
	for (int i = 0; i < 20; i++) {
		x[2 * i] = (float)i;
		x[2 * i + 1] = (float)(i % 3);
		y[i] = (float)(2 * i);
	}
	booster = fx_train(x, y, 20, 2, "reg:squarederror", 0, 3, &blen);
	fx_model(hdr, "retrain_norun", booster, blen, "{\"task\":\"regression\",\"inputs\":"
	    "[{\"name\":\"a\",\"type\":\"number\"},{\"name\":\"b\",\"type\":\"number\"}],"
	    "\"features\":[{\"input\":\"a\"},{\"input\":\"b\"}]}");
	free(booster);
	verdict(&r, "retrain --model retrain_norun");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "has no run that recorded its data: give --data FILE");

	/* The data file changed since the run: its SHA-256 no longer matches. */
	snprintf(path, sizeof(path), "%s/changing.csv", tmpdir);
	rows = seattle_rows();
	write_slice(path, rows, 80);
	verdict(&r, "train --data changing.csv --target temp_max --task regression "
	    "--infer-spec --experiment retrain-changing --rounds 5 --register temp_changing "
	    "--stage Production --quiet");
	ck_assert_exit(&r, 0);
	ck_assert_ptr_nonnull(f = fopen(path, "a"));
	fprintf(f, "2012-03-25,0.0,12.2,3.3,2.1\n");
	ck_assert_int_eq(fclose(f), 0);
	verdict(&r, "retrain --model temp_changing");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "changed since run");
	/* ... gone altogether ... */
	ck_assert_int_eq(unlink(path), 0);
	verdict(&r, "retrain --model temp_changing");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "is gone");
	/* ... and --data is the way out. */
	write_slice(path, rows, 80);
	json_decref(rows);
	verdict(&r, "retrain --model temp_changing --data changing.csv --quiet");
	ck_assert_msg(r.status == 0 || r.status == 3, "exit %d:\n%s", r.status, r.out);
	ck_assert_int_eq((int)fx_db_num("SELECT count(*) FROM retrain_locks WHERE name = $1",
	    "temp_changing"), 0);

	verdict(&r, "retrain");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "--model NAME is required");
	verdict(&r, "retrain --model temp_changing --min-improvement 1.5");
	ck_assert_exit(&r, 2);
	verdict(&r, "retrain --help");
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "4 another");
}
END_TEST

START_TEST(endpoints_check_rights_and_fields)
{
	json_t *j;
	long st;
	int n;

	strong_model("temp_rights");
	/* Another user may read the model (default_permission READ) but not edit it. */
	j = call_as(hdr2, "POST", "/api/models/temp_rights/retrain-lock", NULL, &st);
	ck_assert_int_eq(st, 403);
	ck_assert_str_eq(json_string_value(json_object_get(j, "error_code")), "PERMISSION_DENIED");
	json_decref(j);
	j = call_as(hdr2, "DELETE", "/api/models/temp_rights/retrain-lock/"
	    "0123456789abcdef0123456789abcdef", NULL, &st);
	ck_assert_int_eq(st, 403);
	json_decref(j);
	j = call_as(hdr2, "POST", "/api/models/temp_rights/retrain-result", "{\"candidate_version"
	    "\":1,\"metric\":\"rmse\",\"candidate_value\":1,\"promoted\":true}", &st);
	ck_assert_int_eq(st, 403);
	json_decref(j);
	j = call_as(NULL, "POST", "/api/models/temp_rights/retrain-lock", NULL, &st);
	ck_assert_int_eq(st, 401);
	json_decref(j);
	j = call("POST", "/api/models/nope_nope/retrain-lock", NULL, &st);
	ck_assert_int_eq(st, 404);
	ck_assert_str_eq(json_string_value(json_object_get(j, "error_code")),
	    "RESOURCE_DOES_NOT_EXIST");
	json_decref(j);

	/* Declared fields: each bad one named. */
	j = call("POST", "/api/models/temp_rights/retrain-result", "{\"candidate_version\":1,"
	    "\"metric\":\"accuracy\",\"candidate_value\":1,\"promoted\":true}", &st);
	ck_assert_int_eq(st, 400);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "metric"));
	json_decref(j);
	j = call("POST", "/api/models/temp_rights/retrain-result", "{\"candidate_version\":9,"
	    "\"metric\":\"rmse\",\"candidate_value\":1,\"promoted\":true}", &st);
	ck_assert_int_eq(st, 404);
	json_decref(j);
	j = call("POST", "/api/models/temp_rights/retrain-result", "{\"candidate_version\":1,"
	    "\"metric\":\"rmse\",\"candidate_value\":1,\"promoted\":true,\"production_version\":1}",
	    &st);
	ck_assert_int_eq(st, 400);
	json_decref(j);
	ck_assert_ptr_null(last_event("temp_rights", &n));
	ck_assert_int_eq(n, 0);
	j = call("POST", "/api/models/temp_rights/retrain-result", "{\"candidate_version\":1,"
	    "\"metric\":\"rmse\",\"candidate_value\":1.5,\"promoted\":false,\"reason\":\"x\"}",
	    &st);
	ck_assert_int_eq(st, 201);
	json_decref(j);
	ck_assert_ptr_nonnull(j = last_event("temp_rights", &n));
	ck_assert_int_eq(n, 1);
	ck_assert(json_is_null(json_object_get(j, "production_version")));
	json_decref(j);
}
END_TEST

/* The data (deploy/fetch-data) and the verdict binary. */
static int
setup(void)
{
	const char *b = getenv("VERDICT_BUILDDIR");
	char bin[PATH_MAX];

	snprintf(bin, sizeof(bin), "%s/src/verdict", b && *b ? b : ".");
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "test_retrain: no verdict binary at %s\n", bin);
		return -1;
	}
	if (fx_vega_datasets(datadir, sizeof(datadir)) == -1)
		return -1;
	snprintf(seattle, sizeof(seattle), "%s/data/seattle-weather.csv", datadir);
	return 0;
}

int
main(void)
{
	Suite *s = suite_create("retrain");
	TCase *tc = tcase_create("retrain");
	SRunner *sr;
	int failed;
	char user[64];

	if (setup() == -1)
		return 99;
	if (fx_tmpdir("verdict-retrain-test", tmpdir, sizeof(tmpdir)) == -1)
		return 99;
	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "retrainer%d", getpid());
	if (fx_account(user, 0, hdr, sizeof(hdr)) == -1)
		return 99;
	snprintf(token, sizeof(token), "%s", strstr(hdr, "Bearer ") + 7);
	snprintf(user, sizeof(user), "reader%d", getpid());
	if (fx_account(user, 0, hdr2, sizeof(hdr2)) == -1)
		return 99;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, better_candidate_is_promoted);
	tcase_add_test(tc, worse_candidate_stays_in_staging);
	tcase_add_test(tc, multiclass_uses_log_loss);
	tcase_add_test(tc, lock_keeps_retrains_apart);
	tcase_add_test(tc, bad_input_exits_2);
	tcase_add_test(tc, endpoints_check_rights_and_fields);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
