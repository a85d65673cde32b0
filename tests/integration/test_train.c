/* test_train.c: `verdict train` run as a user would against a real stack, on public data (vega-datasets) — Python XGBoost agrees on the validation metric, the registered model predicts as its booster, the run carries params, per-iteration metrics and its dataset, and bad input is refused with file, line and column. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "csvtab.h"
#include "fixtures.h"
#include "harness.h"
#include "spec.h"
#include "util.h"

static char hdr[300], token[200], verdict_bin[PATH_MAX], tmpdir[64], datadir[1024];
static char srcdir[PATH_MAX], python[PATH_MAX];
static pid_t main_pid;

struct run {
	int status;
	char out[65536];
};

/* `cd TMP && verdict ARGS 2>&1`, no server from the environment. */
static void PRINTF(2, 3)
run(struct run *r, const char *args, ...)
{
	char cmd[16384], a[6000];
	va_list ap;
	FILE *p;
	size_t n = 0, got;
	int st;

	va_start(ap, args);
	ck_assert_int_lt(vsnprintf(a, sizeof(a), args, ap), (int)sizeof(a));
	va_end(ap);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "cd '%s' && env -u VERDICT_URL -u "
	    "VERDICT_TOKEN -u MLFLOW_TRACKING_URI '%s' %s </dev/null 2>&1", tmpdir, verdict_bin,
	    a), (int)sizeof(cmd));
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	while ((got = fread(r->out + n, 1, sizeof(r->out) - 1 - n, p)) > 0)
		n += got;
	r->out[n] = '\0';
	st = pclose(p);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define ck_assert_out(r, s) ck_assert_msg(strstr((r)->out, (s)) != NULL, \
	"output lacks \"%s\":\n%s", (s), (r)->out)
#define ck_assert_exit(r, n) ck_assert_msg((r)->status == (n), \
	"exit %d, want %d:\n%s", (r)->status, (n), (r)->out)

/* A JSON call as the test user; the answer's JSON (caller decrefs) and its status. */
static json_t *
call(const char *method, const char *path, const char *body, long *status)
{
	return fx_json(hdr, method, path, body, status);
}

/* The runs of experiment name (caller decrefs); NULL when it does not exist. */
static json_t *
runs_of(const char *name)
{
	return fx_runs_of(hdr, name);
}

static const char *
tag(json_t *run, const char *k)
{
	return json_string_value(fx_run_value(run, "tags", k));
}

static const char *
param(json_t *run, const char *k)
{
	return json_string_value(fx_run_value(run, "params", k));
}

/* Runs train-python.py with args; its JSON answer (caller decrefs). */
static json_t *
python_train(const char *args)
{
	char cmd[16384];
	struct run r = { 0, "" };
	FILE *p;
	size_t n;
	json_t *j;

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' "
	    "'%s/tests/integration/train-python.py' %s", tmpdir, python, srcdir, args),
	    (int)sizeof(cmd));
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(r.out, 1, sizeof(r.out) - 1, p);
	r.out[n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_msg((j = json_loads(r.out, 0, NULL)) != NULL, "train-python.py: %s", r.out);
	return j;
}

/* The value after "valid NAME " in verdict train's summary line (not the progress lines). */
static double
summary_metric(const struct run *r, const char *name)
{
	char key[64];
	const char *p = strstr(r->out, "rounds, kept iteration");

	snprintf(key, sizeof(key), "valid %s ", name);
	ck_assert_msg(p != NULL && (p = strstr(p, key)) != NULL, "no %s in:\n%s", key, r->out);
	return strtod(p + strlen(key), NULL);
}

static void
assert_close(const char *what, double ours, double theirs)
{
	double rel = fabs(ours - theirs) / fmax(fabs(theirs), 1e-12);

	fprintf(stderr, "# %s: verdict %.9g, Python XGBoost %.9g, relative difference %.2e\n",
	    what, ours, theirs, rel);
	ck_assert_msg(rel <= 0.01, "%s: verdict %g, Python %g", what, ours, theirs);
}

/* The run id in "run ID: ..." of the summary (static buffer). */
static const char *
run_id_of(const struct run *r)
{
	static char id[64];
	const char *p = strstr(r->out, "\nrun ");

	if (p == NULL && !strncmp(r->out, "run ", 4))
		p = r->out - 1;
	ck_assert_msg(p != NULL, "no run in:\n%s", r->out);
	ck_assert_int_eq(sscanf(p + 5, "%63[0-9a-f]", id), 1);
	return id;
}

/* ---- tests ---- */

/*
 * Regression on Seattle's daily maximum temperature, split by date, with
 * early stopping: the metric matches Python's, the run holds what was
 * logged, and the registered version answers as the booster on disk.
 */
START_TEST(regression_by_time_matches_python_and_serves)
{
	struct run r;
	json_t *py, *runs, *rn, *hist, *m, *ver, *split, *spec_j, *rows, *pred;
	char path[2048], body[4096];
	const char *id;
	long st;
	double ours;
	size_t npoints, rounds;

	run(&r, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out reg.spec.json --experiment seattle-reg --run-name temp "
	    "--valid-by date --early-stopping 8 --rounds 150 --param max_depth=4 --param eta=0.2 "
	    "--split-out reg-split.json --out reg-out --register seattle_temp --stage Production "
	    "--url %s --token %s", datadir, harness_url(), token);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "registered seattle_temp version 1");
	ck_assert_out(&r, "seattle_temp version 1: stage Production");
	id = run_id_of(&r);
	/* The model went up through the artifacts proxy, as an MLflow client's would. */
	{
		char apath[256];
		long ast;
		json_t *l;

		snprintf(apath, sizeof(apath), "/api/2.0/mlflow/artifacts/list?run_id=%s&path=model",
		    id);
		l = call("GET", apath, NULL, &ast);
		ck_assert_int_eq(ast, 200);
		{
			char *text = json_dumps(l, JSON_COMPACT);

			ck_assert_msg(strstr(text, "\"model/MLmodel\"") != NULL &&
			    strstr(text, "\"model/model.ubj\"") != NULL &&
			    strstr(text, "\"model/spec.json\"") != NULL, "artifacts: %s", text);
			free(text);
		}
		json_decref(l);
	}

	snprintf(body, sizeof(body), "--data '%s/data/seattle-weather.csv' --spec reg.spec.json "
	    "--target temp_max --split reg-split.json --rounds 150 --early-stopping 8 "
	    "--param max_depth=4 --param eta=0.2", datadir);
	py = python_train(body);
	ours = summary_metric(&r, "rmse");
	assert_close("seattle temp_max valid rmse", ours,
	    json_real_value(json_object_get(py, "best_score")));
	rounds = (size_t)json_integer_value(json_object_get(py, "rounds"));

	/* The run as runs/search shows it. */
	ck_assert_ptr_nonnull(runs = runs_of("seattle-reg"));
	ck_assert_uint_eq(json_array_size(json_object_get(runs, "runs")), 1);
	rn = json_array_get(json_object_get(runs, "runs"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rn, "info"),
	    "run_id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rn, "info"),
	    "status")), "FINISHED");
	ck_assert_str_eq(tag(rn, "mlflow.source.name"), "verdict train");
	ck_assert_str_eq(tag(rn, "mlflow.runName"), "temp");
	ck_assert_str_eq(tag(rn, "verdict.data.file"), "seattle-weather.csv");
	ck_assert_str_eq(tag(rn, "verdict.data.rows"), "1461");
	ck_assert_uint_eq(strlen(tag(rn, "verdict.data.sha256")), 64);
	ck_assert_str_eq(param(rn, "objective"), "reg:squarederror");
	ck_assert_str_eq(param(rn, "max_depth"), "4");
	ck_assert_str_eq(param(rn, "eta"), "0.2");
	ck_assert_str_eq(param(rn, "eval_metric"), "rmse,mae");
	ck_assert_str_eq(param(rn, "spec.inputs"), "5");
	ck_assert_str_eq(param(rn, "spec.task"), "regression");
	ck_assert_str_eq(param(rn, "valid_split"), "time");
	ck_assert_ptr_nonnull(param(rn, "nthread"));
	m = json_object_get(json_object_get(rn, "inputs"), "dataset_inputs");
	ck_assert_uint_eq(json_array_size(m), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(m, 0),
	    "dataset"), "name")), "seattle-weather.csv");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(m, 0),
	    "dataset"), "source_type")), "local");

	/* One history point per iteration, train and validation. */
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/api/2.0/mlflow/metrics/get-history?run_id=%s&"
		    "metric_key=%s", id, k ? "valid_rmse" : "train_mae");
		hist = call("GET", path, NULL, &st);
		ck_assert_int_eq(st, 200);
		npoints = json_array_size(json_object_get(hist, "metrics"));
		ck_assert_msg(npoints == rounds, "%zu points, %zu rounds", npoints, rounds);
		json_decref(hist);
	}
	json_decref(runs);

	/* The version is linked to the run and predicts as the booster on disk. */
	m = call("GET", "/api/models/seattle_temp", NULL, &st);
	ck_assert_int_eq(st, 200);
	ver = json_array_get(json_object_get(m, "versions"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ver, "run_id")), id);
	json_decref(m);
	{
		char sp[PATH_MAX], bp[PATH_MAX], dp[PATH_MAX + 64], err[SPEC_ERR_MAX];
		struct arena *a = arena_new((size_t)64 << 20);
		struct csv_table t;
		struct spec *s;
		BoosterHandle b;
		DMatrixHandle dmx;
		bst_ulong n;
		const float *want;
		size_t len, i;
		char *csv, *req;
		json_t *v, *preds;
		float *x;
		size_t w, nv;

		snprintf(sp, sizeof(sp), "%s/reg-out/model/spec.json", tmpdir);
		snprintf(bp, sizeof(bp), "%s/reg-out/model/model.ubj", tmpdir);
		snprintf(dp, sizeof(dp), "%s/data/seattle-weather.csv", datadir);
		ck_assert_ptr_nonnull(spec_j = json_load_file(sp, 0, NULL));
		ck_assert_ptr_nonnull(s = spec_parse(spec_j, err, sizeof(err)));
		snprintf(sp, sizeof(sp), "%s/reg-split.json", tmpdir);
		ck_assert_ptr_nonnull(split = json_load_file(sp, 0, NULL));
		ck_assert_ptr_nonnull(csv = fx_slurp(dp, &len));
		ck_assert_int_eq(csv_table_parse(a, csv, len, 100000, &t, err, sizeof(err)), 0);
		rows = json_array();
		json_array_foreach(json_object_get(split, "valid"), i, v) {
			long bad;
			json_t *o = csv_record_json(&t, (size_t)json_integer_value(v) + 1, &bad);

			json_object_del(o, "temp_max");
			json_array_append_new(rows, o);
		}
		nv = json_array_size(rows);
		ck_assert_uint_gt(nv, 200);
		w = spec_width(s);
		x = malloc(nv * w * sizeof(float));
		for (i = 0; i < nv; i++)
			ck_assert_int_eq(spec_transform(s, json_array_get(rows, i), 0, x + i * w, err,
			    sizeof(err)), 0);
		ck_assert_int_eq(XGBoosterCreate(NULL, 0, &b), 0);
		ck_assert_int_eq(XGBoosterLoadModel(b, bp), 0);
		ck_assert_int_eq(XGDMatrixCreateFromMat(x, nv, w, NAN, &dmx), 0);
		ck_assert_int_eq(XGBoosterPredict(b, dmx, 0, 0, 0, &n, &want), 0);
		ck_assert_uint_eq(n, nv);
		v = json_pack("{s:O}", "instances", rows);
		req = json_dumps(v, JSON_COMPACT);
		json_decref(v);
		pred = call("POST", "/api/models/seattle_temp/predict", req, &st);
		ck_assert_msg(st == 200, "predict: %ld", st);
		preds = json_object_get(pred, "predictions");
		ck_assert_uint_eq(json_array_size(preds), nv);
		for (i = 0; i < nv; i++) {
			double got = json_number_value(json_object_get(json_array_get(preds, i),
			    "value"));

			ck_assert_msg(fabs(got - want[i]) <= 1e-6 * fmax(1, fabs(want[i])),
			    "row %zu: API %.9g, booster %.9g", i, got, (double)want[i]);
		}
		fprintf(stderr, "# %zu validation rows: /api/models/seattle_temp/predict equals "
		    "the booster on disk\n", nv);
		free(req);
		json_decref(pred);
		XGDMatrixFree(dmx);
		XGBoosterFree(b);
		free(x);
		free(csv);
		json_decref(rows);
		json_decref(split);
		json_decref(spec_j);
		spec_free(s);
		arena_free(a);
	}
	json_decref(py);
}
END_TEST

/* Five kinds of weather, a seeded shuffle split: mlogloss matches Python's. */
START_TEST(multiclass_shuffle_matches_python)
{
	struct run r;
	json_t *py, *spec_j, *runs, *rn;
	char args[2048], sp[PATH_MAX];

	run(&r, "train --data '%s/data/seattle-weather.csv' --target weather --task multiclass "
	    "--infer-spec --spec-out mc.spec.json --experiment seattle-mc --valid-fraction 0.25 "
	    "--seed 7 --early-stopping 10 --rounds 120 --param max_depth=5 --split-out "
	    "mc-split.json --out mc-out --url %s --token %s --quiet", datadir, harness_url(),
	    token);
	ck_assert_exit(&r, 0);
	snprintf(sp, sizeof(sp), "%s/mc.spec.json", tmpdir);
	ck_assert_ptr_nonnull(spec_j = json_load_file(sp, 0, NULL));
	/* Classes inferred from the target, sorted. */
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(spec_j, "classes"),
	    0)), "drizzle");
	ck_assert_uint_eq(json_array_size(json_object_get(spec_j, "classes")), 5);
	json_decref(spec_j);
	snprintf(args, sizeof(args), "--data '%s/data/seattle-weather.csv' --spec mc.spec.json "
	    "--target weather --split mc-split.json --rounds 120 --early-stopping 10 "
	    "--param max_depth=5 --param seed=7", datadir);
	py = python_train(args);
	assert_close("seattle weather valid mlogloss", summary_metric(&r, "mlogloss"),
	    json_real_value(json_object_get(py, "best_score")));
	assert_close("seattle weather valid merror", summary_metric(&r, "merror"),
	    json_real_value(json_object_get(json_object_get(py, "valid"), "merror")));
	json_decref(py);
	ck_assert_ptr_nonnull(runs = runs_of("seattle-mc"));
	rn = json_array_get(json_object_get(runs, "runs"), 0);
	ck_assert_str_eq(param(rn, "num_class"), "5");
	ck_assert_str_eq(param(rn, "objective"), "multi:softprob");
	json_decref(runs);
}
END_TEST

/*
 * Binary from JSON lines (flights-2k with a derived "late" label), dates
 * like 2001/01/14 21:55 found by pattern, categories by frequency.
 */
START_TEST(binary_json_lines_matches_python)
{
	struct run r;
	json_t *py, *spec_j;
	char cmd[16384], sp[PATH_MAX];
	size_t i;
	json_t *in;
	const char *fmt = NULL;

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' -c 'import json,sys\n"
	    "rows = json.load(open(sys.argv[1]))\n"
	    "with open(\"flights.jsonl\", \"w\") as f:\n"
	    "    for r in rows:\n"
	    "        r[\"late\"] = \"late\" if r.pop(\"delay\") > 15 else \"on_time\"\n"
	    "        f.write(json.dumps(r) + \"\\n\")' '%s/data/flights-2k.json'", tmpdir, python,
	    datadir), (int)sizeof(cmd));
	ck_assert_int_eq(system(cmd), 0);
	run(&r, "train --data flights.jsonl --target late --task binary --infer-spec "
	    "--experiment flights --early-stopping 10 --rounds 100 --split-out fl-split.json "
	    "--out fl-out --url %s --token %s", harness_url(), token);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "inferred spec written to flights.spec.json");
	snprintf(sp, sizeof(sp), "%s/flights.spec.json", tmpdir);
	ck_assert_ptr_nonnull(spec_j = json_load_file(sp, 0, NULL));
	json_array_foreach(json_object_get(spec_j, "inputs"), i, in)
		if (!strcmp(json_string_value(json_object_get(in, "name")), "date"))
			fmt = json_string_value(json_object_get(in, "format"));
	ck_assert_str_eq(fmt, "%Y/%m/%d %H:%M");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(spec_j, "classes"),
	    0)), "late");
	json_decref(spec_j);
	py = python_train("--data flights.jsonl --spec flights.spec.json --target late "
	    "--split fl-split.json --rounds 100 --early-stopping 10");
	assert_close("flights late valid logloss", summary_metric(&r, "logloss"),
	    json_real_value(json_object_get(py, "best_score")));
	json_decref(py);
}
END_TEST

/* Each case: a data file, maybe a spec, the arguments; exit 2 and the message. */
static const struct bad_case {
	const char *name, *data, *spec, *args, *want;
} bad_cases[] = {
	{ "missing-target", "a,b\n1,2\n3,4\n", NULL, "--target y --task regression --infer-spec",
	  "bad-missing-target.csv:1: no column 'y' (the --target)" },
	{ "non-numeric-target", "a,y\n1,2\n2,3\n3,4\n4,5\n5,abc\n6,7\n", NULL,
	  "--target y --task regression --infer-spec",
	  "bad-non-numeric-target.csv:6: column 2 (y): the target 'abc' is not a number" },
	{ "single-class", "a,y\n1,yes\n2,yes\n3,yes\n4,yes\n5,yes\n", NULL,
	  "--target y --task binary --infer-spec",
	  "bad-single-class.csv:1: column 2 (y): 1 distinct class; a binary task needs "
	  "exactly 2" },
	{ "empty", "", NULL, "--target y --task regression --infer-spec",
	  "bad-empty.csv:1: empty file" },
	{ "ragged", "a,b,y\n1,2,3\n4,5,6\n7,8\n9,10,11\n", NULL,
	  "--target y --task regression --infer-spec",
	  "bad-ragged.csv:4: 2 columns, but the header has 3" },
	{ "unknown-spec-key", "a,y\n1,2\n2,3\n3,4\n",
	  "{\"task\": \"regression\",\n \"inputs\": [{\"name\": \"a\", \"type\": \"number\"}],\n"
	  " \"features\": [{\"input\": \"a\"}],\n \"thresold\": 0.4}\n",
	  "--target y --task regression",
	  "bad-unknown-spec-key.spec.json:4:2: spec: unknown key 'thresold'" },
	{ "spec-input-not-in-data", "a,y\n1,2\n2,3\n3,4\n",
	  "{\"task\": \"regression\", \"inputs\": [{\"name\": \"a\", \"type\": \"number\"},"
	  " {\"name\": \"zz\", \"type\": \"number\"}], \"features\": [{\"input\": \"a\"},"
	  " {\"input\": \"zz\"}]}", "--target y --task regression",
	  "bad-spec-input-not-in-data.spec.json: input 'zz' is not a column of "
	  "bad-spec-input-not-in-data.csv" },
	{ "bad-date", "d,y\n2013-02-27,1\n2013-02-28,2\n2013-02-30,3\n2013-03-01,4\n"
	  "2013-03-02,5\n2013-03-03,6\n",
	  "{\"task\": \"regression\", \"inputs\": [{\"name\": \"d\", \"type\": \"datetime\","
	  " \"format\": \"%Y-%m-%d\"}], \"features\": [{\"input\": \"d\", \"transform\":"
	  " \"datetime\", \"parts\": [\"month\", \"day\"]}]}",
	  "--target y --task regression --valid-fraction 0.2 --seed 1",
	  "bad-bad-date.csv:4: column 1 (d): field 'd': expected a datetime like '%Y-%m-%d'" },
	{ "bad-date-valid-by", "d,y\n2013-02-27,1\n2013-02-28,2\nyesterday,3\n2013-03-01,4\n",
	  "{\"task\": \"regression\", \"inputs\": [{\"name\": \"d\", \"type\": \"datetime\"}],"
	  " \"features\": [{\"input\": \"d\", \"transform\": \"datetime\", \"parts\":"
	  " [\"month\"]}]}", "--target y --task regression --valid-by d",
	  "bad-bad-date-valid-by.csv:4: column 1 (d): 'yesterday' is not a datetime" },
};

START_TEST(bad_input_exits_2_with_line_and_column)
{
	const struct bad_case *c = &bad_cases[_i];
	char path[PATH_MAX], spec[PATH_MAX + 64] = "", exp[128], model[128], mpath[256];
	struct run r;
	FILE *f;
	long st;
	json_t *j;

	snprintf(path, sizeof(path), "%s/bad-%s.csv", tmpdir, c->name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(c->data, f);
	fclose(f);
	if (c->spec != NULL) {
		snprintf(path, sizeof(path), "%s/bad-%s.spec.json", tmpdir, c->name);
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		fputs(c->spec, f);
		fclose(f);
		snprintf(spec, sizeof(spec), "--spec bad-%s.spec.json", c->name);
	}
	snprintf(exp, sizeof(exp), "bad-%s", c->name);
	snprintf(model, sizeof(model), "bad_%d", _i);
	run(&r, "train --data bad-%s.csv %s %s --experiment %s --register %s --url %s "
	    "--token %s", c->name, spec, c->args, exp, model, harness_url(), token);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, c->want);
	/* Nothing logged, nothing registered. */
	ck_assert_ptr_null(j = runs_of(exp));
	snprintf(mpath, sizeof(mpath), "/api/models/%s", model);
	json_decref(call("GET", mpath, NULL, &st));
	ck_assert_int_eq(st, 404);
}
END_TEST

/* XGBoost refuses a parameter once the run exists: FAILED, exit 1, no model. */
START_TEST(failure_mid_training_marks_run_failed)
{
	struct run r;
	json_t *runs, *rn;
	long st;

	run(&r, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out f.spec.json --experiment failing --param tree_method=bogus "
	    "--register failing_model --url %s --token %s", datadir, harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "XGBoost training: ");
	ck_assert_out(&r, "marked FAILED");
	ck_assert_ptr_nonnull(runs = runs_of("failing"));
	ck_assert_uint_eq(json_array_size(json_object_get(runs, "runs")), 1);
	rn = json_array_get(json_object_get(runs, "runs"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rn, "info"),
	    "status")), "FAILED");
	ck_assert_ptr_nonnull(strstr(tag(rn, "verdict.error"), "bogus"));
	json_decref(runs);
	json_decref(call("GET", "/api/models/failing_model", NULL, &st));
	ck_assert_int_eq(st, 404);

	/* An unreachable tracking server: exit 1 before any run, nothing registered. */
	run(&r, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out f.spec.json --experiment nowhere --tracking-uri "
	    "http://127.0.0.1:1 --url %s --token %s", datadir, harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "cannot reach http://127.0.0.1:1");
}
END_TEST

START_TEST(help_and_usage)
{
	struct run r;

	run(&r, "train --help");
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "usage: verdict train --data FILE");
	ck_assert_out(&r, "Exit status: 0 done");
	run(&r, "train --data x.csv --target y --task regression --infer-spec");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "--experiment are required");
	run(&r, "train --data x.csv --target y --task ranking --infer-spec --experiment e");
	ck_assert_exit(&r, 2);
	run(&r, "train --data x.csv --target y --task regression --infer-spec --experiment e "
	    "--register m --alias latest");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "--alias must be");
	run(&r, "train --data x.csv --target y --task regression --infer-spec --experiment e "
	    "--register m --no-tracking");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "--no-tracking goes with neither --register");
}
END_TEST

/*
 * --no-tracking with a reachable server at hand: the model files are
 * written, and the server never hears of the experiment.
 */
START_TEST(no_tracking_writes_model_and_logs_nothing)
{
	static const char *const files[] = { "model/model.ubj", "model/spec.json",
		"model/MLmodel", "feature_importance.json" };
	struct run r;
	char path[PATH_MAX + 64];

	run(&r, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out nt.spec.json --experiment untracked --rounds 20 "
	    "--no-tracking --out nt --url %s --token %s", datadir, harness_url(), token);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "model in nt");
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "%s/nt/%s", tmpdir, files[i]);
		ck_assert_msg(access(path, R_OK) == 0, "%s was not written", path);
	}
	ck_assert_ptr_null(runs_of("untracked"));
}
END_TEST

static void
cleanup(void)
{
	char cmd[256];

	if (getpid() != main_pid || tmpdir[0] == '\0')
		return;
	if (getenv("VERDICT_KEEP_TEST_DIR") != NULL) {
		fprintf(stderr, "test_train: files kept in %s\n", tmpdir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_train: could not remove %s\n", tmpdir);
}

/* The verdict binary, the source tree, python, and the data (deploy/fetch-data). */
static int
setup(void)
{
	const char *b = getenv("VERDICT_BUILDDIR"), *s = getenv("VERDICT_SRCDIR"),
	    *py = getenv("VERDICT_PYTHON");
	char cmd[PATH_MAX * 2];
	FILE *p;
	size_t n;

	snprintf(verdict_bin, sizeof(verdict_bin), "%s/src/verdict", b && *b ? b : ".");
	snprintf(srcdir, sizeof(srcdir), "%s", s && *s ? s : ".");
	snprintf(python, sizeof(python), "%s", py && *py ? py : "/usr/bin/python3");
	if (access(verdict_bin, X_OK) != 0) {
		fprintf(stderr, "test_train: no verdict binary at %s\n", verdict_bin);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "'%s' -c 'import xgboost, numpy'", python);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_train: %s cannot import xgboost and numpy (Debian "
		    "python3-xgboost): run deploy/install-deps\n", python);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "'%s/deploy/fetch-data' vega-datasets", srcdir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	n = fread(datadir, 1, sizeof(datadir) - 1, p);
	datadir[n] = '\0';
	datadir[strcspn(datadir, "\n")] = '\0';
	if (pclose(p) != 0 || datadir[0] == '\0' || strchr(datadir, '\'') != NULL) {
		fprintf(stderr, "test_train: deploy/fetch-data vega-datasets gave no directory\n");
		return -1;
	}
	return 0;
}

int
main(void)
{
	Suite *s = suite_create("train");
	TCase *tc = tcase_create("train");
	SRunner *sr;
	int failed;
	char user[64];
	const char *t;

	if (setup() == -1)
		return 99;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/verdict-train-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 99;
	main_pid = getpid();
	atexit(cleanup);
	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "trainer%d", getpid());
	if (fx_account(user, 0, hdr, sizeof(hdr)) == -1)
		return 99;
	t = strstr(hdr, "Bearer ") + 7;
	snprintf(token, sizeof(token), "%s", t);

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, regression_by_time_matches_python_and_serves);
	tcase_add_test(tc, multiclass_shuffle_matches_python);
	tcase_add_test(tc, binary_json_lines_matches_python);
	tcase_add_loop_test(tc, bad_input_exits_2_with_line_and_column, 0,
	    (int)ARRAY_LEN(bad_cases));
	tcase_add_test(tc, failure_mid_training_marks_run_failed);
	tcase_add_test(tc, help_and_usage);
	tcase_add_test(tc, no_tracking_writes_model_and_logs_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
