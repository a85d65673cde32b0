/* test_train.c: `verdict train` run as a user would against a real stack, on public data (vega-datasets) — Python XGBoost agrees on the validation metric, the registered model predicts as its booster, the run carries params, per-iteration metrics and its dataset, and bad input is refused with file, line and column. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
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
	struct fx_cli r = { 0, "" };
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
summary_metric(const struct fx_cli *r, const char *name)
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
run_id_of(const struct fx_cli *r)
{
	static char id[64];
	const char *p = strstr(r->out, "\nrun ");

	if (p == NULL && !strncmp(r->out, "run ", 4))
		p = r->out - 1;
	ck_assert_msg(p != NULL, "no run in:\n%s", r->out);
	ck_assert_int_eq(sscanf(p + 5, "%63[0-9a-f]", id), 1);
	return id;
}

/* Seattle's rows at the 0-based indices (file order) as serving gets them, without the target. */
static json_t *
seattle_rows(json_t *indices)
{
	char dp[PATH_MAX + 64], err[SPEC_ERR_MAX];
	struct arena *a = arena_new((size_t)64 << 20);
	struct csv_table t;
	json_t *rows = json_array(), *v;
	size_t len, i;
	char *csv;

	snprintf(dp, sizeof(dp), "%s/data/seattle-weather.csv", datadir);
	ck_assert_ptr_nonnull(csv = fx_slurp(dp, &len));
	ck_assert_int_eq(csv_table_parse(a, csv, len, 100000, &t, err, sizeof(err)), 0);
	json_array_foreach(indices, i, v) {
		long bad;
		json_t *o = csv_record_json(&t, (size_t)json_integer_value(v) + 1, &bad);

		ck_assert_ptr_nonnull(o);
		json_object_del(o, "temp_max");
		json_array_append_new(rows, o);
	}
	free(csv);
	arena_free(a);
	return rows;
}

/*
 * /api/models/{model}/predict answers rows (raw objects) as the booster and
 * spec in dir/model/ (under the test's directory) do through libxgboost.
 * Returns how many rows were compared.
 */
static size_t
assert_serves_as_booster(const char *model, const char *dir, json_t *rows)
{
	char sp[PATH_MAX], bp[PATH_MAX], path[256], err[SPEC_ERR_MAX];
	struct spec *s;
	BoosterHandle b;
	DMatrixHandle dmx;
	bst_ulong n;
	const float *want;
	size_t i, w, nv = json_array_size(rows);
	char *req;
	json_t *v, *preds, *pred, *spec_j;
	float *x;
	long st;

	snprintf(sp, sizeof(sp), "%s/%s/model/spec.json", tmpdir, dir);
	snprintf(bp, sizeof(bp), "%s/%s/model/model.ubj", tmpdir, dir);
	ck_assert_ptr_nonnull(spec_j = json_load_file(sp, 0, NULL));
	ck_assert_ptr_nonnull(s = spec_parse(spec_j, err, sizeof(err)));
	w = spec_width(s);
	x = malloc((nv ? nv : 1) * w * sizeof(float));
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
	snprintf(path, sizeof(path), "/api/models/%s/predict", model);
	pred = call("POST", path, req, &st);
	ck_assert_msg(st == 200, "predict: %ld", st);
	preds = json_object_get(pred, "predictions");
	ck_assert_uint_eq(json_array_size(preds), nv);
	for (i = 0; i < nv; i++) {
		double got = json_number_value(json_object_get(json_array_get(preds, i), "value"));

		ck_assert_msg(fabs(got - want[i]) <= 1e-6 * fmax(1, fabs(want[i])),
		    "row %zu: API %.9g, booster %.9g", i, got, (double)want[i]);
	}
	free(req);
	json_decref(pred);
	XGDMatrixFree(dmx);
	XGBoosterFree(b);
	free(x);
	json_decref(spec_j);
	spec_free(s);
	return nv;
}

/* ---- tests ---- */

/*
 * Regression on Seattle's daily maximum temperature, split by date, with
 * early stopping: the metric matches Python's, the run holds what was
 * logged, and the registered version answers as the booster on disk.
 */
START_TEST(regression_by_time_matches_python_and_serves)
{
	struct fx_cli r;
	json_t *py, *runs, *rn, *hist, *m, *ver, *split, *rows;
	char path[2048], body[4096];
	const char *id;
	long st;
	double ours;
	size_t npoints, rounds;

	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
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
		char sp[PATH_MAX];
		size_t nv;

		snprintf(sp, sizeof(sp), "%s/reg-split.json", tmpdir);
		ck_assert_ptr_nonnull(split = json_load_file(sp, 0, NULL));
		rows = seattle_rows(json_object_get(split, "valid"));
		nv = assert_serves_as_booster("seattle_temp", "reg-out", rows);
		ck_assert_uint_gt(nv, 200);
		fprintf(stderr, "# %zu validation rows: /api/models/seattle_temp/predict equals "
		    "the booster on disk\n", nv);
		json_decref(rows);
		json_decref(split);
	}
	json_decref(py);
}
END_TEST

/* Five kinds of weather, a seeded shuffle split: mlogloss matches Python's. */
START_TEST(multiclass_shuffle_matches_python)
{
	struct fx_cli r;
	json_t *py, *spec_j, *runs, *rn;
	char args[2048], sp[PATH_MAX];

	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target weather --task multiclass "
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
	struct fx_cli r;
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
	fx_verdict(&r, tmpdir, "train --data flights.jsonl --target late --task binary --infer-spec "
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
	struct fx_cli r;
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
	fx_verdict(&r, tmpdir, "train --data bad-%s.csv %s %s --experiment %s --register %s --url %s "
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
	struct fx_cli r;
	json_t *runs, *rn;
	long st;

	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
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
	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out f.spec.json --experiment nowhere --tracking-uri "
	    "http://127.0.0.1:1 --url %s --token %s", datadir, harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "cannot reach http://127.0.0.1:1");
}
END_TEST

START_TEST(help_and_usage)
{
	struct fx_cli r;

	fx_verdict(&r, tmpdir, "train --help");
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "usage: verdict train --data FILE");
	ck_assert_out(&r, "Exit status: 0 done");
	ck_assert_out(&r, "[--search N --space FILE [--register-best K]]");
	fx_verdict(&r, tmpdir, "train --data x.csv --target y --task regression --infer-spec");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "--experiment are required");
	fx_verdict(&r, tmpdir, "train --data x.csv --target y --task ranking --infer-spec --experiment e");
	ck_assert_exit(&r, 2);
	fx_verdict(&r, tmpdir, "train --data x.csv --target y --task regression --infer-spec --experiment e "
	    "--register m --alias latest");
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "--alias must be");
	fx_verdict(&r, tmpdir, "train --data x.csv --target y --task regression --infer-spec --experiment e "
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
	struct fx_cli r;
	char path[PATH_MAX + 64];

	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
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

/* ---- hyperparameter search ---- */

static const char search_space[] = "{\"max_depth\": {\"int\": [2, 6]},\n"
    " \"learning_rate\": {\"log_uniform\": [0.05, 0.5]},\n"
    " \"subsample\": {\"uniform\": [0.6, 1.0]},\n"
    " \"n_estimators\": {\"choice\": [10, 20, 30]}}\n";

static void
write_text(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The id after `prefix` in the output (static buffer). */
static const char *
id_after(const struct fx_cli *r, const char *prefix)
{
	static char id[64];
	const char *p = strstr(r->out, prefix);

	ck_assert_msg(p != NULL, "no \"%s\" in:\n%s", prefix, r->out);
	ck_assert_int_eq(sscanf(p + strlen(prefix), "%63[0-9a-f]", id), 1);
	return id;
}

static const char *
info_of(json_t *run, const char *k)
{
	return json_string_value(json_object_get(json_object_get(run, "info"), k));
}

/* The latest value of metric k of a run as runs/search shows it; NAN when missing. */
static double
metric(json_t *run, const char *k)
{
	json_t *m = fx_run_value(run, "metrics", k);

	return m != NULL ? json_number_value(m) : NAN;
}

static double
num_param(json_t *run, const char *k)
{
	const char *v = param(run, k);

	ck_assert_msg(v != NULL, "run %s has no param %s", info_of(run, "run_id"), k);
	return strtod(v, NULL);
}

/* The runs whose mlflow.parentRunId is parent, through runs/search (caller decrefs). */
static json_t *
children_of(const char *exp_id, const char *parent)
{
	char body[512];
	long st;
	json_t *j;

	snprintf(body, sizeof(body), "{\"experiment_ids\":[\"%s\"],\"filter\":"
	    "\"tags.mlflow.parentRunId = '%s'\",\"max_results\":100}", exp_id, parent);
	j = call("POST", "/api/2.0/mlflow/runs/search", body, &st);
	ck_assert_int_eq(st, 200);
	if (json_object_get(j, "runs") == NULL)
		json_object_set_new(j, "runs", json_array());
	return j;
}

static json_t *
run_named(json_t *runs, const char *id)
{
	size_t i;
	json_t *rn;

	json_array_foreach(json_object_get(runs, "runs"), i, rn)
		if (!strcmp(info_of(rn, "run_id"), id))
			return rn;
	ck_assert_msg(0, "run %s not found", id);
	return NULL;
}

/*
 * --search 4: one parent and exactly 4 children that point at it, sampled
 * params inside the space and not all equal, the parent's best run the one
 * whose final validation metric is lowest, its history one point per trial;
 * the run and experiment pages show the children; the same seed draws the
 * same trials again.
 */
START_TEST(search_logs_children_under_a_parent)
{
	struct fx_cli r;
	json_t *runs, *kids, *parent, *kid, *hist, *again;
	char path[512], first[2][256];
	const char *pid, *exp_id;
	char best_id[64] = "", sig[4][256];
	double best = INFINITY;
	size_t i, distinct = 0;
	struct http_resp page;
	long st;

	write_text("space.json", search_space);
	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out s.spec.json --experiment search-reg --run-name tune "
	    "--seed 3 --valid-fraction 0.25 --param max_depth=9 --param learning_rate=0.9 "
	    "--search 4 --space space.json --out search-out --url %s --token %s", datadir,
	    harness_url(), token);
	ck_assert_exit(&r, 0);
	pid = id_after(&r, "search run ");
	ck_assert_out(&r, "[1/4] max_depth=");
	ck_assert_out(&r, "[4/4] max_depth=");
	ck_assert_out(&r, "model in search-out/trial-");
	ck_assert_ptr_nonnull(runs = runs_of("search-reg"));
	/* The parent and its four children, nothing else. */
	ck_assert_uint_eq(json_array_size(json_object_get(runs, "runs")), 5);
	parent = run_named(runs, pid);
	exp_id = info_of(parent, "experiment_id");
	ck_assert_str_eq(info_of(parent, "status"), "FINISHED");
	ck_assert_str_eq(tag(parent, "mlflow.runName"), "tune");
	ck_assert_ptr_null(tag(parent, "mlflow.parentRunId"));
	ck_assert_str_eq(param(parent, "search.trials"), "4");
	ck_assert_str_eq(param(parent, "search.seed"), "3");
	ck_assert_str_eq(param(parent, "search.objective"), "valid_rmse");
	ck_assert_str_eq(param(parent, "search.direction"), "minimize");
	ck_assert_ptr_nonnull(strstr(tag(parent, "verdict.search.space"), "log_uniform"));

	kids = children_of(exp_id, pid);
	ck_assert_uint_eq(json_array_size(json_object_get(kids, "runs")), 4);
	json_array_foreach(json_object_get(kids, "runs"), i, kid) {
		double depth = num_param(kid, "max_depth"), eta = num_param(kid, "eta"),
		    sub = num_param(kid, "subsample"), rounds = num_param(kid, "num_boost_round"),
		    obj = metric(kid, "rmse");
		int k;

		ck_assert_str_eq(info_of(kid, "status"), "FINISHED");
		ck_assert_str_eq(tag(kid, "mlflow.parentRunId"), pid);
		ck_assert_str_eq(tag(kid, "mlflow.source.name"), "verdict train");
		ck_assert_msg(depth >= 2 && depth <= 6 && depth == floor(depth), "depth %g", depth);
		ck_assert_msg(eta >= 0.05 && eta <= 0.5, "eta %g", eta);
		ck_assert_msg(sub >= 0.6 && sub <= 1.0, "subsample %g", sub);
		ck_assert_msg(rounds == 10 || rounds == 20 || rounds == 30, "rounds %g", rounds);
		/* The sampled eta replaced --param learning_rate: one key, not two. */
		ck_assert_ptr_null(param(kid, "learning_rate"));
		ck_assert_str_eq(param(kid, "objective"), "reg:squarederror");
		/* Per-iteration history like a plain run: rounds points at most (no early stop). */
		snprintf(path, sizeof(path), "/api/2.0/mlflow/metrics/get-history?run_id=%s&"
		    "metric_key=valid_rmse", info_of(kid, "run_id"));
		hist = call("GET", path, NULL, &st);
		ck_assert_int_eq(st, 200);
		ck_assert_uint_eq(json_array_size(json_object_get(hist, "metrics")), (size_t)rounds);
		json_decref(hist);
		ck_assert_msg(isfinite(obj), "child without its final rmse");
		if (obj < best) {
			best = obj;
			snprintf(best_id, sizeof(best_id), "%s", info_of(kid, "run_id"));
		}
		/* Trial k's objective is point k of the parent's history. */
		ck_assert_int_eq(sscanf(tag(kid, "mlflow.runName"), "tune-%d", &k), 1);
		ck_assert(k >= 1 && k <= 4);
		snprintf(sig[k - 1], sizeof(sig[0]), "%s %s %s %s", param(kid, "max_depth"),
		    param(kid, "eta"), param(kid, "subsample"), param(kid, "num_boost_round"));
		snprintf(path, sizeof(path), "/api/2.0/mlflow/metrics/get-history?run_id=%s&"
		    "metric_key=trial_valid_rmse", pid);
		hist = call("GET", path, NULL, &st);
		ck_assert_int_eq(st, 200);
		ck_assert_uint_eq(json_array_size(json_object_get(hist, "metrics")), 4);
		{
			size_t h;
			json_t *pt;
			int found = 0;

			json_array_foreach(json_object_get(hist, "metrics"), h, pt)
				if (json_integer_value(json_object_get(pt, "step")) == k) {
					ck_assert_double_eq_tol(json_number_value(json_object_get(pt,
					    "value")), obj, 1e-9 * fmax(1, obj));
					found++;
				}
			ck_assert_int_eq(found, 1);
		}
		json_decref(hist);
	}
	for (i = 0; i < 4; i++) {
		size_t k;

		for (k = 0; k < i && strcmp(sig[k], sig[i]); k++)
			;
		distinct += k == i;
	}
	ck_assert_msg(distinct > 1, "all four trials drew %s", sig[0]);
	ck_assert_str_eq(tag(parent, "verdict.search.best_run_id"), best_id);
	ck_assert_double_eq_tol(metric(parent, "best_valid_rmse"), best, 1e-9 * fmax(1, best));
	ck_assert_out(&r, best_id);

	/* The pages: the parent's run page and the experiment's runs table list every child. */
	snprintf(path, sizeof(path), "/runs/%s", pid);
	ck_assert_int_eq(fx_call(hdr, "GET", path, NULL, NULL, &page), 200);
	ck_assert_ptr_nonnull(strstr(page.body, "Child runs"));
	json_array_foreach(json_object_get(kids, "runs"), i, kid) {
		char href[128];

		snprintf(href, sizeof(href), "href=\"/runs/%s\"", info_of(kid, "run_id"));
		ck_assert_msg(strstr(page.body, href) != NULL, "run page lacks %s", href);
	}
	http_resp_free(&page);
	snprintf(path, sizeof(path), "/experiments/%s", exp_id);
	ck_assert_int_eq(fx_call(hdr, "GET", path, NULL, NULL, &page), 200);
	json_array_foreach(json_object_get(kids, "runs"), i, kid)
		ck_assert_msg(strstr(page.body, info_of(kid, "run_id")) != NULL,
		    "experiment page lacks %s", info_of(kid, "run_id"));
	http_resp_free(&page);
	/* A child's page names its parent. */
	snprintf(path, sizeof(path), "/runs/%s", best_id);
	ck_assert_int_eq(fx_call(hdr, "GET", path, NULL, NULL, &page), 200);
	snprintf(first[0], sizeof(first[0]), "<a href=\"/runs/%s\">tune</a>", pid);
	ck_assert_msg(strstr(page.body, first[0]) != NULL, "child page lacks %s", first[0]);
	http_resp_free(&page);
	json_decref(kids);
	json_decref(runs);

	/* The same seed draws the same first trials. */
	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--spec s.spec.json --experiment search-again --run-name tune --seed 3 "
	    "--valid-fraction 0.25 --search 2 --space space.json --quiet --url %s --token %s",
	    datadir, harness_url(), token);
	ck_assert_exit(&r, 0);
	ck_assert_ptr_null(strstr(r.out, "[1/2]"));
	ck_assert_ptr_nonnull(again = runs_of("search-again"));
	ck_assert_uint_eq(json_array_size(json_object_get(again, "runs")), 3);
	json_array_foreach(json_object_get(again, "runs"), i, kid) {
		int k;

		if (tag(kid, "mlflow.parentRunId") == NULL)
			continue;
		ck_assert_int_eq(sscanf(tag(kid, "mlflow.runName"), "tune-%d", &k), 1);
		snprintf(first[k - 1], sizeof(first[0]), "%s %s %s %s", param(kid, "max_depth"),
		    param(kid, "eta"), param(kid, "subsample"), param(kid, "num_boost_round"));
		ck_assert_str_eq(first[k - 1], sig[k - 1]);
	}
	json_decref(again);
}
END_TEST

/*
 * --register-best 2: two versions, the best trial's first, each linked to its
 * child run; the stage goes to the best only, which predicts as its booster.
 */
START_TEST(search_registers_the_best_two)
{
	struct fx_cli r;
	json_t *runs, *m, *vs, *v, *rn, *idx, *rows;
	const char *pid;
	char exp_id[64];
	const char *order[3] = { NULL, NULL, NULL };
	double obj[3];
	size_t i, n = 0;
	long st;
	char dir[PATH_MAX];

	write_text("space.json", search_space);
	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out s2.spec.json --experiment search-reg2 --seed 11 "
	    "--search 3 --space space.json --register search_best --register-best 2 "
	    "--stage Production --url %s --token %s", datadir, harness_url(), token);
	ck_assert_exit(&r, 0);
	pid = id_after(&r, "search run ");
	ck_assert_out(&r, "registered search_best version 1");
	ck_assert_out(&r, "registered search_best version 2");
	ck_assert_ptr_nonnull(runs = runs_of("search-reg2"));
	snprintf(exp_id, sizeof(exp_id), "%s", info_of(run_named(runs, pid), "experiment_id"));
	ck_assert_str_eq(tag(run_named(runs, pid), "mlflow.runName"), "search");
	json_decref(runs);
	runs = children_of(exp_id, pid);
	/* The children best first, computed here from their logged rmse. */
	json_array_foreach(json_object_get(runs, "runs"), i, rn) {
		double o = metric(rn, "rmse");
		size_t k = n++;

		ck_assert_uint_le(n, 3);
		for (; k > 0 && o < obj[k - 1]; k--) {
			obj[k] = obj[k - 1];
			order[k] = order[k - 1];
		}
		obj[k] = o;
		order[k] = info_of(rn, "run_id");
	}
	ck_assert_uint_eq(n, 3);
	ck_assert_msg(obj[0] < obj[1] && obj[1] < obj[2], "ties: %g %g %g", obj[0], obj[1],
	    obj[2]);
	m = call("GET", "/api/models/search_best", NULL, &st);
	ck_assert_int_eq(st, 200);
	vs = json_object_get(m, "versions");
	ck_assert_uint_eq(json_array_size(vs), 2);
	json_array_foreach(vs, i, v) {
		long long ver = json_integer_value(json_object_get(v, "version"));

		ck_assert(ver == 1 || ver == 2);
		ck_assert_str_eq(json_string_value(json_object_get(v, "run_id")), order[ver - 1]);
		ck_assert_str_eq(json_string_value(json_object_get(v, "stage")), ver == 1 ?
		    "Production" : "None");
	}
	json_decref(m);
	/* The best trial's model went to ./verdict-train-RUN_ID; version 1 serves it. */
	snprintf(dir, sizeof(dir), "verdict-train-%s", order[0]);
	ck_assert_out(&r, dir);
	idx = json_pack("[i]", 100);
	rows = seattle_rows(idx);
	ck_assert_uint_eq(assert_serves_as_booster("search_best", dir, rows), 1);
	json_decref(rows);
	json_decref(idx);
	json_decref(runs);
}
END_TEST

/* A bad space file: exit 2 naming the file and the key, no run, no model. */
static const struct {
	const char *name, *space, *want;
} bad_spaces[] = {
	{ "unknown-key", "{\"depth\": {\"int\": [1, 3]}}", "key 'depth': not a hyperparameter" },
	{ "shape", "{\"eta\": [0.1, 0.2]}", "key 'eta': expected one of" },
	{ "low-above-high", "{\"eta\": {\"uniform\": [0.3, 0.1]}}",
	  "key 'eta': low 0.3 is above high 0.1" },
	{ "log-zero", "{\"eta\": {\"log_uniform\": [0, 0.1]}}",
	  "key 'eta': log_uniform needs low > 0" },
	{ "empty-choice", "{\"n_estimators\": {\"choice\": []}}",
	  "key 'n_estimators': choice is empty" },
	{ "subsample-range", "{\"subsample\": {\"uniform\": [0.5, 1.2]}}",
	  "key 'subsample': [0.5, 1.2] goes outside what XGBoost accepts, (0, 1]" },
	{ "negative-depth", "{\"max_depth\": {\"choice\": [-1, 3]}}",
	  "key 'max_depth': choice value -1 is outside what XGBoost accepts" },
	{ "not-json", "{\"eta\": {\"uniform\": [0.1, 0.2]}", "space-not-json.json:1:" },
};

START_TEST(bad_space_exits_2_and_creates_nothing)
{
	char name[64], want[256];
	struct fx_cli r;
	json_t *before, *after, *j;
	long st;

	/* The experiment exists, so "no run created" is a count, not a missing experiment. */
	json_decref(call("POST", "/api/2.0/mlflow/experiments/create",
	    "{\"name\": \"search-bad\"}", &st));
	ck_assert(st == 200 || st == 400);
	ck_assert_ptr_nonnull(before = runs_of("search-bad"));
	snprintf(name, sizeof(name), "space-%s.json", bad_spaces[_i].name);
	write_text(name, bad_spaces[_i].space);
	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out bad.spec.json --experiment search-bad --search 3 --space %s "
	    "--register search_bad --url %s --token %s", datadir, name, harness_url(), token);
	ck_assert_exit(&r, 2);
	if (_i + 1 < (int)ARRAY_LEN(bad_spaces))
		snprintf(want, sizeof(want), "verdict train: %s: %s", name, bad_spaces[_i].want);
	else
		snprintf(want, sizeof(want), "verdict train: %s", bad_spaces[_i].want);
	ck_assert_out(&r, want);
	ck_assert_ptr_nonnull(after = runs_of("search-bad"));
	ck_assert_uint_eq(json_array_size(json_object_get(after, "runs")),
	    json_array_size(json_object_get(before, "runs")));
	json_decref(before);
	json_decref(after);
	json_decref(j = call("GET", "/api/models/search_bad", NULL, &st));
	ck_assert_int_eq(st, 404);
}
END_TEST

/* Options that do not go together: exit 2 before anything is read. */
static const struct {
	const char *args, *want;
} search_usage[] = {
	{ "--search 3", "--search N and --space FILE go together" },
	{ "--space space.json", "--search N and --space FILE go together" },
	{ "--search 0 --space space.json", "--search must be 1 to 1000" },
	{ "--search 2 --space space.json --register-best 2", "--register-best K goes with" },
	{ "--register-best 1 --register m", "--register-best K goes with" },
	{ "--search 2 --space space.json --register m --register-best 3",
	  "--register-best 3 is more than the 2 trials" },
	{ "--search 2 --space space.json --valid-fraction 0",
	  "--valid-fraction must be between 0 and 1" },
};

START_TEST(search_usage_exits_2)
{
	struct fx_cli r;

	write_text("space.json", search_space);
	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --experiment search-usage %s --url %s --token %s", datadir,
	    search_usage[_i].args, harness_url(), token);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, search_usage[_i].want);
	ck_assert_ptr_null(runs_of("search-usage"));
}
END_TEST

/* A trial XGBoost refuses: that child FAILED, the parent FAILED, exit 1, nothing registered. */
START_TEST(search_failing_trial_fails_the_parent)
{
	struct fx_cli r;
	json_t *runs, *rn;
	size_t i, failed = 0, parents = 0;
	long st;

	write_text("space.json", search_space);
	fx_verdict(&r, tmpdir, "train --data '%s/data/seattle-weather.csv' --target temp_max --task regression "
	    "--infer-spec --spec-out sf.spec.json --experiment search-fail --search 3 "
	    "--space space.json --param tree_method=bogus --register search_fail --url %s "
	    "--token %s", datadir, harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "trial 1 failed: run ");
	ck_assert_out(&r, "search run ");
	ck_assert_out(&r, "marked FAILED");
	ck_assert_ptr_nonnull(runs = runs_of("search-fail"));
	/* The parent and the one trial that ran. */
	ck_assert_uint_eq(json_array_size(json_object_get(runs, "runs")), 2);
	json_array_foreach(json_object_get(runs, "runs"), i, rn) {
		ck_assert_str_eq(info_of(rn, "status"), "FAILED");
		ck_assert_ptr_nonnull(tag(rn, "verdict.error"));
		failed++;
		parents += tag(rn, "mlflow.parentRunId") == NULL;
	}
	ck_assert_uint_eq(failed, 2);
	ck_assert_uint_eq(parents, 1);
	json_decref(runs);
	json_decref(call("GET", "/api/models/search_fail", NULL, &st));
	ck_assert_int_eq(st, 404);
}
END_TEST

/*
 * SIGINT while a trial trains (its first per-iteration line, --verbose, is the
 * cue: no clock involved): that child and the parent are KILLED, exit 130.
 */
START_TEST(search_interrupted_kills_child_and_parent)
{
	char data[PATH_MAX + 64], line[4096], all[65536] = "";
	int fd[2], st, cued = 0;
	json_t *runs, *rn;
	size_t i;
	pid_t pid;
	FILE *f;

	write_text("space-long.json", "{\"n_estimators\": {\"choice\": [100000]}, "
	    "\"max_depth\": {\"int\": [2, 3]}}");
	snprintf(data, sizeof(data), "%s/data/seattle-weather.csv", datadir);
	ck_assert_int_eq(pipe(fd), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		if (chdir(tmpdir) == 0)
			execl(verdict_bin, "verdict", "train", "--data", data, "--target", "temp_max",
			    "--task", "regression", "--infer-spec", "--spec-out", "si.spec.json",
			    "--experiment", "search-int", "--search", "3", "--space", "space-long.json",
			    "--verbose", "--url", harness_url(), "--token", token, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	ck_assert_ptr_nonnull(f = fdopen(fd[0], "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strlen(all) + strlen(line) < sizeof(all))
			strcat(all, line);
		if (!cued && strstr(line, "/100000] ") != NULL) {
			cued = 1;
			ck_assert_int_eq(kill(pid, SIGINT), 0);
		}
	}
	fclose(f);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(cued, "no iteration line:\n%s", all);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d:\n%s", st, all);
	ck_assert_msg(strstr(all, "marked KILLED") != NULL, "%s", all);
	ck_assert_ptr_nonnull(runs = runs_of("search-int"));
	/* The parent and the trial that was training; no trial after it. */
	ck_assert_uint_eq(json_array_size(json_object_get(runs, "runs")), 2);
	json_array_foreach(json_object_get(runs, "runs"), i, rn)
		ck_assert_str_eq(info_of(rn, "status"), "KILLED");
	json_decref(runs);
}
END_TEST

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
	TCase *tc = tcase_create("train"), *ts = tcase_create("search");
	SRunner *sr;
	int failed;
	char user[64];
	const char *t;

	if (setup() == -1)
		return 99;
	if (fx_tmpdir("verdict-train", tmpdir, sizeof(tmpdir)) == -1)
		return 99;
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
	tcase_set_timeout(ts, 300);
	tcase_add_test(ts, search_logs_children_under_a_parent);
	tcase_add_test(ts, search_registers_the_best_two);
	tcase_add_loop_test(ts, bad_space_exits_2_and_creates_nothing, 0,
	    (int)ARRAY_LEN(bad_spaces));
	tcase_add_loop_test(ts, search_usage_exits_2, 0, (int)ARRAY_LEN(search_usage));
	tcase_add_test(ts, search_failing_trial_fails_the_parent);
	tcase_add_test(ts, search_interrupted_kills_child_and_parent);
	suite_add_tcase(s, ts);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
