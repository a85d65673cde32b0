/* test_search_pages.c: runs/search sorted on a metric (the split query: runs with the metric from its latest_metrics rows, then those without) walked page by page, against the order computed here from the data the test logged. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NRUNS 60

static char hdr[256];
static char exp_id[32];

/* What the test logged, and so what the order must follow from. */
static struct run {
	char id[40], name[16];
	long long start;
	int has_score;
	double score, loss;
	char kind[2];
	int team;               /* tag team = "t0" or "t1" */
	int deleted;
} runs[NRUNS];

/* POSTs a JSON body; *out (when non-NULL) gets the parsed answer. Returns the status. */
static long
call_json(const char *path, const char *body, json_t **out)
{
	struct http_resp r;
	long st = fx_call(hdr, "POST", path, "application/json", body, &r);

	if (out != NULL) {
		*out = http_json(&r);
		ck_assert_msg(*out != NULL, "%s: not JSON: %s", path, r.body);
	}
	http_resp_free(&r);
	return st;
}

/* Creates the experiment name-<pid>; its id goes to id. */
static void
create_experiment(const char *name, char *id, size_t idlen)
{
	char body[256];
	json_t *j;

	snprintf(body, sizeof(body), "{\"name\":\"%s-%d\"}", name, (int)getpid());
	ck_assert_int_eq(call_json("/api/2.0/mlflow/experiments/create", body, &j), 200);
	snprintf(id, idlen, "%s", json_string_value(json_object_get(j, "experiment_id")));
	json_decref(j);
}

/* Creates a run from the runs/create body; its id goes to id. */
static void
create_run(const char *body, char *id, size_t idlen)
{
	json_t *j;

	ck_assert_int_eq(call_json("/api/2.0/mlflow/runs/create", body, &j), 200);
	snprintf(id, idlen, "%s", json_string_value(json_object_get(json_object_get(
	    json_object_get(j, "run"), "info"), "run_id")));
	json_decref(j);
}

/*
 * NRUNS runs: start times in groups of three (ties broken by run id), a
 * score from six values (ties in the sort value) missing on every fifth run,
 * a distinct loss, a kind a/b/c, a tag team t0/t1.
 */
static void
make_runs(void)
{
	char body[1024];

	/* One experiment per forked test. */
	create_experiment("search-pages", exp_id, sizeof(exp_id));
	for (int i = 0; i < NRUNS; i++) {
		struct run *u = &runs[i];
		char metrics[512];

		snprintf(u->name, sizeof(u->name), "r%d", i);
		u->start = 1700000000000LL + (i / 3) * 1000;
		u->has_score = i % 5 != 0;
		u->score = (double)((i * 7) % 6) * 0.5;
		u->loss = i * 0.1 + 0.05;
		snprintf(u->kind, sizeof(u->kind), "%c", 'a' + i % 3);
		u->team = i % 2;
		snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\",\"run_name\":\"%s\","
		    "\"start_time\":%lld}", exp_id, u->name, u->start);
		create_run(body, u->id, sizeof(u->id));
		snprintf(metrics, sizeof(metrics), "{\"key\":\"loss\",\"value\":%.2f,"
		    "\"timestamp\":1,\"step\":0}", u->loss);
		if (u->has_score)
			snprintf(metrics + strlen(metrics), sizeof(metrics) - strlen(metrics),
			    ",{\"key\":\"score\",\"value\":%.1f,\"timestamp\":1,\"step\":0}",
			    u->score);
		snprintf(body, sizeof(body), "{\"run_id\":\"%s\",\"metrics\":[%s],\"params\":"
		    "[{\"key\":\"kind\",\"value\":\"%s\"}],\"tags\":[{\"key\":\"team\","
		    "\"value\":\"t%d\"}]}", u->id, metrics, u->kind, u->team);
		ck_assert_int_eq(call_json("/api/2.0/mlflow/runs/log-batch", body, NULL), 200);
	}
}

/* The order a case asks for, computed from runs[]: MLflow's, missing last. */
static int score_desc, by_loss;
/* Which runs a case reads: 0 active (the default), 1 deleted only, 2 all. */
static int view;

static int
cmp_num(int ha, double a, int hb, double b, int desc)
{
	if (ha != hb)
		return ha ? -1 : 1;
	if (!ha || a == b)
		return 0;
	return (a < b) != desc ? -1 : 1;
}

static int
cmp_runs(const void *pa, const void *pb)
{
	const struct run *a = *(const struct run *const *)pa, *b = *(const struct run *const *)pb;
	int c = cmp_num(a->has_score, a->score, b->has_score, b->score, score_desc);

	if (c == 0 && by_loss)
		c = cmp_num(1, a->loss, 1, b->loss, 0);
	if (c == 0 && a->start != b->start)
		c = a->start > b->start ? -1 : 1;
	return c != 0 ? c : strcmp(a->id, b->id);
}

/*
 * filter: 0 none, 1 "metrics.loss < 4.5 AND params.kind = 'a'",
 * 2 "metrics.loss < 4.5 AND attributes.run_name LIKE 'r1%'", 3 "params.kind = 'b'",
 * 4 "tags.team LIKE 't1%' AND metrics.loss > 1.0"
 */
static size_t
expected(int filter, const struct run **out)
{
	size_t n = 0;

	for (int i = 0; i < NRUNS; i++) {
		const struct run *u = &runs[i];

		if ((view == 0 && u->deleted) || (view == 1 && !u->deleted))
			continue;
		if ((filter == 1 && !(u->loss < 4.5 && u->kind[0] == 'a')) ||
		    (filter == 2 && !(u->loss < 4.5 && !strncmp(u->name, "r1", 2))) ||
		    (filter == 3 && u->kind[0] != 'b') ||
		    (filter == 4 && !(u->team == 1 && u->loss > 1.0)))
			continue;
		out[n++] = u;
	}
	qsort(out, n, sizeof(*out), cmp_runs);
	return n;
}

/* Walks every page of max results; asserts the concatenation is want. */
static void
walk(const char *order_json, const char *filter, int max, const struct run **want,
    size_t nwant)
{
	char token[4096] = "", tokfield[4200], body[8192];
	size_t got = 0;
	int pages = 0;

	for (;;) {
		json_t *j, *list;

		tokfield[0] = '\0';
		if (token[0] != '\0')
			snprintf(tokfield, sizeof(tokfield), ",\"page_token\":\"%s\"", token);
		snprintf(body, sizeof(body), "{\"experiment_ids\":[\"%s\"],\"order_by\":%s,"
		    "\"filter\":\"%s\",\"max_results\":%d%s,\"run_view_type\":\"%s\"}", exp_id,
		    order_json, filter, max, tokfield, view == 0 ? "ACTIVE_ONLY" : view == 1 ?
		    "DELETED_ONLY" : "ALL");
		ck_assert_int_eq(call_json("/api/2.0/mlflow/runs/search", body, &j), 200);
		list = json_object_get(j, "runs");
		ck_assert_msg(json_array_size(list) <= (size_t)max, "page larger than %d", max);
		for (size_t k = 0; k < json_array_size(list); k++, got++) {
			const char *id = json_string_value(json_object_get(json_object_get(
			    json_array_get(list, k), "info"), "run_id"));

			ck_assert_msg(got < nwant, "%s %s: more than the %zu expected runs",
			    order_json, filter, nwant);
			ck_assert_msg(!strcmp(id, want[got]->id), "%s %s page %d row %zu: got %s, "
			    "want %s (%s)", order_json, filter, pages, k, id, want[got]->id,
			    want[got]->name);
		}
		pages++;
		if (json_object_get(j, "next_page_token") == NULL) {
			json_decref(j);
			break;
		}
		ck_assert_msg(json_array_size(list) == (size_t)max, "a short page with a token");
		snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(j,
		    "next_page_token")));
		json_decref(j);
		ck_assert_int_lt(pages, NRUNS + 2);
	}
	ck_assert_msg(got == nwant, "%s %s: %zu runs, want %zu", order_json, filter, got, nwant);
}

START_TEST(metric_sort_pages_match_the_data)
{
	const struct run *want[NRUNS];
	size_t n;

	/* Pages of 7 cross from runs with a score to runs without one mid-page. */
	for (int desc = 0; desc < 2; desc++) {
		score_desc = desc;
		by_loss = 0;
		n = expected(0, want);
		ck_assert_int_eq(n, NRUNS);
		walk(desc ? "[\"metrics.score DESC\"]" : "[\"metrics.score ASC\"]", "", 7, want, n);
		/* One page holding everything, and pages of one. */
		walk(desc ? "[\"metrics.score DESC\"]" : "[\"metrics.score ASC\"]", "", NRUNS + 5,
		    want, n);
		walk(desc ? "[\"metrics.score DESC\"]" : "[\"metrics.score\"]", "", 1, want, n);
	}
	/* A 2-clause filter with the sort. */
	score_desc = 1;
	n = expected(1, want);
	ck_assert_int_gt(n, 5);
	walk("[\"metrics.score DESC\"]", "metrics.loss < 4.5 AND params.kind = 'a'", 3, want, n);
	/* Led by a tag clause (the first clause drives the filter). */
	n = expected(4, want);
	ck_assert_int_gt(n, 5);
	walk("[\"metrics.score DESC\"]", "tags.team LIKE 't1%' AND metrics.loss > 1.0", 3, want,
	    n);
	/* A second metric after the first. */
	by_loss = 1;
	score_desc = 0;
	n = expected(0, want);
	walk("[\"metrics.score ASC\", \"metrics.loss ASC\"]", "", 4, want, n);
}
END_TEST

/*
 * The runs with the sort metric are read from their latest_metrics rows,
 * which carry a copy of the run's experiment, stage and start time: deleting
 * and restoring runs moves them between views, another experiment's runs
 * with the same metric stay out, and filters on attributes latest_metrics
 * has no copy of, or in the other direction, page the same way.
 */
START_TEST(metric_sort_follows_deletes_and_filters)
{
	const struct run *want[NRUNS];
	char body[512], other[32];
	size_t n;

	/* A second experiment whose runs outscore every run of the first. */
	create_experiment("search-pages-other", other, sizeof(other));
	for (int i = 0; i < 3; i++) {
		char id[40];

		snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\"}", other);
		create_run(body, id, sizeof(id));
		snprintf(body, sizeof(body), "{\"run_id\":\"%s\",\"metrics\":[{\"key\":\"score\","
		    "\"value\":99,\"timestamp\":1,\"step\":0},{\"key\":\"loss\",\"value\":0,"
		    "\"timestamp\":1,\"step\":0}],\"params\":[{\"key\":\"kind\",\"value\":\"a\"}]}",
		    id);
		ck_assert_int_eq(call_json("/api/2.0/mlflow/runs/log-batch", body, NULL), 200);
	}
	/* Every seventh run deleted. */
	for (int i = 0; i < NRUNS; i += 7) {
		snprintf(body, sizeof(body), "{\"run_id\":\"%s\"}", runs[i].id);
		ck_assert_int_eq(call_json("/api/2.0/mlflow/runs/delete", body, NULL), 200);
		runs[i].deleted = 1;
	}
	by_loss = 0;
	for (view = 0; view < 3; view++) {
		score_desc = 1;
		n = expected(0, want);
		walk("[\"metrics.score DESC\"]", "", 6, want, n);
		n = expected(1, want);
		walk("[\"metrics.score DESC\"]", "metrics.loss < 4.5 AND params.kind = 'a'", 2,
		    want, n);
		score_desc = 0;
		n = expected(1, want);
		walk("[\"metrics.score ASC\"]", "metrics.loss < 4.5 AND params.kind = 'a'", 2,
		    want, n);
		n = expected(2, want);
		ck_assert_int_gt(n, view == 1 ? 0 : 2);
		walk("[\"metrics.score ASC\"]", "metrics.loss < 4.5 AND "
		    "attributes.run_name LIKE 'r1%'", 3, want, n);
		score_desc = 1;
		n = expected(3, want);
		walk("[\"metrics.score DESC\"]", "params.kind = 'b'", 4, want, n);
	}
	/* Restored, a run is back among the active ones, in its place. */
	view = 0;
	snprintf(body, sizeof(body), "{\"run_id\":\"%s\"}", runs[7].id);
	ck_assert_int_eq(call_json("/api/2.0/mlflow/runs/restore", body, NULL), 200);
	runs[7].deleted = 0;
	n = expected(0, want);
	walk("[\"metrics.score DESC\"]", "", 5, want, n);
	/* The whole experiment deleted: no active run left to sort. */
	snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\"}", exp_id);
	ck_assert_int_eq(call_json("/api/2.0/mlflow/experiments/delete", body, NULL), 200);
	for (int i = 0; i < NRUNS; i++)
		runs[i].deleted = 1;
	n = expected(0, want);
	ck_assert_int_eq(n, 0);
	walk("[\"metrics.score DESC\"]", "", 5, want, n);
	view = 1;
	n = expected(1, want);
	walk("[\"metrics.score DESC\"]", "metrics.loss < 4.5 AND params.kind = 'a'", 4, want, n);
	view = 0;
}
END_TEST

/* The experiment page's table follows the same order as the API. */
START_TEST(experiment_page_follows_the_order)
{
	const struct run *want[NRUNS];
	struct http_resp r;
	char path[512];
	const char *p;
	size_t n, k = 0;

	score_desc = 1;
	by_loss = 0;
	n = expected(1, want);
	snprintf(path, sizeof(path), "/experiments/%s?filter=metrics.loss+%%3C+4.5+AND+"
	    "params.kind+%%3D+%%27a%%27&order=metrics.score+DESC&n=100", exp_id);
	ck_assert_int_eq(fx_call(hdr, "GET", path, NULL, NULL, &r), 200);
	for (p = r.body; (p = strstr(p, "name=\"runs\" value=\"")) != NULL; k++) {
		p += strlen("name=\"runs\" value=\"");
		ck_assert_msg(k < n && !strncmp(p, want[k]->id, 32), "row %zu: %.32s, want %s",
		    k, p, k < n ? want[k]->id : "none");
	}
	ck_assert_int_eq(k, n);
	http_resp_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("search_pages");
	TCase *tc = tcase_create("search_pages");
	SRunner *sr;
	char user[64];
	int failed;

	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "pager%d", (int)getpid());
	if (fx_account(user, 0, hdr, sizeof(hdr)) == -1)
		return 99;
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, make_runs, NULL);
	tcase_add_test(tc, metric_sort_pages_match_the_data);
	tcase_add_test(tc, experiment_page_follows_the_order);
	tcase_add_test(tc, metric_sort_follows_deletes_and_filters);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
