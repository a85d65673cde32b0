/* test_demo.c: deploy/up's hooks (10-admin, 20-demo-model) run against a harness stack as deploy/up runs them — the demo model is trained on the public flights data, the best trial of its four-trial search is in Production, it answers the README's example, and a second run trains nothing. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

#define MODEL "flights"
#define EXPERIMENT "demo-flights"
#define TRIALS 4                /* the hook's --search N */
#define RUNS (TRIALS + 1)       /* and their parent run */

static char hdr[300], srcdir[PATH_MAX], builddir[PATH_MAX];
static char first_out[65536];   /* what the first run of the hooks printed */
static int first_status = -1;

/*
 * Runs deploy/up.d/10-admin and 20-demo-model in the stack's directory with
 * its stack.env exported and VERDICT_SRCDIR/VERDICT_BUILDDIR set, as
 * deploy/up does; stdout and stderr into out. The exit status, -1 if it
 * could not run.
 */
static int
run_hooks(char *out, size_t len)
{
	char cmd[PATH_MAX * 6];
	FILE *p;
	size_t n = 0, got;
	int st;

	if (snprintf(cmd, sizeof(cmd), "cd '%s' && set -a && . ./stack.env && set +a && "
	    "export VERDICT_SRCDIR='%s' VERDICT_BUILDDIR='%s' && "
	    "'%s/deploy/up.d/10-admin' && '%s/deploy/up.d/20-demo-model' </dev/null 2>&1",
	    harness_dir(), srcdir, builddir, srcdir, srcdir) >= (int)sizeof(cmd) ||
	    (p = popen(cmd, "r")) == NULL)
		return -1;
	while (n + 1 < len && (got = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The runs of the demo experiment (caller decrefs; asserts it exists). */
static json_t *
demo_runs(void)
{
	json_t *runs = fx_runs_of(hdr, EXPERIMENT);

	ck_assert_msg(runs != NULL, "no experiment " EXPERIMENT "; the hooks said:\n%s",
	    first_out);
	return runs;
}

/* The final value of metric key in run (asserts it is there). */
static double
final_metric(json_t *run, const char *key)
{
	json_t *v = fx_run_value(run, "metrics", key);

	ck_assert_msg(json_is_number(v), "run has no metric %s", key);
	return json_number_value(v);
}

/* The model's versions (caller decrefs the model object, returned). */
static json_t *
model(void)
{
	json_t *m;
	long st;

	m = fx_json(hdr, "GET", "/api/models/" MODEL, NULL, &st);
	ck_assert_msg(st == 200, "GET /api/models/" MODEL ": %ld; the hooks said:\n%s", st,
	    first_out);
	return m;
}

START_TEST(hooks_succeed)
{
	ck_assert_msg(first_status == 0, "the hooks exited %d:\n%s", first_status, first_out);
	ck_assert_msg(strstr(first_out, "registered as " MODEL) != NULL, "no registration:\n%s",
	    first_out);
	ck_assert_msg(strstr(first_out, "/api/models/" MODEL "/predict") != NULL,
	    "no prediction hint:\n%s", first_out);
}
END_TEST

/*
 * The Production version is the trial with the lowest validation logloss
 * of the search's four finished child runs, all trained on the flights rows,
 * and the parent run names it as its best.
 */
START_TEST(production_is_best_run_of_search)
{
	json_t *m = model(), *runs = demo_runs(), *v, *run, *prod = NULL;
	const char *prod_run = NULL, *best_run = NULL, *parent = NULL, *named = NULL;
	double best = 1e300;
	size_t i, trials = 0;

	ck_assert_int_eq(json_array_size(json_object_get(m, "versions")), 1);
	json_array_foreach(json_object_get(m, "versions"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "stage")), "Production"))
			prod = v;
	ck_assert_ptr_nonnull(prod);
	prod_run = json_string_value(json_object_get(prod, "run_id"));
	ck_assert_ptr_nonnull(prod_run);
	ck_assert_int_eq(json_array_size(json_object_get(runs, "runs")), RUNS);
	json_array_foreach(json_object_get(runs, "runs"), i, run) {
		json_t *info = json_object_get(run, "info");
		const char *rows = json_string_value(fx_run_value(run, "tags", "verdict.data.rows"));
		const char *up = json_string_value(fx_run_value(run, "tags", "mlflow.parentRunId"));
		double loss;

		if (up == NULL) {               /* the search's parent */
			ck_assert_ptr_null(parent);
			parent = json_string_value(json_object_get(info, "run_id"));
			named = json_string_value(fx_run_value(run, "tags",
			    "verdict.search.best_run_id"));
			ck_assert_str_eq(json_string_value(json_object_get(info, "status")),
			    "FINISHED");
			continue;
		}
		trials++;
		ck_assert_str_eq(json_string_value(json_object_get(info, "status")), "FINISHED");
		ck_assert_ptr_nonnull(rows);
		ck_assert_str_eq(rows, "10000");
		loss = final_metric(run, "logloss");
		ck_assert(loss > 0 && loss < 0.693);        /* better than a coin */
		if (loss < best) {
			best = loss;
			best_run = json_string_value(json_object_get(info, "run_id"));
		}
	}
	ck_assert_int_eq(trials, TRIALS);
	ck_assert_ptr_nonnull(parent);
	json_array_foreach(json_object_get(runs, "runs"), i, run)
		if (fx_run_value(run, "tags", "mlflow.parentRunId") != NULL)
			ck_assert_str_eq(json_string_value(fx_run_value(run, "tags",
			    "mlflow.parentRunId")), parent);
	ck_assert_str_eq(prod_run, best_run);
	ck_assert_ptr_nonnull(named);
	ck_assert_str_eq(named, best_run);
	json_decref(runs);
	json_decref(m);
}
END_TEST

/* The README's curl example, answered by the Production version with a class and probabilities. */
START_TEST(readme_example_predicts)
{
	json_t *m = model(), *a, *p, *v, *prod = NULL;
	const char *label;
	double pl, po;
	long st;
	size_t i;

	json_array_foreach(json_object_get(m, "versions"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "stage")), "Production"))
			prod = v;
	ck_assert_ptr_nonnull(prod);
	a = fx_json(hdr, "POST", "/api/models/" MODEL "/predict", "{\"inputs\":{\"distance\":2475,"
	    "\"origin\":\"JFK\",\"departure\":\"2024-10-04 18:00\"}}", &st);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "version")),
	    json_integer_value(json_object_get(prod, "version")));
	p = json_array_get(json_object_get(a, "predictions"), 0);
	ck_assert_ptr_nonnull(p);
	label = json_string_value(json_object_get(p, "label"));
	ck_assert_ptr_nonnull(label);
	pl = json_number_value(json_object_get(json_object_get(p, "probabilities"), "late"));
	po = json_number_value(json_object_get(json_object_get(p, "probabilities"), "on_time"));
	ck_assert(pl > 0 && pl < 1);
	ck_assert_double_eq_tol(pl + po, 1.0, 1e-6);
	ck_assert_str_eq(label, pl >= 0.5 ? "late" : "on_time");
	ck_assert(json_integer_value(json_object_get(p, "prediction_id")) > 0);
	/* An airport the data never saw goes to the "other" column, not a 400. */
	json_decref(a);
	a = fx_json(hdr, "POST", "/api/models/" MODEL "/predict", "{\"inputs\":{\"distance\":300,"
	    "\"origin\":\"XXX\",\"destination\":\"YYY\",\"departure\":\"2024-10-04 06:00\"}}", &st);
	ck_assert_int_eq(st, 200);
	json_decref(a);
	/* A departure in another format is refused, naming the field. */
	a = fx_json(hdr, "POST", "/api/models/" MODEL "/predict", "{\"inputs\":{\"distance\":300,"
	    "\"origin\":\"JFK\",\"departure\":\"04/10/2024\"}}", &st);
	ck_assert_int_eq(st, 400);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "message")),
	    "departure"));
	json_decref(a);
	json_decref(m);
}
END_TEST

/* deploy/up again: the hook sees the model and trains, logs and registers nothing. */
START_TEST(second_run_trains_nothing)
{
	static char out[65536];
	json_t *m, *runs;
	int rc;

	rc = run_hooks(out, sizeof(out));
	ck_assert_msg(rc == 0, "second run exited %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "demo model: " MODEL " is registered") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "registered as") == NULL, "trained again:\n%s", out);
	runs = demo_runs();
	ck_assert_int_eq(json_array_size(json_object_get(runs, "runs")), RUNS);
	m = model();
	ck_assert_int_eq(json_array_size(json_object_get(m, "versions")), 1);
	json_decref(runs);
	json_decref(m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("demo");
	TCase *tc = tcase_create("demo");
	SRunner *sr;
	const char *b = getenv("VERDICT_BUILDDIR"), *src = getenv("VERDICT_SRCDIR");
	char user[64];
	struct timespec t0, t1;
	int failed;

	/* Absolute: the hooks run in the stack's directory. */
	if (realpath(b && *b ? b : ".", builddir) == NULL ||
	    realpath(src && *src ? src : ".", srcdir) == NULL) {
		fprintf(stderr, "test_demo: VERDICT_BUILDDIR or VERDICT_SRCDIR does not exist\n");
		return 99;
	}
	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "demo%d", getpid());
	if (fx_account(user, 1, hdr, sizeof(hdr)) == -1)
		return 99;
	/* Once, before the tests fork: they look at what it left. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	first_status = run_hooks(first_out, sizeof(first_out));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "# the hooks took %.1f s (exit %d):\n%s", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, first_status, first_out);

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, hooks_succeed);
	tcase_add_test(tc, production_is_best_run_of_search);
	tcase_add_test(tc, readme_example_predicts);
	tcase_add_test(tc, second_run_trains_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
