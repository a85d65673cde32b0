/* test_feedback.c: ground truth for past predictions through the JSON API — every live-quality metric recomputed here from the raw rows, corrections, concurrent verification, bulk JSON and CSV, the prediction log, and bad input. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NF 5          /* x1, x2, city one-hot a|b|c */
#define NTRAIN 300
#define NPRED 300     /* predictions per model */
#define MAXP 400

/* Built in main before tests fork: accounts and a per-run name prefix. */
static char alice[256], bob[256], admin[256], prefix[32];
static char refdir[512];      /* reference models trained in Python on public data (main) */

static const char *inputs_and_features =
    "\"inputs\":[{\"name\":\"x1\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"x2\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"city\",\"type\":\"category\",\"required\":true,\"unknown\":\"error\"}],"
    "\"features\":[{\"input\":\"x1\"},{\"input\":\"x2\"},"
    "{\"input\":\"city\",\"transform\":\"one_hot\",\"categories\":[\"a\",\"b\",\"c\"]}]}";

static const char *cities[] = { "a", "b", "c" };

static double
x1_of(int i)
{
	return sin(i * 0.37) * 10;
}

static double
x2_of(int i)
{
	return cos(i * 0.11) * 3 + (i % 5);
}

/* The signal every task is trained on; rows past NTRAIN were never seen in training. */
static double
target(int i)
{
	return x1_of(i) * 0.5 + x2_of(i) + (i % 3 == 1) * 2;
}

enum task { REG, BIN, MULTI };

static const char *const bin_classes[] = { "no", "yes" };
static const char *const multi_classes[] = { "low", "mid", "high" };

/* One model's predictions as the API answered them. */
#define MAXC 8

struct preds {
	char model[64];
	enum task task;
	int n, ncls;
	char cls[MAXC][16];          /* the classes, in the spec's order */
	long long id[MAXP];
	double value[MAXP];          /* regression value / binary P(positive) */
	char label[MAXP][16];
	double prob[MAXP][MAXC];     /* per class */
};

static int
class_idx(const struct preds *p, const char *label)
{
	for (int i = 0; i < p->ncls; i++)
		if (!strcmp(p->cls[i], label))
			return i;
	return -1;
}

/* Predicts rows (a JSON list of raw-field objects) in one request and records the answers in p. */
static void
predict_rows(const char *name, json_t *rows, struct preds *p)
{
	char path[256], *body;
	struct http_resp r;
	json_t *j, *list, *o;
	size_t k;

	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	j = json_pack("{s:O}", "instances", rows);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	ck_assert_ptr_nonnull(body);
	ck_assert_msg(fx_call(alice, "POST", path, "application/json", body, &r) == 200,
	    "%ld %s", r.status, r.body);
	free(body);
	j = http_json(&r);
	list = json_object_get(j, "predictions");
	ck_assert_int_eq(json_array_size(list), json_array_size(rows));
	json_array_foreach(list, k, o) {
		int i = p->n++;

		ck_assert_int_lt(i, MAXP);
		p->id[i] = json_integer_value(json_object_get(o, "prediction_id"));
		p->value[i] = json_number_value(json_object_get(o, "value"));
		if (p->task != REG) {
			json_t *probs = json_object_get(o, "probabilities");

			snprintf(p->label[i], sizeof(p->label[i]), "%s",
			    json_string_value(json_object_get(o, "label")));
			for (int c = 0; c < p->ncls; c++)
				p->prob[i][c] = json_number_value(json_object_get(probs, p->cls[c]));
		}
	}
	json_decref(j);
	http_resp_free(&r);
}

/* Registers a model for task under name and predicts NPRED unseen rows in batches of 100. */
static void
model_with_predictions(enum task t, const char *name, struct preds *p)
{
	float x[NTRAIN * NF], y[NTRAIN];
	char spec[2048];
	char *booster;
	size_t blen;

	for (int i = 0; i < NTRAIN; i++) {
		double v = target(i);

		x[i * NF + 0] = (float)x1_of(i);
		x[i * NF + 1] = (float)x2_of(i);
		for (int c = 0; c < 3; c++)
			x[i * NF + 2 + c] = i % 3 == c;
		y[i] = t == REG ? (float)v : t == BIN ? v > 2 : (v < 0 ? 0 : v < 4 ? 1 : 2);
	}
	booster = fx_train(x, y, NTRAIN, NF, t == REG ? "reg:squarederror" : t == BIN ?
	    "binary:logistic" : "multi:softprob", t == MULTI ? 3 : 0, 10, &blen);
	if (t == REG)
		snprintf(spec, sizeof(spec), "{\"task\":\"regression\",%s", inputs_and_features);
	else if (t == BIN)
		snprintf(spec, sizeof(spec), "{\"task\":\"binary\",\"classes\":[\"no\",\"yes\"],"
		    "\"threshold\":0.5,%s", inputs_and_features);
	else
		snprintf(spec, sizeof(spec), "{\"task\":\"multiclass\",\"classes\":[\"low\","
		    "\"mid\",\"high\"],%s", inputs_and_features);
	fx_model(alice, name, booster, blen, spec);
	free(booster);
	memset(p, 0, sizeof(*p));
	snprintf(p->model, sizeof(p->model), "%s", name);
	p->task = t;
	p->ncls = t == BIN ? 2 : t == MULTI ? 3 : 0;
	for (int c = 0; c < p->ncls; c++)
		snprintf(p->cls[c], sizeof(p->cls[c]), "%s", (t == BIN ? bin_classes :
		    multi_classes)[c]);
	for (int b = 0; b < NPRED / 100; b++) {
		json_t *rows = json_array();

		for (int i = 0; i < 100; i++) {
			int row = NTRAIN + b * 100 + i;

			json_array_append_new(rows, json_pack("{s:f, s:f, s:s}", "x1", x1_of(row),
			    "x2", x2_of(row), "city", cities[row % 3]));
		}
		predict_rows(name, rows, p);
		json_decref(rows);
	}
}

/* The truth the tests report for row i of a model: the unseen row's target with noise. */
static double
truth_num(int i, int salt)
{
	return target(NTRAIN + i) + sin(i * 1.7 + salt) * 0.8;
}

static const char *
truth_label(enum task t, int i, int salt)
{
	double v = truth_num(i, salt);

	if (t == BIN)
		return bin_classes[v > 2];
	return multi_classes[v < 0 ? 0 : v < 4 ? 1 : 2];
}

static void
truth_text(const struct preds *p, int i, int salt, char *dst, size_t len)
{
	if (p->task == REG)
		snprintf(dst, len, "%.17g", truth_num(i, salt));
	else
		snprintf(dst, len, "\"%s\"", truth_label(p->task, i, salt));
}

/* GET the quality of p's model over window; returns the version object (caller decrefs *root). */
static json_t *
quality(const char *model, const char *window, json_t **root)
{
	char path[256];
	struct http_resp r;
	json_t *v;

	snprintf(path, sizeof(path), "/api/models/%s/quality?window=%s", model, window);
	ck_assert_msg(fx_call(alice, "GET", path, NULL, NULL, &r) == 200, "%ld %s", r.status,
	    r.body);
	*root = http_json(&r);
	http_resp_free(&r);
	ck_assert_ptr_nonnull(*root);
	v = json_array_get(json_object_get(*root, "versions"), 0);
	ck_assert_ptr_nonnull(v);
	return v;
}

static void
close_to(double got, double want, const char *what)
{
	ck_assert_msg(fabs(got - want) <= 1e-9 * fmax(1, fabs(want)), "%s: got %.17g want %.17g",
	    what, got, want);
}

static double
metric(json_t *v, const char *name)
{
	json_t *m = json_object_get(json_object_get(v, "metrics"), name);

	ck_assert_msg(json_is_number(m), "metric %s missing", name);
	return json_number_value(m);
}

/*
 * Compares the API's metrics with a recomputation from the raw rows:
 * truths[i] set where verified[i].
 */
static void
check_metrics(const struct preds *p, const int *verified, const double *tnum,
    const int *tcls, const char *window)
{
	json_t *root, *v = quality(p->model, window, &root);
	int n = 0;

	for (int i = 0; i < p->n; i++)
		n += verified[i];
	ck_assert_int_eq((int)json_number_value(json_object_get(v, "predictions")), p->n);
	ck_assert_int_eq((int)json_number_value(json_object_get(v, "verified")), n);
	close_to(json_number_value(json_object_get(v, "coverage")), (double)n / p->n, "coverage");
	if (p->task == REG) {
		double se = 0, sae = 0, sse = 0, sy = 0, mean, sst = 0;

		for (int i = 0; i < p->n; i++)
			if (verified[i]) {
				double e = p->value[i] - tnum[i];

				se += e;
				sae += fabs(e);
				sse += e * e;
				sy += tnum[i];
			}
		mean = sy / n;
		for (int i = 0; i < p->n; i++)
			if (verified[i])
				sst += (tnum[i] - mean) * (tnum[i] - mean);
		close_to(metric(v, "mae"), sae / n, "mae");
		close_to(metric(v, "rmse"), sqrt(sse / n), "rmse");
		close_to(metric(v, "bias"), se / n, "bias");
		ck_assert_msg(fabs(metric(v, "r2") - (1 - sse / sst)) < 1e-7, "r2 %.12g vs %.12g",
		    metric(v, "r2"), 1 - sse / sst);
		ck_assert_int_eq((int)json_array_size(json_object_get(v, "points")), n);
	} else {
		int k = p->ncls;
		long cm[MAXC][MAXC] = { { 0 } };
		double correct = 0, ll = 0, f1sum = 0;
		int nf1 = 0;
		json_t *matrix = json_object_get(json_object_get(v, "confusion"), "matrix");
		json_t *per = json_object_get(json_object_get(v, "metrics"), "per_class");

		for (int i = 0; i < p->n; i++)
			if (verified[i]) {
				int pc = class_idx(p, p->label[i]);
				double pt = fmin(fmax(p->prob[i][tcls[i]], 1e-15), 1 - 1e-15);

				cm[tcls[i]][pc]++;
				correct += pc == tcls[i];
				ll += -log(pt);
			}
		for (int a = 0; a < k; a++) {
			double tp = (double)cm[a][a], sup = 0, pred = 0, prec, rec, f1;
			const char *label = p->cls[a];
			json_t *pc = json_object_get(per, label);

			for (int b = 0; b < k; b++) {
				sup += (double)cm[a][b];
				pred += (double)cm[b][a];
				ck_assert_int_eq(json_integer_value(json_array_get(json_array_get(matrix,
				    (size_t)a), (size_t)b)), cm[a][b]);
			}
			prec = pred > 0 ? tp / pred : NAN;
			rec = sup > 0 ? tp / sup : NAN;
			f1 = pred + sup > 0 ? 2 * tp / (pred + sup) : NAN;
			if (sup > 0) {
				f1sum += f1;
				nf1++;
			}
			if (!isnan(prec))
				close_to(json_number_value(json_object_get(pc, "precision")), prec,
				    "precision");
			if (!isnan(rec))
				close_to(json_number_value(json_object_get(pc, "recall")), rec, "recall");
			if (!isnan(f1))
				close_to(json_number_value(json_object_get(pc, "f1")), f1, "f1");
		}
		close_to(metric(v, "accuracy"), correct / n, "accuracy");
		close_to(metric(v, "macro_f1"), f1sum / nf1, "macro_f1");
		ck_assert_msg(fabs(metric(v, "log_loss") - ll / n) < 1e-9, "log_loss %.12g vs %.12g",
		    metric(v, "log_loss"), ll / n);
		if (p->task == BIN) {
			/* AUC by counting pairs: an independent method from the server's rank sum. */
			double wins = 0, pairs = 0;

			for (int i = 0; i < p->n; i++)
				for (int j = 0; j < p->n; j++)
					if (verified[i] && verified[j] && tcls[i] == 1 && tcls[j] == 0) {
						pairs++;
						wins += p->value[i] > p->value[j] ? 1 :
						    p->value[i] == p->value[j] ? 0.5 : 0;
					}
			ck_assert(pairs > 0);
			close_to(metric(v, "roc_auc"), wins / pairs, "roc_auc");
		}
	}
	/* The daily series: every prediction was made today. */
	{
		json_t *days = json_object_get(v, "daily");
		json_t *d = json_array_get(days, json_array_size(days) - 1);

		ck_assert_int_eq((int)json_number_value(json_object_get(d, "predictions")), p->n);
		ck_assert_int_eq((int)json_number_value(json_object_get(d, "verified")), n);
	}
	json_decref(root);
}

/* Reports truths for rows [lo, hi) of p through one of three ways in (0 single, 1 JSON list, 2 CSV). */
static void
report(const char *hdr, const struct preds *p, int lo, int hi, int salt, int way)
{
	static char body[400000];
	char t[64], path[128];
	struct http_resp r;
	size_t off = 0;

	if (way == 0) {
		for (int i = lo; i < hi; i++) {
			truth_text(p, i, salt, t, sizeof(t));
			snprintf(body, sizeof(body), "{\"true_value\":%s}", t);
			snprintf(path, sizeof(path), "/api/predictions/%lld/feedback", p->id[i]);
			ck_assert_msg(fx_call(hdr, "POST", path, "application/json", body, &r) == 201,
			    "%ld %s", r.status, r.body);
			http_resp_free(&r);
		}
		return;
	}
	if (way == 1) {
		off += (size_t)snprintf(body, sizeof(body), "[");
		for (int i = lo; i < hi; i++) {
			truth_text(p, i, salt, t, sizeof(t));
			off += (size_t)snprintf(body + off, sizeof(body) - off, "%s{\"prediction_id\":"
			    "%lld,\"true_value\":%s}", i > lo ? "," : "", p->id[i], t);
		}
		snprintf(body + off, sizeof(body) - off, "]");
		ck_assert_int_eq(fx_call(hdr, "POST", "/api/feedback", "application/json", body,
		    &r), 200);
	} else {
		off += (size_t)snprintf(body, sizeof(body), "true_value,prediction_id\r\n");
		for (int i = lo; i < hi; i++) {
			if (p->task == REG)
				snprintf(t, sizeof(t), "%.17g", truth_num(i, salt));
			else
				snprintf(t, sizeof(t), "%s", truth_label(p->task, i, salt));
			off += (size_t)snprintf(body + off, sizeof(body) - off, "%s,%lld\r\n", t,
			    p->id[i]);
		}
		ck_assert_int_eq(fx_call(hdr, "POST", "/api/feedback.csv", "text/csv", body, &r),
		    200);
	}
	{
		json_t *j = http_json(&r);

		ck_assert_msg(json_integer_value(json_object_get(j, "accepted")) == hi - lo,
		    "%s", r.body);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "rejected")), 0);
		json_decref(j);
	}
	http_resp_free(&r);
}

/* Verifies rows [0, nver) (mixing all three ways in) and checks every metric; then corrects some. */
static void
metrics_case(enum task t, const char *suffix)
{
	static struct preds p;
	static int verified[MAXP], tcls[MAXP];
	static double tnum[MAXP];
	char name[64];
	int nver = 210;

	snprintf(name, sizeof(name), "%s-%s", prefix, suffix);
	model_with_predictions(t, name, &p);
	report(alice, &p, 0, 50, 0, 0);
	report(alice, &p, 50, 150, 0, 1);
	report(alice, &p, 150, nver, 0, 2);
	for (int i = 0; i < p.n; i++) {
		verified[i] = i < nver;
		tnum[i] = truth_num(i, 0);
		tcls[i] = t == REG ? 0 : class_idx(&p, truth_label(t, i, 0));
	}
	check_metrics(&p, verified, tnum, tcls, "all");
	check_metrics(&p, verified, tnum, tcls, "24h");
	/* Corrections by the same user replace the truth; aggregates follow, counts stay. */
	report(alice, &p, 20, 80, 5, 1);
	for (int i = 20; i < 80; i++) {
		tnum[i] = truth_num(i, 5);
		tcls[i] = t == REG ? 0 : class_idx(&p, truth_label(t, i, 5));
	}
	check_metrics(&p, verified, tnum, tcls, "7d");
	/* Another user may not overwrite; an admin may. */
	{
		char path[128], body[64], tv[32];
		struct http_resp r;
		json_t *j;

		truth_text(&p, 3, 9, tv, sizeof(tv));
		snprintf(body, sizeof(body), "{\"true_value\":%s}", tv);
		snprintf(path, sizeof(path), "/api/predictions/%lld/feedback", p.id[3]);
		ck_assert_int_eq(fx_call(bob, "POST", path, "application/json", body, &r), 409);
		http_resp_free(&r);
		ck_assert_int_eq(fx_call(admin, "POST", path, "application/json", body, &r), 201);
		j = http_json(&r);
		ck_assert(json_is_true(json_object_get(j, "replaced")));
		json_decref(j);
		http_resp_free(&r);
		tnum[3] = truth_num(3, 9);
		tcls[3] = t == REG ? 0 : class_idx(&p, truth_label(t, 3, 9));
		check_metrics(&p, verified, tnum, tcls, "30d");
		/* The history keeps all three truths, the last one current. */
		snprintf(path, sizeof(path), "/api/predictions/%lld", p.id[3]);
		ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
		j = http_json(&r);
		{
			json_t *h = json_object_get(j, "feedback");

			ck_assert_int_eq(json_array_size(h), 2);
			ck_assert(json_is_false(json_object_get(json_array_get(h, 0), "current")));
			ck_assert(json_is_true(json_object_get(json_array_get(h, 1), "current")));
			ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1),
			    "source")), "api");
			ck_assert(json_is_true(json_object_get(j, "verified")));
		}
		json_decref(j);
		http_resp_free(&r);
	}
	/* One current truth per verified prediction, in Postgres itself. */
	{
		char ids[64];

		snprintf(ids, sizeof(ids), "%s", name);
		ck_assert_int_eq((int)fx_db_num("SELECT count(*) FROM feedback f JOIN "
		    "model_versions v ON v.id = f.model_version_id WHERE v.name = $1 AND "
		    "f.replaced_at IS NULL", ids), nver);
		ck_assert_int_eq((int)fx_db_num("SELECT count(*) FROM predictions p JOIN "
		    "model_versions v ON v.id = p.model_version_id WHERE v.name = $1 AND "
		    "p.verified", ids), nver);
	}
}

START_TEST(regression_metrics)
{
	metrics_case(REG, "reg");
}
END_TEST

START_TEST(binary_metrics)
{
	metrics_case(BIN, "bin");
}
END_TEST

START_TEST(multiclass_metrics)
{
	metrics_case(MULTI, "multi");
}
END_TEST

/* Two users verify the same predictions at once: one truth wins each, counted once. */
struct racer {
	const char *hdr;
	const struct preds *p;
	int salt;
	long status[MAXP];
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	char path[128], body[64], tv[32];

	for (int i = 0; i < 60; i++) {
		struct http_resp r;
		const char *hdrs[2] = { rc->hdr, NULL };

		truth_text(rc->p, i, rc->salt, tv, sizeof(tv));
		snprintf(body, sizeof(body), "{\"true_value\":%s}", tv);
		snprintf(path, sizeof(path), "/api/predictions/%lld/feedback", rc->p->id[i]);
		if (http_request("POST", path, "application/json", body, strlen(body), hdrs,
		    &r) == 0)
			rc->status[i] = r.status;
		http_resp_free(&r);
	}
	return NULL;
}

START_TEST(concurrent_verification)
{
	static struct preds p;
	static struct racer a, b;
	static int verified[MAXP], tcls[MAXP];
	static double tnum[MAXP];
	char name[64];
	pthread_t ta, tb;
	PGconn *c;

	snprintf(name, sizeof(name), "%s-race", prefix);
	model_with_predictions(REG, name, &p);
	a = (struct racer){ .hdr = alice, .p = &p, .salt = 1 };
	b = (struct racer){ .hdr = bob, .p = &p, .salt = 2 };
	ck_assert_int_eq(pthread_create(&ta, NULL, race, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, race, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	c = fx_db();
	for (int i = 0; i < 60; i++) {
		char id[24];
		const char *vals[1] = { id };
		PGresult *res;
		const char *winner;

		ck_assert_msg((a.status[i] == 201 && b.status[i] == 409) ||
		    (a.status[i] == 409 && b.status[i] == 201), "row %d: %ld and %ld", i,
		    a.status[i], b.status[i]);
		snprintf(id, sizeof(id), "%lld", p.id[i]);
		res = PQexecParams(c, "SELECT count(*), max(true_number) FROM feedback WHERE "
		    "prediction_id = $1 AND replaced_at IS NULL", 1, NULL, vals, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
		winner = a.status[i] == 201 ? "a" : "b";
		tnum[i] = truth_num(i, *winner == 'a' ? 1 : 2);
		close_to(strtod(PQgetvalue(res, 0, 1), NULL), tnum[i], "winning truth");
		verified[i] = 1;
		PQclear(res);
	}
	PQfinish(c);
	check_metrics(&p, verified, tnum, tcls, "all");
}
END_TEST

START_TEST(next_unverified_and_fastapi_shape)
{
	static struct preds p;
	char name[64], path[256], body[256];
	long long seen[64];
	int nseen = 0, distinct = 0;
	struct http_resp r;
	json_t *j;

	/* main() made this name the default_model for /verify_random_prediction. */
	snprintf(name, sizeof(name), "%s-next", prefix);
	model_with_predictions(BIN, name, &p);
	report(alice, &p, 0, p.n - 5, 0, 1);      /* all but the last five */
	snprintf(path, sizeof(path), "/api/feedback/next?model=%s", name);
	for (int k = 0; k < 20; k++) {
		long long id;
		int mine = 0, dup = 0;

		ck_assert_msg(fx_call(bob, "GET", path, NULL, NULL, &r) == 200, "%s", r.body);
		j = http_json(&r);
		id = json_integer_value(json_object_get(j, "prediction_id"));
		for (int i = p.n - 5; i < p.n; i++)
			mine |= p.id[i] == id;
		ck_assert_msg(mine, "next gave %lld, a verified or foreign prediction", id);
		ck_assert(json_is_false(json_object_get(j, "verified")));
		ck_assert_str_eq(json_string_value(json_object_get(j, "model")), name);
		ck_assert_int_eq(json_array_size(json_object_get(j, "classes")), 2);
		ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "inputs"), "x1"));
		for (int i = 0; i < nseen; i++)
			dup |= seen[i] == id;
		distinct += !dup;
		seen[nseen++] = id;
		json_decref(j);
		http_resp_free(&r);
	}
	ck_assert_msg(distinct >= 2, "20 draws gave %d distinct predictions", distinct);
	/* The FastAPI shape on the default model. */
	ck_assert_int_eq(fx_call(alice, "GET", "/verify_random_prediction", NULL, NULL, &r), 200);
	j = http_json(&r);
	ck_assert(json_is_string(json_object_get(j, "prediction")));
	ck_assert(json_is_object(json_object_get(j, "inputs")));
	snprintf(body, sizeof(body), "{\"prediction_id\":%lld,\"true_value\":\"yes\"}",
	    (long long)json_integer_value(json_object_get(j, "prediction_id")));
	snprintf(path, sizeof(path), "{\"message\":\"Prediction_id:%lld verified successfully\"}",
	    (long long)json_integer_value(json_object_get(j, "prediction_id")));
	json_decref(j);
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(alice, "POST", "/verify_random_prediction", "application/json",
	    body, &r), 200);
	ck_assert_str_eq(r.body, path);
	http_resp_free(&r);
	/* Verify the rest; then nothing is left. */
	report(admin, &p, p.n - 5, p.n, 0, 1);
	snprintf(path, sizeof(path), "/api/feedback/next?model=%s", name);
	ck_assert_int_eq(fx_call(bob, "GET", path, NULL, NULL, &r), 404);
	ck_assert_ptr_nonnull(strstr(r.body, "no unverified predictions"));
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(bob, "GET", "/api/feedback/next?model=no-such-model", NULL,
	    NULL, &r), 404);
	ck_assert_ptr_nonnull(strstr(r.body, "does not exist"));
	http_resp_free(&r);
}
END_TEST

START_TEST(prediction_log_pages)
{
	static struct preds p;
	char name[64], path[256];
	long long after = 0;
	int got = 0, match;
	struct http_resp r;
	json_t *j, *list, *o;
	size_t k;

	snprintf(name, sizeof(name), "%s-log", prefix);
	model_with_predictions(REG, name, &p);
	report(alice, &p, 0, 40, 0, 1);
	/* Keyset pages of 70 walk every prediction exactly once, newest first. */
	for (;;) {
		long long prev = after;

		if (after)
			snprintf(path, sizeof(path), "/api/predictions?model=%s&limit=70&after=%lld",
			    name, after);
		else
			snprintf(path, sizeof(path), "/api/predictions?model=%s&limit=70", name);
		ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
		j = http_json(&r);
		list = json_object_get(j, "predictions");
		json_array_foreach(list, k, o) {
			long long id = json_integer_value(json_object_get(o, "prediction_id"));

			ck_assert(prev == 0 || id < prev);
			prev = id;
			match = 0;
			for (int i = 0; i < p.n; i++)
				match |= p.id[i] == id;
			ck_assert(match);
			got++;
		}
		after = json_is_null(json_object_get(j, "next_after")) ? 0 :
		    json_integer_value(json_object_get(j, "next_after"));
		json_decref(j);
		http_resp_free(&r);
		if (after == 0)
			break;
	}
	ck_assert_int_eq(got, p.n);
	/* verified=true: exactly the forty, each with its truth. */
	snprintf(path, sizeof(path), "/api/predictions?model=%s&verified=true&limit=1000", name);
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
	j = http_json(&r);
	ck_assert_int_eq(json_array_size(json_object_get(j, "predictions")), 40);
	json_array_foreach(json_object_get(j, "predictions"), k, o)
		ck_assert(json_is_number(json_object_get(o, "true_value")));
	json_decref(j);
	http_resp_free(&r);
	/* A time window in the future is empty; a bad time is a 400. */
	snprintf(path, sizeof(path), "/api/predictions?model=%s&from=2999-01-01T00:00:00Z", name);
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
	j = http_json(&r);
	ck_assert_int_eq(json_array_size(json_object_get(j, "predictions")), 0);
	json_decref(j);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/predictions?model=%s&from=yesterday-ish", name);
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "ISO 8601"));
	http_resp_free(&r);
}
END_TEST

static long
post_feedback(const char *hdr, const char *path, const char *ct, const char *body,
    const char *expect)
{
	struct http_resp r;
	long st = fx_call(hdr, "POST", path, ct, body, &r);

	if (expect != NULL)
		ck_assert_msg(r.body != NULL && strstr(r.body, expect) != NULL,
		    "%s: %ld %s (want '%s')", path, r.status, r.body, expect);
	ck_assert_msg(st < 500, "%s: %ld %s", path, st, r.body);
	http_resp_free(&r);
	return st;
}

START_TEST(bad_input)
{
	static struct preds reg, multi;
	static char big[400000];
	char name[64], path[128], body[512];
	const char *stored = "SELECT count(*) FROM feedback WHERE prediction_id = $1::bigint";
	char id0[24], id1[24];
	size_t off;
	struct http_resp r;
	json_t *j;

	snprintf(name, sizeof(name), "%s-badr", prefix);
	model_with_predictions(REG, name, &reg);
	snprintf(name, sizeof(name), "%s-badm", prefix);
	model_with_predictions(MULTI, name, &multi);
	snprintf(id0, sizeof(id0), "%lld", reg.id[0]);
	snprintf(id1, sizeof(id1), "%lld", multi.id[0]);

	ck_assert_int_eq(post_feedback(alice, "/api/predictions/999999999/feedback",
	    "application/json", "{\"true_value\":1}", "does not exist"), 404);
	ck_assert_int_eq(post_feedback(alice, "/api/predictions/12abc/feedback",
	    "application/json", "{\"true_value\":1}", NULL), 404);
	snprintf(path, sizeof(path), "/api/predictions/%s/feedback", id1);
	ck_assert_int_eq(post_feedback(alice, path, "application/json",
	    "{\"true_value\":\"medium\"}", "expected one of: low, mid, high"), 400);
	ck_assert_int_eq(post_feedback(alice, path, "application/json", "{\"true_value\":[1]}",
	    "class label"), 400);
	ck_assert_int_eq(post_feedback(alice, path, "application/json", "{}", "true_value"),
	    400);
	ck_assert_int_eq(post_feedback(alice, path, "text/plain", "mid", NULL), 415);
	snprintf(path, sizeof(path), "/api/predictions/%s/feedback", id0);
	ck_assert_int_eq(post_feedback(alice, path, "application/json",
	    "{\"true_value\":\"tall\"}", "finite number"), 400);
	ck_assert_int_eq(post_feedback(alice, path, "application/json",
	    "{\"true_value\":1e400}", NULL), 400);
	ck_assert_int_eq((int)fx_db_num(stored, id0), 0);
	ck_assert_int_eq((int)fx_db_num(stored, id1), 0);

	/* Bulk: bad rows are rejected by index, good rows kept; atomic keeps nothing. */
	snprintf(body, sizeof(body), "[{\"prediction_id\":%lld,\"true_value\":\"mid\"},"
	    "{\"prediction_id\":%lld,\"true_value\":\"huge\"},{\"prediction_id\":-4,"
	    "\"true_value\":\"low\"},{\"prediction_id\":%lld},{\"prediction_id\":%lld,"
	    "\"true_value\":\"low\"}]", multi.id[1], multi.id[2], multi.id[3], multi.id[1]);
	ck_assert_int_eq(fx_call(alice, "POST", "/api/feedback?atomic=true", "application/json",
	    body, &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "nothing was written"));
	http_resp_free(&r);
	snprintf(id1, sizeof(id1), "%lld", multi.id[1]);
	ck_assert_int_eq((int)fx_db_num(stored, id1), 0);
	ck_assert_int_eq(fx_call(alice, "POST", "/api/feedback", "application/json", body, &r),
	    200);
	j = http_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "rejected")), 4);
	{
		json_t *res = json_object_get(j, "results");

		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 1),
		    "error")), "true_value 'huge' is not a class of this model; expected one of: "
		    "low, mid, high");
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(res,
		    2), "error")), "item 2: prediction_id"));
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(res,
		    3), "error")), "true_value is required"));
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(res,
		    4), "error")), "more than once"));
	}
	json_decref(j);
	http_resp_free(&r);
	ck_assert_int_eq((int)fx_db_num(stored, id1), 1);

	/* CSV: row-level errors with line numbers; good rows kept. */
	snprintf(body, sizeof(body), "prediction_id,true_value,comment\n%lld,high,ok\n"
	    "x7,low,bad id\n%lld,,empty truth\n%lld,low\n\"%lld\",\"low\",\"quoted, fine\"\n",
	    multi.id[5], multi.id[6], multi.id[7], multi.id[8]);
	ck_assert_int_eq(fx_call(alice, "POST", "/api/feedback.csv", "text/csv", body, &r), 200);
	j = http_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "accepted")), 2);
	{
		json_t *res = json_object_get(j, "results");

		ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(res, 1), "line")),
		    3);
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(res,
		    1), "error")), "line 3: prediction_id 'x7' is not a positive integer"));
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(res,
		    2), "error")), "line 4: true_value is empty"));
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(res,
		    3), "error")), "line 5: 2 columns, the header has 3"));
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 4),
		    "status")), "accepted");
	}
	json_decref(j);
	http_resp_free(&r);
	ck_assert_int_eq(post_feedback(alice, "/api/feedback.csv", "text/csv",
	    "id,truth\n1,2\n", "prediction_id and true_value"), 400);
	ck_assert_int_eq(post_feedback(alice, "/api/feedback.csv", "text/csv",
	    "prediction_id,true_value\n\"1,2\n", "malformed CSV"), 400);
	ck_assert_int_eq(post_feedback(alice, "/api/feedback", "application/json",
	    "{\"prediction_id\":1}", "JSON list"), 400);
	ck_assert_int_eq(post_feedback(alice, "/api/feedback", "application/json", "[]",
	    "empty"), 400);
	/* Over 10,000 rows → 413. */
	off = (size_t)snprintf(big, sizeof(big), "[");
	for (int i = 0; i < 10001; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%s{\"prediction_id\":%d,"
		    "\"true_value\":1}", i ? "," : "", i + 1);
	snprintf(big + off, sizeof(big) - off, "]");
	ck_assert_int_eq(post_feedback(alice, "/api/feedback", "application/json", big,
	    "at most 10000"), 413);
	/* Quality and next: unknown model, bad window; no token → 401. */
	ck_assert_int_eq(fx_call(alice, "GET", "/api/models/nope/quality", NULL, NULL, &r), 404);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/quality?window=9y", name);
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 400);
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(NULL, "GET", "/api/feedback/next?model=x", NULL, NULL, &r), 401);
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(alice, "GET", "/api/feedback/next", NULL, NULL, &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "model"));
	http_resp_free(&r);
}
END_TEST

/*
 * The must-hold case: models trained elsewhere (Python XGBoost) on public
 * data; a few hundred rows the tests never made are predicted, then
 * verified with what really happened; the quality API equals the metrics
 * recomputed here from the same rows.
 */
START_TEST(real_data_must_hold)
{
	static struct preds p;
	static int verified[MAXP], tcls[MAXP];
	static double tnum[MAXP];
	char path[700], name[96];
	json_t *manifest, *m, *rows, *truths, *t;
	const char *task, *model;
	char *booster, *spec, *body;
	size_t len;
	struct http_resp r;

	snprintf(path, sizeof(path), "%s/manifest.json", refdir);
	ck_assert_ptr_nonnull(manifest = json_load_file(path, 0, NULL));
	m = json_array_get(json_object_get(manifest, "models"), (size_t)_i);
	ck_assert_ptr_nonnull(m);
	model = json_string_value(json_object_get(m, "name"));
	task = json_string_value(json_object_get(m, "task"));
	snprintf(name, sizeof(name), "%s-%s", prefix, model);
	snprintf(path, sizeof(path), "%s/%s/model.json", refdir, model);
	ck_assert_ptr_nonnull(booster = fx_slurp(path, &len));
	snprintf(path, sizeof(path), "%s/%s/spec.json", refdir, model);
	ck_assert_ptr_nonnull(spec = fx_slurp(path, NULL));
	fx_model(alice, name, booster, len, spec);
	free(booster);
	free(spec);
	memset(&p, 0, sizeof(p));
	snprintf(p.model, sizeof(p.model), "%s", name);
	p.task = !strcmp(task, "regression") ? REG : !strcmp(task, "binary") ? BIN : MULTI;
	p.ncls = (int)json_array_size(json_object_get(m, "classes"));
	ck_assert_int_le(p.ncls, MAXC);
	for (int c = 0; c < p.ncls; c++)
		snprintf(p.cls[c], sizeof(p.cls[c]), "%s", json_string_value(json_array_get(
		    json_object_get(m, "classes"), (size_t)c)));
	snprintf(path, sizeof(path), "%s/%s/rows.json", refdir, model);
	ck_assert_ptr_nonnull(rows = json_load_file(path, 0, NULL));
	snprintf(path, sizeof(path), "%s/%s/truth.json", refdir, model);
	ck_assert_ptr_nonnull(truths = json_load_file(path, 0, NULL));
	ck_assert_int_eq(json_array_size(rows), json_array_size(truths));
	predict_rows(name, rows, &p);
	/* Every truth through the bulk API, as a system reporting outcomes would. */
	{
		json_t *list = json_array();
		size_t i;

		json_array_foreach(truths, i, t) {
			json_array_append_new(list, json_pack("{s:I, s:O}", "prediction_id",
			    (json_int_t)p.id[i], "true_value", t));
			verified[i] = 1;
			if (p.task == REG)
				tnum[i] = json_number_value(t);
			else
				ck_assert_int_ge(tcls[i] = class_idx(&p, json_string_value(t)), 0);
		}
		body = json_dumps(list, JSON_COMPACT);
		json_decref(list);
	}
	ck_assert_int_eq(fx_call(alice, "POST", "/api/feedback", "application/json", body, &r),
	    200);
	free(body);
	ck_assert_ptr_nonnull(strstr(r.body, "\"rejected\":0"));
	http_resp_free(&r);
	check_metrics(&p, verified, tnum, tcls, "all");
	fprintf(stderr, "# real data: %s (%s), %d predictions verified, metrics equal\n", model,
	    task, p.n);
	json_decref(rows);
	json_decref(truths);
	json_decref(manifest);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("feedback");
	TCase *tc = tcase_create("feedback");
	SRunner *sr;
	char user[64], dm[96];
	int failed;

	snprintf(prefix, sizeof(prefix), "fb%d", (int)getpid());
	if (fx_reference_models(refdir, sizeof(refdir)) == -1) {
		fx_reference_cleanup(refdir);
		return 99;
	}
	snprintf(dm, sizeof(dm), "%s-next", prefix);
	setenv("VERDICT_DEFAULT_MODEL", dm, 1);
	if (harness_start() == -1) {
		fx_reference_cleanup(refdir);
		return 99;
	}
	snprintf(user, sizeof(user), "alice%s", prefix);
	if (fx_account(user, 0, alice, sizeof(alice)) == -1)
		return 99;
	snprintf(user, sizeof(user), "bob%s", prefix);
	if (fx_account(user, 0, bob, sizeof(bob)) == -1)
		return 99;
	snprintf(user, sizeof(user), "root%s", prefix);
	if (fx_account(user, 1, admin, sizeof(admin)) == -1)
		return 99;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, regression_metrics);
	tcase_add_test(tc, binary_metrics);
	tcase_add_test(tc, multiclass_metrics);
	tcase_add_test(tc, concurrent_verification);
	tcase_add_test(tc, next_unverified_and_fastapi_shape);
	tcase_add_test(tc, prediction_log_pages);
	tcase_add_test(tc, bad_input);
	tcase_add_loop_test(tc, real_data_must_hold, 0, 3);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	fx_reference_cleanup(refdir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
