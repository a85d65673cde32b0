/* test_drift.c: data drift end to end — references uploaded as CSV and JSON, current samples sent through real predictions, every test type flagged on a shifted sample and not on an unshifted one, statistics recomputed with scipy (drift-reference.py), the drift.detected event, the CLI's exit codes, bad uploads, 404s and the HTML page with hostile categories. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NF 8              /* num, cat one-hot a..d, flag one-hot yes|no, member */
#define NTRAIN 400
#define MAXROWS 4000

static char alice[256], prefix[32], token[200], srcdir[PATH_MAX], verdict_bin[PATH_MAX];

static const char *spec_text =
    "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"num\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"cat\",\"type\":\"category\",\"required\":true},"
    "{\"name\":\"flag\",\"type\":\"category\",\"required\":true},"
    "{\"name\":\"member\",\"type\":\"boolean\",\"required\":true}],"
    "\"features\":[{\"input\":\"num\"},"
    "{\"input\":\"cat\",\"transform\":\"one_hot\",\"categories\":[\"a\",\"b\",\"c\",\"d\"]},"
    "{\"input\":\"flag\",\"transform\":\"one_hot\",\"categories\":[\"yes\",\"no\"]},"
    "{\"input\":\"member\"}]}";

static const char *const cats[] = { "a", "b", "c", "d" };
static const char *const flags[] = { "yes", "no" };

struct row {
	double num;
	int cat, flag, member;
};

/* ---- a seeded generator (xorshift64*), the same on every platform ---- */

static uint64_t rng_state;

static double
uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double
normal(void)
{
	double u = uniform(), v = uniform();

	return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static int
pick(const double *w, int k)
{
	double u = uniform(), s = 0;

	for (int i = 0; i < k - 1; i++)
		if (u < (s += w[i]))
			return i;
	return k - 1;
}

/* n rows; shifted: num +0.5 sd, cat weights reversed, flag yes 0.3 → 0.6 (member never moves). */
static void
sample(struct row *rows, int n, int shifted, uint64_t seed)
{
	static const double cw[4] = { 0.4, 0.3, 0.2, 0.1 }, cws[4] = { 0.1, 0.2, 0.3, 0.4 };
	double fw[2] = { shifted ? 0.6 : 0.3, shifted ? 0.4 : 0.7 }, mw[2] = { 0.5, 0.5 };

	rng_state = seed;
	for (int i = 0; i < n; i++) {
		rows[i].num = 50 + 10 * normal() + (shifted ? 5 : 0);
		rows[i].cat = pick(shifted ? cws : cw, 4);
		rows[i].flag = pick(fw, 2);
		rows[i].member = pick(mw, 2);
	}
}

static double
target(const struct row *r)
{
	return r->num * 0.1 + (r->cat == 0) * 2 + (r->flag == 0) * 3 + r->member;
}

/* A model with one version trained on its own seeded rows. */
static void
make_model(const char *name)
{
	static float x[NTRAIN * NF], y[NTRAIN];
	static struct row t[NTRAIN];
	size_t blen;
	char *b;

	sample(t, NTRAIN, 0, 7);
	for (int i = 0; i < NTRAIN; i++) {
		float *f = x + i * NF;

		f[0] = (float)t[i].num;
		for (int c = 0; c < 4; c++)
			f[1 + c] = t[i].cat == c;
		f[5] = t[i].flag == 0;
		f[6] = t[i].flag == 1;
		f[7] = (float)t[i].member;
		y[i] = (float)target(&t[i]);
	}
	b = fx_train(x, y, NTRAIN, NF, "reg:squarederror", 0, 10, &blen);
	fx_model(alice, name, b, blen, spec_text);
	free(b);
}

static int
row_json(char *dst, size_t len, const struct row *r)
{
	return snprintf(dst, len, "{\"num\":%.17g,\"cat\":\"%s\",\"flag\":\"%s\",\"member\":%s}",
	    r->num, cats[r->cat], flags[r->flag], r->member ? "true" : "false");
}

/* The reference as CSV (csv = 1) or a JSON list; asserts 201 and the row count. */
static void
upload_reference(const char *name, const struct row *rows, int n, int csv)
{
	size_t cap = (size_t)n * 120 + 100, off = 0;
	char *body = malloc(cap), path[256];
	struct http_resp r;
	json_t *j;

	ck_assert_ptr_nonnull(body);
	if (csv) {
		off += (size_t)snprintf(body, cap, "num,cat,flag,member\r\n");
		for (int i = 0; i < n; i++)
			off += (size_t)snprintf(body + off, cap - off, "%.17g,%s,%s,%s\r\n",
			    rows[i].num, cats[rows[i].cat], flags[rows[i].flag],
			    rows[i].member ? "true" : "false");
	} else {
		body[off++] = '[';
		for (int i = 0; i < n; i++) {
			if (i)
				body[off++] = ',';
			off += (size_t)row_json(body + off, cap - off, &rows[i]);
		}
		body[off++] = ']';
		body[off] = '\0';
	}
	snprintf(path, sizeof(path), "/api/models/%s/versions/1/reference", name);
	ck_assert_msg(fx_call(alice, "POST", path, csv ? "text/csv" : "application/json", body,
	    &r) == 201, "reference %s: %ld %s", name, r.status, r.body);
	ck_assert_ptr_nonnull(j = http_json(&r));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "rows")), n);
	json_decref(j);
	http_resp_free(&r);
	free(body);
}

/* Sends rows through POST /api/models/{name}/predict in batches; *out gets each value. */
static void
predict(const char *name, const struct row *rows, int n, double *out)
{
	char path[256], *body = malloc(500 * 120 + 100);
	struct http_resp r;

	ck_assert_ptr_nonnull(body);
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	for (int b = 0; b < n; b += 500) {
		size_t off = (size_t)sprintf(body, "{\"instances\":[");
		json_t *j, *p;
		size_t k;

		for (int i = b; i < n && i < b + 500; i++) {
			if (i > b)
				body[off++] = ',';
			off += (size_t)row_json(body + off, 120, &rows[i]);
		}
		strcpy(body + off, "]}");
		ck_assert_msg(fx_call(alice, "POST", path, "application/json", body, &r) == 200,
		    "predict %s: %ld %s", name, r.status, r.body);
		ck_assert_ptr_nonnull(j = http_json(&r));
		json_array_foreach(json_object_get(j, "predictions"), k, p)
			out[b + (int)k] = json_number_value(json_object_get(p, "value"));
		json_decref(j);
		http_resp_free(&r);
	}
	free(body);
}

/* POST drift for name (version 0: all) and window; returns the parsed answer (asserts 200). */
static json_t *
run_drift(const char *name, int version)
{
	char path[256];
	struct http_resp r;
	json_t *j;

	if (version > 0)
		snprintf(path, sizeof(path), "/api/models/%s/drift?window=7d&version=%d", name,
		    version);
	else
		snprintf(path, sizeof(path), "/api/models/%s/drift?window=7d", name);
	ck_assert_msg(fx_call(alice, "POST", path, NULL, NULL, &r) == 200, "drift %s: %ld %s",
	    name, r.status, r.body);
	ck_assert_ptr_nonnull(j = http_json(&r));
	http_resp_free(&r);
	return j;
}

static json_t *
feature(json_t *rep, const char *name)
{
	json_t *f;
	size_t i;

	if (!strcmp(name, "prediction"))
		return json_object_get(rep, "prediction");
	json_array_foreach(json_object_get(rep, "features"), i, f)
		if (!strcmp(json_string_value(json_object_get(f, "name")), name))
			return f;
	ck_abort_msg("no feature %s in the report", name);
	return NULL;
}

/* Writes one column of rows to a temp file as drift-reference.py reads it. */
static void
write_column(const char *path, const struct row *rows, int n, const char *col,
    const double *values)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < n; i++) {
		if (values != NULL)
			fprintf(f, "%.17g\n", values[i]);
		else if (!strcmp(col, "num"))
			fprintf(f, "%.17g\n", rows[i].num);
		else if (!strcmp(col, "cat"))
			fprintf(f, "%s\n", cats[rows[i].cat]);
		else if (!strcmp(col, "flag"))
			fprintf(f, "%s\n", flags[rows[i].flag]);
		else
			fprintf(f, "%d\n", rows[i].member);
	}
	fclose(f);
}

static void
close_to(const char *what, double got, double want, double rtol)
{
	double err = fabs(got - want), scale = fmax(fabs(got), fabs(want));

	fprintf(stderr, "# %-44s verdict %.12g scipy %.12g rel.diff %.2e\n", what, got, want,
	    scale > 0 ? err / scale : 0);
	ck_assert_msg(err <= rtol * scale + 1e-15, "%s: verdict %.17g, scipy %.17g (rtol %g)",
	    what, got, want, rtol);
}

/*
 * The report's numbers for column col against drift-reference.py on the
 * same samples: statistic (and p-value) within rtol, PSI within 1e-9.
 */
static void
against_scipy(const char *model, json_t *rep, const char *col, const char *test,
    const struct row *ref, int nref, const struct row *cur, int ncur, double rtol)
{
	char rf[] = "/tmp/drift-refXXXXXX", cf[] = "/tmp/drift-curXXXXXX", cmd[PATH_MAX * 2];
	char out[4096], what[128];
	json_t *f = feature(rep, col), *py;
	size_t n;
	FILE *p;
	int fd;

	ck_assert_str_eq(json_string_value(json_object_get(f, "test")), test);
	ck_assert_int_ge(fd = mkstemp(rf), 0);
	close(fd);
	ck_assert_int_ge(fd = mkstemp(cf), 0);
	close(fd);
	write_column(rf, ref, nref, col, NULL);
	write_column(cf, cur, ncur, col, NULL);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/integration/drift-reference.py "
	    "%s %s %s", srcdir, !strcmp(col, "member") && strcmp(test, "jensenshannon") ? "z" :
	    test, rf, cf);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	unlink(rf);
	unlink(cf);
	ck_assert_ptr_nonnull(py = json_loads(out, 0, NULL));
	snprintf(what, sizeof(what), "%s %s %s statistic", model, col, test);
	close_to(what, json_number_value(json_object_get(f, "statistic")),
	    json_number_value(json_object_get(py, "statistic")), rtol);
	if (json_is_number(json_object_get(py, "p_value"))) {
		snprintf(what, sizeof(what), "%s %s %s p-value", model, col, test);
		close_to(what, json_number_value(json_object_get(f, "p_value")),
		    json_number_value(json_object_get(py, "p_value")), 1e-6);
	}
	if (json_is_number(json_object_get(py, "scipy_asymp_p")))
		fprintf(stderr, "# %-44s scipy ks_2samp asymp %.6g, auto %.6g (verdict %.6g)\n",
		    "", json_number_value(json_object_get(py, "scipy_asymp_p")),
		    json_number_value(json_object_get(py, "scipy_auto_p")),
		    json_number_value(json_object_get(f, "p_value")));
	snprintf(what, sizeof(what), "%s %s psi", model, col);
	close_to(what, json_number_value(json_object_get(f, "psi")),
	    json_number_value(json_object_get(py, "psi")), 1e-9);
	json_decref(py);
}

static json_t *
only_report(json_t *answer)
{
	json_t *reps = json_object_get(answer, "reports");

	ck_assert_int_eq(json_array_size(reps), 1);
	return json_array_get(reps, 0);
}

static int
drifted(json_t *rep, const char *col)
{
	return json_is_true(json_object_get(feature(rep, col), "drifted"));
}

static int
psi_drifted(json_t *rep, const char *col)
{
	return json_is_true(json_object_get(feature(rep, col), "psi_drifted"));
}

static long
events_for(const char *model)
{
	return (long)fx_db_num("SELECT count(*) FROM events WHERE kind = 'drift.detected' "
	    "AND subject = $1", model);
}

/* Runs the CLI; returns its exit status. */
static int
cli(const char *args)
{
	char cmd[PATH_MAX * 2];
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s --url %s --token %s >/dev/null 2>&1", verdict_bin,
	    args, harness_url(), token);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct row ref_rows[MAXROWS], cur_rows[MAXROWS];
static double preds[MAXROWS];

/*
 * References of up to 1000 values: KS (num, and the output), chi-square
 * (cat, 4 categories), Z (flag: two categories; member: a boolean, two
 * numbers). The reference goes up as CSV.
 */
START_TEST(small_reference)
{
	char shifted[96], same[96], args[256];
	json_t *a, *b, *ra, *rb;

	snprintf(shifted, sizeof(shifted), "%s-small-shift", prefix);
	snprintf(same, sizeof(same), "%s-small-same", prefix);
	make_model(shifted);
	make_model(same);
	sample(ref_rows, 800, 0, 1001);
	upload_reference(shifted, ref_rows, 800, 1);
	upload_reference(same, ref_rows, 800, 1);

	sample(cur_rows, 600, 1, 2002);
	predict(shifted, cur_rows, 600, preds);
	ra = only_report(a = run_drift(shifted, 0));
	against_scipy(shifted, ra, "num", "ks", ref_rows, 800, cur_rows, 600, 1e-12);
	against_scipy(shifted, ra, "cat", "chisquare", ref_rows, 800, cur_rows, 600, 1e-9);
	against_scipy(shifted, ra, "flag", "z", ref_rows, 800, cur_rows, 600, 1e-9);
	against_scipy(shifted, ra, "member", "z", ref_rows, 800, cur_rows, 600, 1e-9);
	ck_assert(drifted(ra, "num") && drifted(ra, "cat") && drifted(ra, "flag"));
	ck_assert(!drifted(ra, "member"));
	ck_assert(psi_drifted(ra, "num") && psi_drifted(ra, "cat") && psi_drifted(ra, "flag"));
	ck_assert_str_eq(json_string_value(json_object_get(feature(ra, "prediction"), "test")),
	    "ks");
	ck_assert(drifted(ra, "prediction"));
	ck_assert_int_eq(json_integer_value(json_object_get(ra, "n_drifted")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(ra, "n_features")), 4);
	ck_assert(json_is_true(json_object_get(ra, "dataset_drift")));
	ck_assert_int_eq(json_integer_value(json_object_get(ra, "current_rows")), 600);
	ck_assert_int_eq(events_for(shifted), 1);
	ck_assert_int_eq((long)fx_db_num("SELECT (detail->>'report_id')::bigint FROM events "
	    "WHERE kind = 'drift.detected' AND subject = $1", shifted),
	    json_integer_value(json_object_get(ra, "report_id")));

	sample(cur_rows, 600, 0, 3003);
	predict(same, cur_rows, 600, preds);
	rb = only_report(b = run_drift(same, 1));
	against_scipy(same, rb, "num", "ks", ref_rows, 800, cur_rows, 600, 1e-12);
	against_scipy(same, rb, "cat", "chisquare", ref_rows, 800, cur_rows, 600, 1e-9);
	against_scipy(same, rb, "flag", "z", ref_rows, 800, cur_rows, 600, 1e-9);
	against_scipy(same, rb, "member", "z", ref_rows, 800, cur_rows, 600, 1e-9);
	ck_assert(!drifted(rb, "num") && !drifted(rb, "cat") && !drifted(rb, "flag") &&
	    !drifted(rb, "member"));
	ck_assert(!psi_drifted(rb, "num") && !psi_drifted(rb, "cat") && !psi_drifted(rb, "flag"));
	ck_assert(!drifted(rb, "prediction"));
	ck_assert(json_is_false(json_object_get(rb, "dataset_drift")));
	/* /metrics carries the newest report's scores (127.0.0.1 is in metrics_allow). */
	{
		struct http_resp r;
		char want[256];
		const char *line;

		ck_assert_int_eq(http_get("/metrics", &r), 0);
		ck_assert_int_eq(r.status, 200);
		snprintf(want, sizeof(want), "verdict_drift_score{model=\"%s\",version=\"1\","
		    "feature=\"num\",test=\"ks\"} ", shifted);
		ck_assert_msg((line = strstr(r.body, want)) != NULL, "no %s", want);
		ck_assert(fabs(strtod(line + strlen(want), NULL) - json_number_value(
		    json_object_get(feature(ra, "num"), "p_value"))) <= 1e-15);
		http_resp_free(&r);
	}
	/* The dashboard shows each model's newest report. */
	{
		struct http_resp r;
		const char *row;

		ck_assert_int_eq(fx_call(alice, "GET", "/", NULL, NULL, &r), 200);
		ck_assert_ptr_nonnull(row = strstr(r.body, shifted));
		ck_assert_ptr_nonnull(strstr(row, "<strong>drift</strong> (75% of inputs)"));
		ck_assert_ptr_nonnull(row = strstr(r.body, same));
		ck_assert_ptr_nonnull(strstr(row, "no drift"));
		http_resp_free(&r);
	}
	ck_assert_int_eq(events_for(same), 0);

	/* The CLI: exit 3 on dataset drift, 0 without, 1 for an unknown model. */
	snprintf(args, sizeof(args), "drift --model %s --window 7d", shifted);
	ck_assert_int_eq(cli(args), 3);
	snprintf(args, sizeof(args), "drift --model %s --version 1", same);
	ck_assert_int_eq(cli(args), 0);
	snprintf(args, sizeof(args), "drift --model %s-nosuch", prefix);
	ck_assert_int_eq(cli(args), 1);
	ck_assert_int_eq(cli("drift --window 7d"), 2);
	ck_assert_int_eq(events_for(shifted), 2);
	json_decref(a);
	json_decref(b);
}
END_TEST

/*
 * References above 1000 values: normalized Wasserstein (num, and the
 * output) and Jensen-Shannon (cat, flag, and member: a boolean). The
 * reference goes up as a JSON list. Wasserstein compares against a
 * 1000-point quantile sketch of the reference, hence its looser tolerance.
 */
START_TEST(large_reference)
{
	char shifted[96], same[96];
	json_t *a, *b, *ra, *rb;

	snprintf(shifted, sizeof(shifted), "%s-large-shift", prefix);
	snprintf(same, sizeof(same), "%s-large-same", prefix);
	make_model(shifted);
	make_model(same);
	sample(ref_rows, 3000, 0, 4004);
	upload_reference(shifted, ref_rows, 3000, 0);
	upload_reference(same, ref_rows, 3000, 0);

	sample(cur_rows, 2000, 1, 5005);
	predict(shifted, cur_rows, 2000, preds);
	ra = only_report(a = run_drift(shifted, 0));
	against_scipy(shifted, ra, "num", "wasserstein", ref_rows, 3000, cur_rows, 2000, 2e-3);
	against_scipy(shifted, ra, "cat", "jensenshannon", ref_rows, 3000, cur_rows, 2000, 1e-9);
	against_scipy(shifted, ra, "flag", "jensenshannon", ref_rows, 3000, cur_rows, 2000, 1e-9);
	against_scipy(shifted, ra, "member", "jensenshannon", ref_rows, 3000, cur_rows, 2000,
	    1e-9);
	ck_assert(drifted(ra, "num") && drifted(ra, "cat") && drifted(ra, "flag"));
	ck_assert(!drifted(ra, "member"));
	ck_assert(psi_drifted(ra, "num") && psi_drifted(ra, "cat") && psi_drifted(ra, "flag"));
	ck_assert_str_eq(json_string_value(json_object_get(feature(ra, "prediction"), "test")),
	    "wasserstein");
	ck_assert(drifted(ra, "prediction"));
	ck_assert(json_is_true(json_object_get(ra, "dataset_drift")));
	ck_assert_int_eq(events_for(shifted), 1);

	sample(cur_rows, 2000, 0, 6006);
	predict(same, cur_rows, 2000, preds);
	rb = only_report(b = run_drift(same, 0));
	against_scipy(same, rb, "num", "wasserstein", ref_rows, 3000, cur_rows, 2000, 2e-2);
	against_scipy(same, rb, "cat", "jensenshannon", ref_rows, 3000, cur_rows, 2000, 1e-9);
	against_scipy(same, rb, "flag", "jensenshannon", ref_rows, 3000, cur_rows, 2000, 1e-9);
	against_scipy(same, rb, "member", "jensenshannon", ref_rows, 3000, cur_rows, 2000, 1e-9);
	ck_assert(!drifted(rb, "num") && !drifted(rb, "cat") && !drifted(rb, "flag") &&
	    !drifted(rb, "member") && !drifted(rb, "prediction"));
	ck_assert(!psi_drifted(rb, "num") && !psi_drifted(rb, "cat") && !psi_drifted(rb, "flag"));
	ck_assert(json_is_false(json_object_get(rb, "dataset_drift")));
	ck_assert_int_eq(events_for(same), 0);
	json_decref(a);
	json_decref(b);
}
END_TEST

static long
stored_rows(const char *model)
{
	return (long)fx_db_num("SELECT coalesce(sum(d.rows), 0) FROM drift_references d JOIN "
	    "model_versions v ON v.id = d.model_version_id WHERE v.name = $1", model);
}

static void
expect_400(const char *path, const char *type, const char *body, const char *w1,
    const char *w2)
{
	struct http_resp r;

	ck_assert_msg(fx_call(alice, "POST", path, type, body, &r) == 400, "%s: %ld %s", body,
	    r.status, r.body);
	ck_assert_msg(strstr(r.body, w1) != NULL && (w2 == NULL || strstr(r.body, w2) != NULL),
	    "expected '%s' and '%s' in %s", w1, w2 ? w2 : "", r.body);
	http_resp_free(&r);
}

static void
expect_status(const char *method, const char *path, const char *type, const char *body,
    long status)
{
	struct http_resp r;

	ck_assert_msg(fx_call(alice, method, path, type, body, &r) == status, "%s %s: %ld %s",
	    method, path, r.status, r.body);
	http_resp_free(&r);
}

/* Bad references are 400s naming the row and field, and store nothing; unknown names 404. */
START_TEST(bad_input)
{
	char model[96], path[256], p2[256];
	struct row ok[20];

	snprintf(model, sizeof(model), "%s-bad", prefix);
	make_model(model);
	snprintf(path, sizeof(path), "/api/models/%s/versions/1/reference", model);
	expect_400(path, "text/csv", "num,cat,flag,member\n1,a,yes,true\n2,b,no,maybe\n",
	    "line 3", "field 'member'");
	expect_400(path, "text/csv", "num,cat,flag,member\n1,a,yes,true\nabc,b,no,true\n",
	    "line 3", "field 'num'");
	expect_400(path, "text/csv", "num,cat,flag,member\n1,a,yes\n", "line 2", "columns");
	expect_400(path, "text/csv", "num,cat,flag,member,label\n1,a,yes,true,x\n", "line 2",
	    "unknown field 'label'");
	expect_400(path, "text/csv", "num,cat,num\n1,a,2\n", "line 1", "twice");
	expect_400(path, "text/csv", "num,cat,flag,member\n", "no rows", NULL);
	expect_400(path, "application/json", "[{\"num\":1,\"cat\":\"a\",\"flag\":\"yes\","
	    "\"member\":true},{\"num\":\"x\",\"cat\":\"a\",\"flag\":\"yes\",\"member\":true}]",
	    "row 1", "field 'num'");
	expect_400(path, "application/json", "[{\"num\":1,\"flag\":\"yes\",\"member\":true}]",
	    "row 0", "field 'cat': required");
	expect_400(path, "application/json", "[{\"num\":1,\"cat\":\"a\",\"flag\":\"yes\","
	    "\"member\":true,\"extra\":1}]", "row 0", "unknown field 'extra'");
	expect_400(path, "application/json", "[1]", "row 0", NULL);
	expect_400(path, "application/json", "{\"num\":1}", "JSON list", NULL);
	expect_400(path, "application/json", "[]", "JSON list", NULL);
	ck_assert_int_eq(stored_rows(model), 0);
	ck_assert_int_eq((long)fx_db_num("SELECT count(*) FROM drift_profiles p JOIN "
	    "model_versions v ON v.id = p.model_version_id WHERE v.name = $1", model), 0);

	/* No reference yet: a drift check says how to make one. */
	snprintf(p2, sizeof(p2), "/api/models/%s/drift", model);
	expect_status("POST", p2, NULL, NULL, 404);
	/* A good reference, then a bad upload: the good one stays. */
	sample(ok, 20, 0, 77);
	upload_reference(model, ok, 20, 1);
	ck_assert_int_eq(stored_rows(model), 20);
	expect_400(path, "text/csv", "num,cat,flag,member\n1,a,yes,true\n,b,no,true\n", "line 3",
	    "field 'num': required");
	ck_assert_int_eq(stored_rows(model), 20);
	ck_assert_int_eq((long)fx_db_num("SELECT count(*) FROM drift_profiles p JOIN "
	    "model_versions v ON v.id = p.model_version_id WHERE v.name = $1", model), 5);
	/* Re-uploading replaces it. */
	upload_reference(model, ok, 10, 0);
	ck_assert_int_eq(stored_rows(model), 10);
	/* No predictions in the window: nothing to compare, no report. */
	{
		json_t *j = run_drift(model, 0);

		ck_assert_int_eq(json_array_size(json_object_get(j, "reports")), 0);
		ck_assert_int_eq(json_array_size(json_object_get(j, "skipped")), 1);
		json_decref(j);
	}
	snprintf(p2, sizeof(p2), "/api/models/%s/drift?window=7w", model);
	expect_400(p2, NULL, NULL, "field 'window'", NULL);
	snprintf(p2, sizeof(p2), "/api/models/%s/drift?window=400d", model);
	expect_400(p2, NULL, NULL, "field 'window'", NULL);

	/* Unknown model or version: 404 everywhere. */
	snprintf(p2, sizeof(p2), "/api/models/%s-nosuch/versions/1/reference", prefix);
	expect_status("POST", p2, "text/csv", "num\n1\n", 404);
	snprintf(p2, sizeof(p2), "/api/models/%s/versions/9/reference", model);
	expect_status("POST", p2, "text/csv", "num\n1\n", 404);
	snprintf(p2, sizeof(p2), "/api/models/%s/versions/x/reference", model);
	expect_status("POST", p2, "text/csv", "num\n1\n", 404);
	snprintf(p2, sizeof(p2), "/api/models/%s-nosuch/drift", prefix);
	expect_status("POST", p2, NULL, NULL, 404);
	expect_status("GET", p2, NULL, NULL, 404);
	snprintf(p2, sizeof(p2), "/api/models/%s/drift?version=9", model);
	expect_status("POST", p2, NULL, NULL, 404);
	snprintf(p2, sizeof(p2), "/models/%s-nosuch/drift", prefix);
	expect_status("GET", p2, NULL, NULL, 404);
}
END_TEST

/* The page: empty state, then reports, histograms and the trend with hostile categories escaped. */
START_TEST(html_page)
{
	char model[96], path[256], body[4096];
	struct http_resp r;
	size_t off;
	json_t *g;

	snprintf(model, sizeof(model), "%s-html", prefix);
	make_model(model);
	snprintf(path, sizeof(path), "/models/%s/drift", model);
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "No reference profile yet"));
	ck_assert_ptr_nonnull(strstr(r.body, "verdict model reference"));
	http_resp_free(&r);

	/* cat has no "unknown" policy of its own: the spec's default "missing" takes any text. */
	off = (size_t)snprintf(body, sizeof(body), "[");
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(body + off, sizeof(body) - off, "%s{\"num\":%d,\"cat\":%s,"
		    "\"flag\":\"yes\",\"member\":false}", i ? "," : "", i,
		    i % 4 == 0 ? "\"<script>alert(1)</script>\"" : i % 4 == 1 ?
		    "\"\\\"><img src=x onerror=alert(1)>\"" : i % 4 == 2 ? "\"a\"" : "\"b\"");
	snprintf(body + off, sizeof(body) - off, "]");
	snprintf(path, sizeof(path), "/api/models/%s/versions/1/reference", model);
	ck_assert_msg(fx_call(alice, "POST", path, "application/json", body, &r) == 201, "%s",
	    r.body);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/drift", model);
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "No drift report yet"));
	http_resp_free(&r);

	off = (size_t)snprintf(body, sizeof(body), "{\"instances\":[");
	for (int i = 0; i < 30; i++)
		off += (size_t)snprintf(body + off, sizeof(body) - off, "%s{\"num\":%d,\"cat\":%s,"
		    "\"flag\":\"no\",\"member\":true}", i ? "," : "", i * 3,
		    i % 2 ? "\"<script>alert(1)</script>\"" : "\"\\\"><img src=x onerror=alert(1)>\"");
	snprintf(body + off, sizeof(body) - off, "]}");
	snprintf(path, sizeof(path), "/api/models/%s/predict", model);
	ck_assert_int_eq(fx_call(alice, "POST", path, "application/json", body, &r), 200);
	http_resp_free(&r);

	/* The form, twice (a trend needs two reports): 303 back to the page. */
	snprintf(path, sizeof(path), "/models/%s/drift", model);
	for (int k = 0; k < 2; k++) {
		ck_assert_msg(fx_call(alice, "POST", path, "application/x-www-form-urlencoded",
		    "window=30d", &r) == 303, "%ld %s", r.status, r.body);
		http_resp_free(&r);
	}
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
	ck_assert_msg(strstr(r.body, "<script>alert") == NULL, "raw script in the page");
	ck_assert_msg(strstr(r.body, "<img src=x") == NULL, "raw img in the page");
	ck_assert_ptr_nonnull(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(r.body, "&lt;img src=x onerror=alert(1)&gt;"));
	ck_assert_ptr_nonnull(strstr(r.body, "Run drift check now"));
	ck_assert_ptr_nonnull(strstr(r.body, "<svg class=\"hist\""));
	ck_assert_ptr_nonnull(strstr(r.body, "<polyline class=\"line\""));
	ck_assert_ptr_nonnull(strstr(r.body, "Dataset drift"));
	ck_assert_ptr_nonnull(strstr(r.body, "name=\"csrf_token\""));
	http_resp_free(&r);

	/* The page's upload form: multipart, a CSV file for version 1; 303 back, stored. */
	snprintf(body, sizeof(body), "--bnd\r\nContent-Disposition: form-data; name=\"version\"\r\n"
	    "\r\n1\r\n--bnd\r\nContent-Disposition: form-data; name=\"data\"; filename=\"r.csv\"\r\n"
	    "Content-Type: text/csv\r\n\r\nnum,cat,flag,member\n1,a,yes,true\n2,\"<b>\",no,false\n"
	    "\r\n--bnd--\r\n");
	snprintf(path, sizeof(path), "/models/%s/drift/reference", model);
	ck_assert_msg(fx_call(alice, "POST", path, "multipart/form-data; boundary=bnd", body, &r) ==
	    303, "%ld %s", r.status, r.body);
	http_resp_free(&r);
	ck_assert_int_eq(stored_rows(model), 2);
	/* A bad file is an HTML 400 naming the line and field. */
	snprintf(body, sizeof(body), "--bnd\r\nContent-Disposition: form-data; name=\"version\"\r\n"
	    "\r\n1\r\n--bnd\r\nContent-Disposition: form-data; name=\"data\"; filename=\"r.csv\"\r\n"
	    "Content-Type: text/csv\r\n\r\nnum,cat,flag,member\nx,a,yes,true\n\r\n--bnd--\r\n");
	ck_assert_int_eq(fx_call(alice, "POST", path, "multipart/form-data; boundary=bnd", body, &r),
	    400);
	ck_assert_ptr_nonnull(strstr(r.body, "line 2"));
	http_resp_free(&r);
	ck_assert_int_eq(stored_rows(model), 2);

	/* The JSON view of the same: the latest report per version and the history. */
	snprintf(path, sizeof(path), "/api/models/%s/drift", model);
	ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
	ck_assert_ptr_nonnull(g = http_json(&r));
	ck_assert_int_eq(json_array_size(json_object_get(g, "reports")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(g, "history")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(g, "references")), 1);
	json_decref(g);
	http_resp_free(&r);
}
END_TEST

/* verdict model reference uploads a CSV file; a bad one exits 1 with the server's message. */
START_TEST(cli_reference)
{
	char model[96], file[] = "/tmp/drift-cliXXXXXX", args[512];
	struct row rows[50];
	FILE *f;
	int fd;

	snprintf(model, sizeof(model), "%s-cli", prefix);
	make_model(model);
	sample(rows, 50, 0, 99);
	ck_assert_int_ge(fd = mkstemp(file), 0);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fprintf(f, "num,cat,flag,member\n");
	for (int i = 0; i < 50; i++)
		fprintf(f, "%.17g,%s,%s,%d\n", rows[i].num, cats[rows[i].cat], flags[rows[i].flag],
		    rows[i].member);
	fclose(f);
	snprintf(args, sizeof(args), "model reference %s 1 --data %s", model, file);
	ck_assert_int_eq(cli(args), 0);
	ck_assert_int_eq(stored_rows(model), 50);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fprintf(f, "num,cat\n1,a\n");
	fclose(f);
	ck_assert_int_eq(cli(args), 1);
	ck_assert_int_eq(stored_rows(model), 50);
	snprintf(args, sizeof(args), "model reference %s --data %s", model, file);
	ck_assert_int_eq(cli(args), 2);
	unlink(file);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("drift");
	TCase *tc = tcase_create("drift");
	SRunner *sr;
	const char *e;
	char user[64];
	int failed;

	snprintf(prefix, sizeof(prefix), "dr%d", (int)getpid());
	if ((e = getenv("VERDICT_SRCDIR")) != NULL)
		snprintf(srcdir, sizeof(srcdir), "%s", e);
	else
		snprintf(srcdir, sizeof(srcdir), ".");
	if ((e = getenv("VERDICT_BUILDDIR")) != NULL)
		snprintf(verdict_bin, sizeof(verdict_bin), "%s/src/verdict", e);
	else
		snprintf(verdict_bin, sizeof(verdict_bin), "./src/verdict");
	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "alice%s", prefix);
	if (fx_account(user, 0, alice, sizeof(alice)) == -1)
		return 99;
	snprintf(token, sizeof(token), "%s", alice + strlen("Authorization: Bearer "));
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, small_reference);
	tcase_add_test(tc, large_reference);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, html_page);
	tcase_add_test(tc, cli_reference);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
