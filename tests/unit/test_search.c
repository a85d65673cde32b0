/* test_search.c: MLflow filter and order_by parsing, SQL compilation and page tokens, as tables of operator x identifier type. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

static struct arena *a;

static void
setup(void)
{
	a = arena_new(16 << 20);
}

static void
teardown(void)
{
	arena_free(a);
}

/* Every identifier type with every operator: accepted, or refused with a message part. */
static const struct {
	const char *filter;
	const char *want;       /* a part of the SQL, or of the error when err */
	int err;
} run_cases[] = {
	/* metrics: numbers only, numeric comparators only */
	{ "metrics.rmse > 0.5", "f.key = $4 AND f.value > $5::float8", 0 },
	{ "metrics.rmse >= 1", "f.value >= $5::float8", 0 },
	{ "metrics.rmse = -2", "f.value = $5::float8", 0 },
	{ "metrics.rmse != 3e-2", "f.value <> $5::float8", 0 },
	{ "metrics.rmse < .5", "f.value < $5::float8", 0 },
	{ "metrics.rmse <= 1E3", "f.value <= $5::float8", 0 },
	{ "metric.rmse <> 1", "FROM latest_metrics f", 0 },
	{ "metrics.rmse LIKE '1'", "invalid comparator 'LIKE' for metric rmse at position 14", 1 },
	{ "metrics.rmse ILIKE '1'", "invalid comparator 'ILIKE'", 1 },
	{ "metrics.rmse < 'x'", "expected a numeric value for metric at position 16", 1 },
	{ "metrics.rmse IN ('a')", "IN is only supported for run_id", 1 },
	/* params: strings only, = != LIKE ILIKE */
	{ "params.model = 'xgb'", "FROM params f WHERE f.run_uuid = r.run_uuid AND f.key = $4 AND f.value = $5)", 0 },
	{ "param.model != 'xgb'", "f.value <> $5", 0 },
	{ "parameters.model LIKE 'x%'", "f.value LIKE $5", 0 },
	{ "parameter.model ILIKE 'X%'", "f.value ILIKE $5", 0 },
	{ "params.model = \"xgb\"", "FROM params f", 0 },
	{ "params.lr > '1'", "invalid comparator '>' for parameter lr", 1 },
	{ "params.lr <= '1'", "only =, !=, LIKE and ILIKE compare strings", 1 },
	{ "params.lr = 1", "expected a quoted string value for parameter at position 13", 1 },
	/* tags */
	{ "tags.team = 'a'", "FROM tags f", 0 },
	{ "tags.`mlflow.user` ILIKE '%ada%'", "f.value ILIKE $5", 0 },
	{ "tags.mlflow.runName = 'x'", "FROM tags f", 0 },
	{ "tag.\"my key\" != 'a'", "f.value <> $5", 0 },
	{ "tags.t < 'a'", "invalid comparator '<' for tag t", 1 },
	/* string attributes */
	{ "attributes.status = 'FINISHED'", "r.status = $4", 0 },
	{ "attr.run_name LIKE 'a%'", "r.name LIKE $4", 0 },
	{ "run.user_id != 'ada'", "r.user_id <> $4", 0 },
	{ "attribute.artifact_uri ILIKE '%x%'", "r.artifact_uri ILIKE $4", 0 },
	{ "lifecycle_stage = 'active'", "r.lifecycle_stage = $4", 0 },
	{ "run_name = 'a'", "r.name = $4", 0 },
	{ "attributes.status > 'a'", "invalid comparator '>' for attribute status", 1 },
	{ "attributes.status = 1", "expected a quoted string value for attribute", 1 },
	/* numeric attributes */
	{ "attributes.start_time > 1000", "r.start_time > $4::bigint", 0 },
	{ "attributes.end_time <= 5", "r.end_time <= $4::bigint", 0 },
	{ "start_time != 5", "r.start_time <> $4::bigint", 0 },
	{ "attributes.start_time > 1.5", "expected an integer (milliseconds) for start_time", 1 },
	{ "attributes.start_time LIKE '1'", "invalid comparator 'LIKE' for attribute start_time", 1 },
	{ "attributes.start_time = '1'", "expected a numeric value for attribute", 1 },
	/* run_id IN / NOT IN */
	{ "attributes.run_id IN ('a', 'b')", "r.run_uuid IN ($4,$5)", 0 },
	{ "attributes.run_id NOT IN ('a')", "r.run_uuid NOT IN ($4)", 0 },
	{ "run_id in ('a','b','c')", "IN ($4,$5,$6)", 0 },
	{ "attributes.run_id = 'a'", "r.run_uuid = $4", 0 },
	{ "attributes.status IN ('a')", "IN is only supported for run_id", 1 },
	{ "attributes.run_id IN 'a'", "expected '(' after IN at position 22", 1 },
	{ "attributes.run_id IN ('a' 'b')", "expected ',' or ')' in the IN list at position 27", 1 },
	{ "attributes.run_id IN (1)", "expected a quoted string in the IN list", 1 },
	{ "attributes.run_id NOT ('a')", "expected IN after NOT", 1 },
	/* conjunctions */
	{ "metrics.a > 1 AND params.b = 'x' and tags.c = 'y'", "$9)", 0 },
	{ "metrics.a > 1 OR metrics.b > 1", "OR is not supported (position 15)", 1 },
	{ "metrics.a > 1 metrics.b > 1", "expected AND or the end of the filter at position 15", 1 },
	{ "metrics.a > 1 AND", "expected an identifier such as metrics.rmse at position 18", 1 },
	/* lexical errors, with positions */
	{ "params.a = 'open", "unterminated string starting at position 12", 1 },
	{ "tags.`open = 'x'", "unterminated quoted name", 1 },
	{ "metrics.a ! 1", "unexpected '!' at position 11", 1 },
	{ "metrics.a > 1 ; DROP TABLE runs", "unexpected character ';' at position 15", 1 },
	{ "metrics.a", "expected a comparison operator", 1 },
	{ "foo.bar = 'x'", "invalid entity type 'foo' at position 1", 1 },
	{ "attributes.nope = 'x'", "invalid attribute key 'nope'", 1 },
	{ "nope = 'x'", "invalid identifier 'nope' at position 1", 1 },
	{ "metrics.`` > 1", "empty key", 1 },
	{ "metrics. > 1", "expected a key after 'metrics.' at position 10", 1 },
	{ "= 1", "expected an identifier", 1 },
	{ "'x' = 'x'", "expected an identifier", 1 },
};

START_TEST(filter_table)
{
	for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
		struct search_query q;
		char err[SEARCH_ERR_MAX] = "";
		int rc = search_compile(a, SEARCH_RUNS, run_cases[i].filter, NULL, 0, NULL, &q,
		    err, sizeof(err));

		if (run_cases[i].err) {
			ck_assert_msg(rc == -1, "%s: accepted: %s", run_cases[i].filter, q.sql);
			ck_assert_msg(strstr(err, run_cases[i].want) != NULL, "%s: error '%s', "
			    "want '%s'", run_cases[i].filter, err, run_cases[i].want);
		} else {
			ck_assert_msg(rc == 0, "%s: %s", run_cases[i].filter, err);
			ck_assert_msg(strstr(q.sql, run_cases[i].want) != NULL, "%s: sql '%s', "
			    "want '%s'", run_cases[i].filter, q.sql, run_cases[i].want);
			ck_assert_int_eq(q.nfixed, 3);
			for (int k = 0; k < q.nfixed; k++)
				ck_assert_ptr_null(q.vals[k]);
		}
	}
}
END_TEST

/* Values never reach the SQL text: they are parameters, whatever they hold. */
START_TEST(values_are_parameters)
{
	struct search_query q;
	char err[SEARCH_ERR_MAX];
	const char *f = "params.`x'; DROP TABLE runs; --` = 'a''); DELETE FROM runs; --' "
	    "AND metrics.m > 1e308 AND tags.t LIKE '%\\%'";

	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, f, NULL, 0, NULL, &q, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(strstr(q.sql, "DROP"));
	ck_assert_ptr_null(strstr(q.sql, "DELETE"));
	ck_assert_ptr_null(strstr(q.sql, "1e308"));
	ck_assert_int_eq(q.nvals, 3 + 6);
	ck_assert_str_eq(q.vals[3], "x'; DROP TABLE runs; --");
	ck_assert_str_eq(q.vals[4], "a'); DELETE FROM runs; --");
	ck_assert_str_eq(q.vals[6], "1e308");
	ck_assert_str_eq(q.vals[8], "%\\%");
}
END_TEST

START_TEST(order_by_table)
{
	static const struct { const char *clause, *want; int err; } cases[] = {
		{ "metrics.rmse DESC", "ORDER BY o1.value DESC NULLS LAST, r.start_time DESC, r.run_uuid ASC", 0 },
		{ "metrics.rmse", "LEFT JOIN latest_metrics o1 ON o1.run_uuid = r.run_uuid AND o1.key = $4", 0 },
		{ "params.lr asc", "LEFT JOIN params o1", 0 },
		{ "tags.`a b` DESC", "LEFT JOIN tags o1", 0 },
		{ "attributes.start_time ASC", "ORDER BY r.start_time ASC, r.start_time DESC", 0 },
		{ "attributes.end_time", "r.end_time ASC NULLS LAST", 0 },
		{ "run_name DESC", "r.name DESC", 0 },
		{ "metrics.rmse DOWN", "invalid order_by clause 'metrics.rmse DOWN': unexpected 'DOWN' at position 14", 1 },
		{ "nope", "invalid order_by clause 'nope'", 1 },
		{ "metrics.rmse DESC extra", "unexpected 'extra'", 1 },
		{ "", "invalid order_by clause ''", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct search_query q;
		char err[SEARCH_ERR_MAX] = "";
		const char *ob[1] = { cases[i].clause };
		int rc = search_compile(a, SEARCH_RUNS, NULL, ob, 1, NULL, &q, err, sizeof(err));

		if (cases[i].err) {
			ck_assert_msg(rc == -1, "%s: accepted", cases[i].clause);
			ck_assert_msg(strstr(err, cases[i].want) != NULL, "%s: '%s'",
			    cases[i].clause, err);
		} else {
			ck_assert_msg(rc == 0, "%s: %s", cases[i].clause, err);
			ck_assert_msg(strstr(q.sql, cases[i].want) != NULL, "%s: '%s'",
			    cases[i].clause, q.sql);
			ck_assert_int_eq(q.nkeys, 3);
		}
	}
}
END_TEST

START_TEST(default_order_and_limit)
{
	struct search_query q;
	char err[SEARCH_ERR_MAX];

	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, "", NULL, 0, NULL, &q, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(q.sql, "ORDER BY r.start_time DESC, r.run_uuid ASC "
	    "LIMIT $3::int"));
	ck_assert_int_eq(q.nkeys, 2);
	ck_assert_int_eq(search_compile(a, SEARCH_EXPERIMENTS, NULL, NULL, 0, NULL, &q, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(q.sql, "ORDER BY e.last_update_time DESC, "
	    "e.experiment_id ASC LIMIT $2::int"));
	ck_assert_int_eq(q.nfixed, 2);
}
END_TEST

START_TEST(experiment_filters)
{
	static const struct { const char *f, *want; int err; } cases[] = {
		{ "name = 'a'", "e.name = $3", 0 },
		{ "attribute.name LIKE 'a%'", "e.name LIKE $3", 0 },
		{ "name ILIKE '%A%' AND tags.team = 'x'", "FROM experiment_tags f", 0 },
		{ "attributes.creation_time > 5", "e.creation_time > $3::bigint", 0 },
		{ "metrics.rmse > 1", "invalid entity type 'metrics'", 1 },
		{ "run.name = 'a'", "invalid entity type 'run'", 1 },
		{ "status = 'a'", "invalid identifier 'status'", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct search_query q;
		char err[SEARCH_ERR_MAX] = "";
		int rc = search_compile(a, SEARCH_EXPERIMENTS, cases[i].f, NULL, 0, NULL, &q,
		    err, sizeof(err));

		if (cases[i].err)
			ck_assert_msg(rc == -1 && strstr(err, cases[i].want) != NULL, "%s: '%s'",
			    cases[i].f, err);
		else
			ck_assert_msg(rc == 0 && strstr(q.sql, cases[i].want) != NULL, "%s: %s %s",
			    cases[i].f, err, rc == 0 ? q.sql : "");
	}
}
END_TEST

START_TEST(page_tokens)
{
	struct search_query q;
	char err[SEARCH_ERR_MAX];
	const char *keys[3] = { NULL, "1700000000000", "00ff" };
	const char *ob[1] = { "metrics.rmse DESC" };
	const char *back[3];
	char *tok = search_page_token(a, keys, 3);

	ck_assert_ptr_nonnull(tok);
	ck_assert_int_eq(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_"), strlen(tok));
	ck_assert_int_eq(search_token_decode(a, tok, back, 3), 0);
	ck_assert_ptr_null(back[0]);
	ck_assert_str_eq(back[1], "1700000000000");
	ck_assert_int_eq(search_token_decode(a, tok, back, 2), -1);
	/* A NULL metric: the next page holds only rows with no value, after the run id. */
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, ob, 1, tok, &q, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(q.sql, "(FALSE) OR (o1.value IS NULL AND "
	    "r.start_time < $5::bigint) OR (o1.value IS NULL AND r.start_time = $5::bigint "
	    "AND r.run_uuid > $6)"));
	ck_assert_str_eq(q.vals[4], "1700000000000");
	/* The same token for the default order has one key too many. */
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, NULL, 0, tok, &q, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid page token"));
	/* A value where the column cannot be NULL. */
	keys[0] = "0.5";
	keys[1] = NULL;
	tok = search_page_token(a, keys, 3);
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, ob, 1, tok, &q, err,
	    sizeof(err)), -1);
	/* A present value: later rows sort below it or have none. */
	keys[1] = "5";
	tok = search_page_token(a, keys, 3);
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, ob, 1, tok, &q, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(q.sql, "(o1.value < $5::float8 OR o1.value IS NULL)"));
	/* Garbage. */
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, NULL, 0, "!!!", &q, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, NULL, 0, "e30", &q, err,
	    sizeof(err)), -1);   /* "{}" */
}
END_TEST

START_TEST(limits)
{
	struct search_query q;
	char err[SEARCH_ERR_MAX];
	char *f = malloc(SEARCH_FILTER_MAX + 100);
	const char *ob[SEARCH_MAX_ORDER + 1];
	size_t n = 0;

	for (int i = 0; i <= SEARCH_MAX_CLAUSES; i++)
		n += (size_t)sprintf(f + n, "%smetrics.m%d > 1", i ? " AND " : "", i % 10);
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, f, NULL, 0, NULL, &q, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 100 clauses"));
	memset(f, 'a', SEARCH_FILTER_MAX + 1);
	f[SEARCH_FILTER_MAX + 1] = '\0';
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, f, NULL, 0, NULL, &q, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, "params.a = '\xff'", NULL, 0, NULL,
	    &q, err, sizeof(err)), -1);
	for (int i = 0; i <= SEARCH_MAX_ORDER; i++)
		ob[i] = "metrics.a";
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, ob, SEARCH_MAX_ORDER + 1, NULL,
	    &q, err, sizeof(err)), -1);
	ck_assert_int_eq(search_compile(a, SEARCH_RUNS, NULL, ob, SEARCH_MAX_ORDER, NULL,
	    &q, err, sizeof(err)), 0);
	free(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, filter_table);
	tcase_add_test(tc, values_are_parameters);
	tcase_add_test(tc, order_by_table);
	tcase_add_test(tc, default_order_and_limit);
	tcase_add_test(tc, experiment_filters);
	tcase_add_test(tc, page_tokens);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
