/* test_crosscheck.c: verdict against XGBoost itself — models trained by Python XGBoost on public data, served through every endpoint, equal to Python's, libxgboost's DMatrix and the xgboost CLI's predictions. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "fixtures.h"
#include "harness.h"
#include "spec.h"

/*
 * main() runs deploy/fetch-data (vega-datasets, pinned) and
 * tests/integration/train-reference.py into a temporary directory before the
 * stack starts: Python XGBoost trains three models on rows this program never
 * reads, with specs that use datetime and category inputs, and writes the
 * held-out raw rows, their feature vectors and its own predictions. Every
 * test then loads one model in one booster format and checks:
 *   - Python's predictions, libxgboost's DMatrix path (XGDMatrixCreateFromMat
 *     + XGBoosterPredict) and the Debian xgboost CLI (task=pred) agree;
 *   - verdict's spec turns each raw row into exactly Python's feature vector;
 *   - every serving endpoint answers each row with those same values.
 * A missing tool is a hard error (exit 99), never a skip.
 */

/* float32 noise only: identical pipelines give identical floats (diff 0). */
#define TOL 1e-6
#define MAX_ROWS 1000
#define MAX_OUT 16

static char refdir[512];         /* the Python script's output, made in main */
static char auth_header[200];
static char default_model[64];   /* behind POST /predict (VERDICT_DEFAULT_MODEL) */

static const char *const *
auth(void)
{
	static const char *hdrs[2] = { auth_header, NULL };

	return hdrs;
}

/* ---- reading the reference files ---- */

/* Every number in a text file (separated by spaces, commas or newlines; "nan"
 * allowed) into out[0..cap); returns how many, or -1 (unreadable, garbage, > cap). */
static long
read_floats(const char *path, float *out, size_t cap)
{
	char *text = fx_slurp(path, NULL), *p, *end;
	long n = -1;
	size_t k = 0;

	if (text == NULL)
		return -1;
	for (p = text;;) {
		p += strspn(p, " ,\t\r\n");
		if (*p == '\0')
			break;
		if (k == cap)
			goto out;
		errno = 0;
		out[k] = strtof(p, &end);
		if (end == p || errno == ERANGE)
			goto out;
		k++;
		p = end;
	}
	n = (long)k;
out:
	free(text);
	return n;
}

/* One model of the manifest in one booster format, with its references. */
struct ref {
	char name[64];          /* seattle_temp ... */
	const char *fmt;        /* "json" | "ubj" */
	char dir[640];
	char model[96];         /* the name registered in verdict */
	enum spec_task task;
	const char *classes[MAX_OUT];
	size_t nclasses;
	double threshold;
	size_t n, width, nout;  /* rows, features, outputs per row */
	json_t *manifest;       /* owns classes' strings */
	json_t *spec;
	json_t *rows;           /* held-out raw rows */
	float *x;               /* Python's feature vectors, n * width */
	float *py, *dm, *cli;   /* n * nout each */
};

static const char *const formats[] = { "json", "ubj" };

/* libxgboost's own answer: a DMatrix from the dense matrix and the classic
 * XGBoosterPredict (not verdict's in-place path), model loaded from the file. */
static void
dmatrix_predict(struct ref *R)
{
	char path[768];
	BoosterHandle b = NULL;
	DMatrixHandle d = NULL;
	bst_ulong len;
	const float *res;

	snprintf(path, sizeof(path), "%s/model.%s", R->dir, R->fmt);
	ck_assert_int_eq(XGBoosterCreate(NULL, 0, &b), 0);
	ck_assert_msg(XGBoosterLoadModel(b, path) == 0, "%s: %s", path, XGBGetLastError());
	ck_assert_int_eq(XGDMatrixCreateFromMat(R->x, R->n, R->width, NAN, &d), 0);
	ck_assert_msg(XGBoosterPredict(b, d, 0, 0, 0, &len, &res) == 0, "%s",
	    XGBGetLastError());
	ck_assert_uint_eq(len, R->n * R->nout);
	memcpy(R->dm, res, sizeof(float) * len);
	XGDMatrixFree(d);
	XGBoosterFree(b);
}

/* The Debian xgboost CLI: task=pred on the LIBSVM file, model in R->fmt. */
static void
cli_predict(struct ref *R)
{
	char conf[768], cmd[2048], log[768], pred[768];
	FILE *f;
	int st;
	long k;

	snprintf(conf, sizeof(conf), "%s/cli-%s.conf", R->dir, R->fmt);
	snprintf(pred, sizeof(pred), "%s/cli-%s.txt", R->dir, R->fmt);
	snprintf(log, sizeof(log), "%s/cli-%s.log", R->dir, R->fmt);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "task = pred\nmodel_in = model.%s\ntest:data = features.libsvm\n"
	    "name_pred = cli-%s.txt\nnthread = 1\n", R->fmt, R->fmt);
	fclose(f);
	/* Our own mkdtemp path: no quotes in it. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && xgboost 'cli-%s.conf' >'%s' 2>&1", R->dir,
	    R->fmt, log);
	st = system(cmd);
	if (st != 0) {
		char *l = fx_slurp(log, NULL);

		ck_abort_msg("xgboost CLI failed (status %d): %s", st, l ? l : "(no log)");
	}
	k = read_floats(pred, R->cli, R->n * R->nout);
	ck_assert_msg(k == (long)(R->n * R->nout), "%s: %ld values, want %zu", pred, k,
	    R->n * R->nout);
}

/* Loads case i (model i / 2 in the manifest, format i % 2) and computes the
 * DMatrix and CLI references. */
static void
ref_load(struct ref *R, int i)
{
	char path[768];
	json_t *m;
	json_error_t jerr;
	long k;

	memset(R, 0, sizeof(*R));
	snprintf(path, sizeof(path), "%s/manifest.json", refdir);
	ck_assert_msg((R->manifest = json_load_file(path, 0, &jerr)) != NULL, "%s: %s", path,
	    jerr.text);
	m = json_array_get(json_object_get(R->manifest, "models"), (size_t)i / 2);
	ck_assert_ptr_nonnull(m);
	R->fmt = formats[i % 2];
	snprintf(R->name, sizeof(R->name), "%s", json_string_value(json_object_get(m, "name")));
	snprintf(R->dir, sizeof(R->dir), "%s/%s", refdir, R->name);
	snprintf(R->model, sizeof(R->model), "xc_%s_%s", R->name, R->fmt);
	R->n = (size_t)json_integer_value(json_object_get(m, "rows"));
	R->width = (size_t)json_integer_value(json_object_get(m, "width"));
	R->nout = (size_t)json_integer_value(json_object_get(m, "outputs"));
	R->threshold = json_number_value(json_object_get(m, "threshold"));
	ck_assert(R->n > 0 && R->n <= MAX_ROWS && R->width > 0 && R->nout >= 1 &&
	    R->nout <= MAX_OUT);
	{
		const char *t = json_string_value(json_object_get(m, "task"));
		json_t *cl = json_object_get(m, "classes"), *c;
		size_t j;

		ck_assert_ptr_nonnull(t);
		R->task = !strcmp(t, "regression") ? SPEC_REGRESSION : !strcmp(t, "binary") ?
		    SPEC_BINARY : SPEC_MULTICLASS;
		ck_assert_uint_le(json_array_size(cl), MAX_OUT);
		json_array_foreach(cl, j, c)
			R->classes[j] = json_string_value(c);
		R->nclasses = json_array_size(cl);
		if (R->task == SPEC_MULTICLASS)
			ck_assert_uint_eq(R->nclasses, R->nout);
	}
	snprintf(path, sizeof(path), "%s/spec.json", R->dir);
	ck_assert_msg((R->spec = json_load_file(path, 0, &jerr)) != NULL, "%s", jerr.text);
	snprintf(path, sizeof(path), "%s/rows.json", R->dir);
	ck_assert_msg((R->rows = json_load_file(path, 0, &jerr)) != NULL, "%s", jerr.text);
	ck_assert_uint_eq(json_array_size(R->rows), R->n);
	R->x = malloc(sizeof(float) * R->n * R->width);
	R->py = malloc(sizeof(float) * R->n * R->nout);
	R->dm = malloc(sizeof(float) * R->n * R->nout);
	R->cli = malloc(sizeof(float) * R->n * R->nout);
	ck_assert(R->x && R->py && R->dm && R->cli);
	snprintf(path, sizeof(path), "%s/features.csv", R->dir);
	k = read_floats(path, R->x, R->n * R->width);
	ck_assert_msg(k == (long)(R->n * R->width), "%s: %ld values", path, k);
	snprintf(path, sizeof(path), "%s/python-pred.txt", R->dir);
	k = read_floats(path, R->py, R->n * R->nout);
	ck_assert_msg(k == (long)(R->n * R->nout), "%s: %ld values", path, k);
	dmatrix_predict(R);
	cli_predict(R);
}

static void
ref_free(struct ref *R)
{
	json_decref(R->manifest);
	json_decref(R->spec);
	json_decref(R->rows);
	free(R->x);
	free(R->py);
	free(R->dm);
	free(R->cli);
}

/* ---- comparing ---- */

/* Largest |difference| seen per reference, for the report line. */
struct maxdiff {
	double py, dm, cli;
	size_t values;
};

static void
report(const struct ref *R, const char *endpoint, const struct maxdiff *d)
{
	fprintf(stderr, "crosscheck: %-15s %-4s %-38s %4zu values  max|diff| python %.3g  "
	    "dmatrix %.3g  cli %.3g\n", R->name, R->fmt, endpoint, d->values, d->py, d->dm,
	    d->cli);
}

/* got is output k of row i: equal to all three references within TOL. */
static void
check_value(const struct ref *R, size_t i, size_t k, json_t *got, const char *where,
    struct maxdiff *d)
{
	size_t at = i * R->nout + k;
	double g, e[3];

	ck_assert_msg(json_is_number(got), "%s %s/%s row %zu: output %zu is not a number",
	    where, R->name, R->fmt, i, k);
	g = json_number_value(got);
	e[0] = fabs(g - R->py[at]);
	e[1] = fabs(g - R->dm[at]);
	e[2] = fabs(g - R->cli[at]);
	if (!(e[0] <= TOL && e[1] <= TOL && e[2] <= TOL)) {
		char *row = json_dumps(json_array_get(R->rows, i), JSON_COMPACT);

		ck_abort_msg("%s %s/%s row %zu output %zu: verdict %.9g, python %.9g, dmatrix "
		    "%.9g, cli %.9g; raw row %s", where, R->name, R->fmt, i, k, g, R->py[at],
		    R->dm[at], R->cli[at], row ? row : "?");
	}
	d->py = fmax(d->py, e[0]);
	d->dm = fmax(d->dm, e[1]);
	d->cli = fmax(d->cli, e[2]);
	d->values++;
}

/* The label XGBoost's output implies: threshold for binary, first maximum
 * for multiclass. NULL when the row is within TOL of a tie, where a label
 * cannot be told apart by value equality alone. */
static const char *
want_label(const struct ref *R, size_t i)
{
	const float *p = R->py + i * R->nout;
	size_t best = 0;

	if (R->task == SPEC_BINARY) {
		if (fabs(p[0] - R->threshold) <= TOL)
			return NULL;
		return R->classes[p[0] >= R->threshold ? 1 : 0];
	}
	for (size_t c = 1; c < R->nout; c++)
		if (p[c] > p[best])
			best = c;
	for (size_t c = 0; c < R->nout; c++)
		if (c != best && p[best] - p[c] <= TOL)
			return NULL;
	return R->classes[best];
}

static void
check_label(const struct ref *R, size_t i, json_t *got, const char *where)
{
	const char *want = want_label(R, i), *g = json_string_value(got);

	ck_assert_msg(g != NULL, "%s %s row %zu: no label", where, R->name, i);
	if (want != NULL)
		ck_assert_msg(!strcmp(g, want), "%s %s/%s row %zu: label '%s', XGBoost's "
		    "output says '%s'", where, R->name, R->fmt, i, g, want);
}

/* Probabilities {label: p} in verdict's answer: each equal to XGBoost's, summing to 1. */
static void
check_probs(const struct ref *R, size_t i, json_t *probs, const char *where,
    struct maxdiff *d)
{
	double sum = 0;

	ck_assert_msg(json_is_object(probs), "%s row %zu: no probabilities", where, i);
	ck_assert_uint_eq(json_object_size(probs), R->nclasses);
	if (R->task == SPEC_BINARY) {
		json_t *p1 = json_object_get(probs, R->classes[1]);

		check_value(R, i, 0, p1, where, d);
		/* P(classes[0]) = 1 - P(classes[1]): compare against XGBoost's too. */
		ck_assert(fabs(json_number_value(json_object_get(probs, R->classes[0])) -
		    (1.0 - R->py[i])) <= TOL);
	} else
		for (size_t c = 0; c < R->nclasses; c++)
			check_value(R, i, c, json_object_get(probs, R->classes[c]), where, d);
	for (size_t c = 0; c < R->nclasses; c++)
		sum += json_number_value(json_object_get(probs, R->classes[c]));
	ck_assert_msg(fabs(sum - 1) <= TOL, "%s %s row %zu: probabilities sum to %.9g", where,
	    R->name, i, sum);
}

/* One prediction object of /api/models/{name}/predict. */
static void
check_prediction(const struct ref *R, size_t i, json_t *p, const char *where,
    struct maxdiff *d)
{
	ck_assert_msg(json_integer_value(json_object_get(p, "prediction_id")) > 0,
	    "%s row %zu: no prediction_id", where, i);
	switch (R->task) {
	case SPEC_REGRESSION:
		check_value(R, i, 0, json_object_get(p, "value"), where, d);
		break;
	case SPEC_BINARY:
		check_value(R, i, 0, json_object_get(p, "value"), where, d);
		check_label(R, i, json_object_get(p, "label"), where);
		check_probs(R, i, json_object_get(p, "probabilities"), where, d);
		break;
	case SPEC_MULTICLASS: {
		const char *want = want_label(R, i);
		json_int_t v = json_integer_value(json_object_get(p, "value"));

		ck_assert(v >= 0 && (size_t)v < R->nclasses);
		if (want != NULL)
			ck_assert_str_eq(R->classes[v], want);
		check_label(R, i, json_object_get(p, "label"), where);
		check_probs(R, i, json_object_get(p, "probabilities"), where, d);
		break;
	}
	}
}

/* ---- HTTP ---- */

static long
post(const char *path, const char *ct, const char *body, size_t len, struct http_resp *r)
{
	ck_assert_int_eq(http_request("POST", path, ct, body, len, auth(), r), 0);
	return r->status;
}

static long
post_json(const char *path, const char *body, struct http_resp *r)
{
	return post(path, "application/json", body, strlen(body), r);
}

/* A JSON value to send, dumped (caller frees). */
static char *
dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* POSTs a JSON document (the reference is taken) and returns the parsed 200 answer. */
static json_t *
post_doc(const char *path, json_t *doc, const char *where)
{
	char *body = dump(doc);
	struct http_resp r;
	json_t *j;

	json_decref(doc);
	ck_assert_msg(post_json(path, body, &r) == 200, "%s: %ld %s", where, r.status, r.body);
	free(body);
	ck_assert_ptr_nonnull(j = http_json(&r));
	http_resp_free(&r);
	return j;
}

static void
create_model(const char *name)
{
	char body[256];
	struct http_resp r;
	long st;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"description\":\"cross-check\"}", name);
	st = post_json("/api/models", body, &r);
	ck_assert_msg(st == 201 || st == 409, "%ld %s", st, r.body);
	http_resp_free(&r);
}

/* Uploads R's booster (its format) and spec as a new version of model; returns the version. */
static int
upload(const struct ref *R, const char *model)
{
	static const char b[] = "verdictCrosscheckBoundary3f9";
	char path[768], ct[128];
	size_t blen, slen, cap, n = 0;
	char *booster, *spec, *body;
	struct http_resp r;
	json_t *j;
	int v;

	snprintf(path, sizeof(path), "%s/model.%s", R->dir, R->fmt);
	ck_assert_ptr_nonnull(booster = fx_slurp(path, &blen));
	snprintf(path, sizeof(path), "%s/spec.json", R->dir);
	ck_assert_ptr_nonnull(spec = fx_slurp(path, &slen));
	cap = blen + slen + 1024;
	ck_assert_ptr_nonnull(body = malloc(cap));
	n += (size_t)snprintf(body + n, cap - n, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"booster\"; filename=\"model.%s\"\r\nContent-Type: application/octet-stream"
	    "\r\n\r\n", b, R->fmt);
	memcpy(body + n, booster, blen);
	n += blen;
	n += (size_t)snprintf(body + n, cap - n, "\r\n--%s\r\nContent-Disposition: form-data; "
	    "name=\"spec\"; filename=\"spec.json\"\r\nContent-Type: application/json\r\n\r\n", b);
	memcpy(body + n, spec, slen);
	n += slen;
	n += (size_t)snprintf(body + n, cap - n, "\r\n--%s\r\nContent-Disposition: form-data; "
	    "name=\"source\"\r\n\r\ntrain-reference.py (python3-xgboost)\r\n--%s--\r\n", b, b);
	ck_assert_uint_lt(n, cap);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b);
	snprintf(path, sizeof(path), "/api/models/%s/versions", model);
	ck_assert_msg(post(path, ct, body, n, &r) == 201, "upload %s/%s: %ld %s", R->name,
	    R->fmt, r.status, r.body);
	j = http_json(&r);
	v = (int)json_integer_value(json_object_get(j, "version"));
	ck_assert_int_gt(v, 0);
	json_decref(j);
	http_resp_free(&r);
	free(booster);
	free(spec);
	free(body);
	return v;
}

/* The spec's input names, in order. */
static size_t
input_names(const struct ref *R, const char **names, size_t cap)
{
	json_t *in = json_object_get(R->spec, "inputs"), *v;
	size_t i;

	ck_assert_uint_le(json_array_size(in), cap);
	json_array_foreach(in, i, v)
		names[i] = json_string_value(json_object_get(v, "name"));
	return json_array_size(in);
}

/* One CSV cell for a JSON value (empty = missing), appended to buf at *n. */
static void
csv_cell(json_t *v, char *buf, size_t cap, size_t *n)
{
	int w = 0;

	if (v == NULL || json_is_null(v))
		w = 0;
	else if (json_is_integer(v))
		w = snprintf(buf + *n, cap - *n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		w = snprintf(buf + *n, cap - *n, "%.17g", json_real_value(v));
	else if (json_is_string(v)) {
		const char *s = json_string_value(v);

		ck_assert_msg(strchr(s, '"') == NULL, "a quote in %s", s);
		w = snprintf(buf + *n, cap - *n, "\"%s\"", s);
	} else
		ck_abort_msg("cannot put a %d into CSV", json_typeof(v));
	ck_assert(w >= 0 && (size_t)w < cap - *n);
	*n += (size_t)w;
}

/* ---- tests ---- */

/* Python, libxgboost's DMatrix and the xgboost CLI agree; verdict's spec builds Python's vectors. */
START_TEST(references_agree_and_spec_builds_pythons_vectors)
{
	struct ref R;
	struct spec *s;
	char err[SPEC_ERR_MAX];
	float *v;
	struct maxdiff d = { 0, 0, 0, 0 };
	size_t nan_cells = 0;

	ref_load(&R, _i);
	for (size_t k = 0; k < R.n * R.nout; k++) {
		double a = fabs(R.py[k] - R.dm[k]), b = fabs(R.py[k] - R.cli[k]);

		ck_assert_msg(a <= TOL && b <= TOL, "%s/%s value %zu: python %.9g, dmatrix %.9g, "
		    "cli %.9g", R.name, R.fmt, k, R.py[k], R.dm[k], R.cli[k]);
		d.dm = fmax(d.dm, a);
		d.cli = fmax(d.cli, b);
		d.values++;
	}
	report(&R, "references (python vs others)", &d);
	if (R.task == SPEC_MULTICLASS)
		for (size_t i = 0; i < R.n; i++) {
			double sum = 0;

			for (size_t c = 0; c < R.nout; c++)
				sum += R.py[i * R.nout + c];
			ck_assert_msg(fabs(sum - 1) <= TOL, "%s row %zu: XGBoost's probabilities "
			    "sum to %.9g", R.name, i, sum);
		}

	/* verdict's own pipeline (src/spec.c, linked in) on the raw rows. */
	s = spec_parse(R.spec, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s: %s", R.name, err);
	ck_assert_uint_eq(spec_width(s), R.width);
	ck_assert_ptr_nonnull(v = malloc(sizeof(float) * R.width));
	for (size_t i = 0; i < R.n; i++) {
		ck_assert_msg(spec_transform(s, json_array_get(R.rows, i), 0, v, err,
		    sizeof(err)) == 0, "%s row %zu: %s", R.name, i, err);
		for (size_t f = 0; f < R.width; f++) {
			float want = R.x[i * R.width + f];

			if (isnan(want))
				nan_cells++;
			ck_assert_msg(isnan(want) ? isnan(v[f]) : v[f] == want, "%s row %zu "
			    "column %zu (%s): verdict %.9g, Python %.9g", R.name, i, f,
			    spec_feature_name(s, f), v[f], want);
		}
	}
	/* The held-out rows leave fields out on purpose: the missing path is covered. */
	ck_assert_uint_gt(nan_cells, 0);
	fprintf(stderr, "crosscheck: %-15s %-4s spec_transform == Python's vectors: %zu rows x "
	    "%zu columns, %zu missing cells\n", R.name, R.fmt, R.n, R.width, nan_cells);
	free(v);
	spec_free(s);
	ref_free(&R);
}
END_TEST

/* POST /api/models/{name}/predict: one batch of every row, then each row alone. */
static void
via_api_predict(const struct ref *R)
{
	char path[256];
	json_t *j, *preds;
	struct maxdiff d = { 0, 0, 0, 0 };

	snprintf(path, sizeof(path), "/api/models/%s/predict", R->model);
	j = post_doc(path, json_pack("{s:O}", "instances", R->rows), "instances");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
	preds = json_object_get(j, "predictions");
	ck_assert_uint_eq(json_array_size(preds), R->n);
	for (size_t i = 0; i < R->n; i++)
		check_prediction(R, i, json_array_get(preds, i), "api instances", &d);
	json_decref(j);
	report(R, "/api/models/{name}/predict instances", &d);

	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < R->n; i++) {
		j = post_doc(path, json_pack("{s:O}", "inputs", json_array_get(R->rows, i)),
		    "inputs");
		preds = json_object_get(j, "predictions");
		ck_assert_uint_eq(json_array_size(preds), 1);
		check_prediction(R, i, json_array_get(preds, 0), "api inputs", &d);
		json_decref(j);
	}
	report(R, "/api/models/{name}/predict inputs", &d);
}

/* {"predictions": [...]} of /invocations: the value, or the label. */
static void
check_invocations(const struct ref *R, json_t *j, const char *where)
{
	json_t *preds = json_object_get(j, "predictions");
	struct maxdiff d = { 0, 0, 0, 0 };
	char what[128];
	size_t labels = 0;

	ck_assert_msg(json_array_size(preds) == R->n, "%s: %zu predictions", where,
	    json_array_size(preds));
	for (size_t i = 0; i < R->n; i++)
		if (R->task == SPEC_REGRESSION)
			check_value(R, i, 0, json_array_get(preds, i), where, &d);
		else {
			check_label(R, i, json_array_get(preds, i), where);
			labels++;
		}
	snprintf(what, sizeof(what), "/invocations %s", where);
	if (R->task == SPEC_REGRESSION)
		report(R, what, &d);
	else
		fprintf(stderr, "crosscheck: %-15s %-4s %-38s %4zu labels equal XGBoost's\n",
		    R->name, R->fmt, what, labels);
}

/* POST /invocations?model=: dataframe_records, dataframe_split and text/csv. */
static void
via_invocations(const struct ref *R)
{
	const char *names[64];
	size_t ni = input_names(R, names, 64), cap = 1 << 20, n = 0, i;
	char path[256], *csv;
	json_t *j, *cols, *data, *row;
	struct http_resp r;

	snprintf(path, sizeof(path), "/invocations?model=%s", R->model);
	j = post_doc(path, json_pack("{s:O}", "dataframe_records", R->rows), "records");
	check_invocations(R, j, "dataframe_records");
	json_decref(j);

	cols = json_array();
	data = json_array();
	for (size_t k = 0; k < ni; k++)
		json_array_append_new(cols, json_string(names[k]));
	json_array_foreach(R->rows, i, row) {
		json_t *rec = json_array();

		for (size_t k = 0; k < ni; k++) {
			json_t *v = json_object_get(row, names[k]);

			json_array_append_new(rec, v ? json_incref(v) : json_null());
		}
		json_array_append_new(data, rec);
	}
	j = post_doc(path, json_pack("{s:{s:o, s:o}}", "dataframe_split", "columns", cols,
	    "data", data), "split");
	check_invocations(R, j, "dataframe_split");
	json_decref(j);

	ck_assert_ptr_nonnull(csv = malloc(cap));
	for (size_t k = 0; k < ni; k++)
		n += (size_t)snprintf(csv + n, cap - n, "%s%s", k ? "," : "", names[k]);
	n += (size_t)snprintf(csv + n, cap - n, "\r\n");
	json_array_foreach(R->rows, i, row) {
		for (size_t k = 0; k < ni; k++) {
			if (k)
				csv[n++] = ',';
			csv_cell(json_object_get(row, names[k]), csv, cap, &n);
		}
		ck_assert_uint_lt(n + 2, cap);
		csv[n++] = '\r';
		csv[n++] = '\n';
	}
	ck_assert_msg(post(path, "text/csv", csv, n, &r) == 200, "csv: %ld %s", r.status,
	    r.body);
	ck_assert_ptr_nonnull(j = http_json(&r));
	http_resp_free(&r);
	check_invocations(R, j, "text/csv");
	json_decref(j);
	free(csv);
}

/* POST /v2/models/{name}[/versions/1]/infer: one tensor per raw field, null = missing. */
static void
via_v2(const struct ref *R, int versioned)
{
	const char *names[64];
	size_t ni = input_names(R, names, 64);
	json_t *in = json_object_get(R->spec, "inputs"), *tensors = json_array(), *j, *outs;
	json_t *pred, *probs;
	char path[256];
	struct maxdiff d = { 0, 0, 0, 0 };

	for (size_t k = 0; k < ni; k++) {
		const char *type = json_string_value(json_object_get(json_array_get(in, k), "type"));
		json_t *data = json_array(), *row;
		size_t i;

		json_array_foreach(R->rows, i, row) {
			json_t *v = json_object_get(row, names[k]);

			json_array_append_new(data, v ? json_incref(v) : json_null());
		}
		json_array_append_new(tensors, json_pack("{s:s, s:[I], s:s, s:o}", "name",
		    names[k], "shape", (json_int_t)R->n, "datatype", !strcmp(type, "number") ?
		    "FP64" : !strcmp(type, "integer") ? "INT64" : "BYTES", "data", data));
	}
	snprintf(path, sizeof(path), "/v2/models/%s%s/infer", R->model, versioned ?
	    "/versions/1" : "");
	j = post_doc(path, json_pack("{s:s, s:o}", "id", "crosscheck-1", "inputs", tensors),
	    "v2 infer");
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "crosscheck-1");
	ck_assert_str_eq(json_string_value(json_object_get(j, "model_version")), "1");
	outs = json_object_get(j, "outputs");
	pred = json_object_get(json_array_get(outs, 0), "data");
	ck_assert_uint_eq(json_array_size(pred), R->n);
	for (size_t i = 0; i < R->n; i++)
		if (R->task == SPEC_REGRESSION)
			check_value(R, i, 0, json_array_get(pred, i), "v2 predict", &d);
		else
			check_label(R, i, json_array_get(pred, i), "v2 predict");
	if (R->task != SPEC_REGRESSION) {
		/* probabilities: shape [N, classes], row-major, in class order. */
		probs = json_array_get(outs, 1);
		ck_assert_str_eq(json_string_value(json_object_get(probs, "name")),
		    "probabilities");
		ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(probs,
		    "shape"), 1)), (json_int_t)R->nclasses);
		probs = json_object_get(probs, "data");
		ck_assert_uint_eq(json_array_size(probs), R->n * R->nclasses);
		for (size_t i = 0; i < R->n; i++) {
			double sum = 0;

			for (size_t c = 0; c < R->nclasses; c++) {
				json_t *p = json_array_get(probs, i * R->nclasses + c);

				sum += json_number_value(p);
				if (R->task == SPEC_MULTICLASS)
					check_value(R, i, c, p, "v2 probabilities", &d);
				else if (c == 1)
					check_value(R, i, 0, p, "v2 probabilities", &d);
			}
			ck_assert_msg(fabs(sum - 1) <= TOL, "v2 row %zu: sum %.9g", i, sum);
		}
	}
	report(R, versioned ? "/v2/models/{name}/versions/1/infer" : "/v2/models/{name}/infer",
	    &d);
	json_decref(j);
}

/* POST /predict: the flat FastAPI shape, for default_model. This booster
 * becomes its Production version; verdictd learns it over LISTEN/NOTIFY. */
static void
via_flat_predict(const struct ref *R)
{
	char path[256];
	struct http_resp r;
	json_t *j;
	struct maxdiff d = { 0, 0, 0, 0 };
	int v, seen = 0;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	create_model(default_model);
	v = upload(R, default_model);
	snprintf(path, sizeof(path), "/api/models/%s/versions/%d/stage", default_model, v);
	ck_assert_int_eq(post_json(path, "{\"stage\":\"Production\","
	    "\"archive_existing_versions\":true}", &r), 200);
	http_resp_free(&r);
	/* Until the switch arrives the previous version answers, and its spec
	 * may refuse these fields (400): wait for ours, at most 5 s. */
	for (int tries = 0; tries < 100 && seen != v; tries++) {
		char *b = dump(json_array_get(R->rows, 0));

		if (post_json("/predict", b, &r) == 200) {
			j = http_json(&r);
			seen = (int)json_integer_value(json_object_get(j, "version"));
			json_decref(j);
		}
		http_resp_free(&r);
		free(b);
		if (seen != v)
			nanosleep(&ts, NULL);
	}
	ck_assert_msg(seen == v, "/predict still serves version %d, not %d", seen, v);
	for (size_t i = 0; i < R->n; i++) {
		json_t *p;

		j = post_doc("/predict", json_incref(json_array_get(R->rows, i)), "/predict");
		ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), v);
		ck_assert_int_gt(json_integer_value(json_object_get(j, "prediction_id")), 0);
		p = json_object_get(j, "prediction");
		if (R->task == SPEC_REGRESSION)
			check_value(R, i, 0, p, "/predict", &d);
		else {
			check_label(R, i, p, "/predict");
			check_probs(R, i, json_object_get(j, "probabilities"), "/predict", &d);
		}
		json_decref(j);
	}
	report(R, "/predict (default_model)", &d);
}

START_TEST(every_endpoint_equals_xgboost)
{
	struct ref R;

	ref_load(&R, _i);
	create_model(R.model);
	ck_assert_int_eq(upload(&R, R.model), 1);
	via_api_predict(&R);
	via_invocations(&R);
	via_v2(&R, 1);
	via_v2(&R, 0);
	via_flat_predict(&R);
	ref_free(&R);
}
END_TEST

/* ---- setup: fixtures.c fetches the data and trains the reference models ---- */

int
main(void)
{
	Suite *s = suite_create("crosscheck");
	TCase *tc = tcase_create("crosscheck");
	SRunner *sr;
	int failed, ncases;
	struct http_resp r;
	char body[256];
	json_t *j;

	if (fx_reference_models(refdir, sizeof(refdir)) == -1) {
		fx_reference_cleanup(refdir);
		return 99;
	}
	{
		char path[600];
		json_error_t jerr;

		snprintf(path, sizeof(path), "%s/manifest.json", refdir);
		if ((j = json_load_file(path, 0, &jerr)) == NULL) {
			fprintf(stderr, "test_crosscheck: %s: %s\n", path, jerr.text);
			fx_reference_cleanup(refdir);
			return 99;
		}
		ncases = (int)json_array_size(json_object_get(j, "models")) * 2;
		json_decref(j);
	}
	snprintf(default_model, sizeof(default_model), "xc_default%d", getpid());
	setenv("VERDICT_DEFAULT_MODEL", default_model, 1);
	if (harness_start() == -1) {
		fx_reference_cleanup(refdir);
		return 99;
	}
	snprintf(body, sizeof(body), "{\"username\":\"crosscheck%d\",\"password\":\"amber "
	    "lantern 17 otters\"}", getpid());
	if (http_request("POST", "/api/signup", "application/json", body, strlen(body), NULL,
	    &r) != 0 || r.status != 201)
		goto fail;
	http_resp_free(&r);
	snprintf(body, sizeof(body), "username=crosscheck%d&password=amber+lantern+17+otters",
	    getpid());
	if (http_request("POST", "/api/token", "application/x-www-form-urlencoded", body,
	    strlen(body), NULL, &r) != 0 || r.status != 200)
		goto fail;
	j = http_json(&r);
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s",
	    json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	http_resp_free(&r);

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, references_agree_and_spec_builds_pythons_vectors, 0, ncases);
	tcase_add_loop_test(tc, every_endpoint_equals_xgboost, 0, ncases);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	fx_reference_cleanup(refdir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
fail:
	fprintf(stderr, "test_crosscheck: cannot create the test account: %ld %s\n", r.status,
	    r.body ? r.body : "");
	http_resp_free(&r);
	harness_stop();
	fx_reference_cleanup(refdir);
	return 99;
}
