/* test_hpspace.c: search spaces for `verdict train --search` — a table of bad spaces and their messages, samples inside their ranges, the same seed giving the same trials. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpspace.h"

static struct hpspace *
parse(const char *text, char *err, size_t len)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	struct hpspace *sp;

	ck_assert_msg(j != NULL, "%s: %s", text, e.text);
	sp = hpspace_parse(j, err, len);
	json_decref(j);
	return sp;
}

/* Each bad space and a part of its message. */
static const struct {
	const char *space, *want;
} bad[] = {
	{ "[]", "the space must be a JSON object" },
	{ "{}", "the space names no hyperparameter" },
	{ "{\"depth\": {\"int\": [1, 3]}}", "key 'depth': not a hyperparameter the search knows" },
	{ "{\"eta\": {\"uniform\": [0.1, 0.2]}, \"learning_rate\": {\"uniform\": [0.1, 0.2]}}",
	  "key 'learning_rate': names 'eta' a second time" },
	{ "{\"eta\": 0.1}", "key 'eta': expected one of {\"uniform\": [low, high]}" },
	{ "{\"eta\": {\"normal\": [0, 1]}}", "key 'eta': expected one of" },
	{ "{\"eta\": {\"uniform\": [0.1, 0.2], \"int\": [1, 2]}}", "key 'eta': expected one of" },
	{ "{\"eta\": {\"uniform\": [0.1]}}", "key 'eta': uniform takes [low, high], two numbers" },
	{ "{\"eta\": {\"uniform\": [0.1, 0.2, 0.3]}}", "key 'eta': uniform takes [low, high]" },
	{ "{\"eta\": {\"uniform\": [\"0.1\", 0.2]}}", "key 'eta': uniform takes [low, high]" },
	{ "{\"eta\": {\"uniform\": 0.1}}", "key 'eta': uniform takes [low, high]" },
	{ "{\"eta\": {\"uniform\": [0.3, 0.01]}}", "key 'eta': low 0.3 is above high 0.01" },
	{ "{\"eta\": {\"log_uniform\": [0, 0.3]}}", "key 'eta': log_uniform needs low > 0, not 0" },
	{ "{\"alpha\": {\"log_uniform\": [-1, 1]}}", "key 'alpha': log_uniform needs low > 0" },
	{ "{\"eta\": {\"uniform\": [-0.1, 0.3]}}", "key 'eta': [-0.1, 0.3] goes outside what "
	  "XGBoost accepts, [0, inf)" },
	{ "{\"subsample\": {\"uniform\": [0.5, 1.5]}}", "key 'subsample': [0.5, 1.5] goes outside "
	  "what XGBoost accepts, (0, 1]" },
	{ "{\"subsample\": {\"uniform\": [0, 1]}}", "(0, 1]" },
	{ "{\"colsample_bytree\": {\"choice\": [0.5, 2]}}", "key 'colsample_bytree': choice value "
	  "2 is outside what XGBoost accepts, (0, 1]" },
	{ "{\"max_depth\": {\"int\": [-1, 4]}}", "key 'max_depth': [-1, 4] goes outside what "
	  "XGBoost accepts, integers 0 to" },
	{ "{\"max_depth\": {\"uniform\": [2, 8]}}", "key 'max_depth': takes integers: use int or "
	  "choice, not uniform" },
	{ "{\"max_depth\": {\"int\": [2.5, 8]}}", "key 'max_depth': int takes two integers" },
	{ "{\"max_depth\": {\"choice\": [2, 3.5]}}", "key 'max_depth': choice value 3.5 is outside" },
	{ "{\"n_estimators\": {\"choice\": []}}", "key 'n_estimators': choice is empty" },
	{ "{\"n_estimators\": {\"choice\": 50}}", "key 'n_estimators': choice takes a list" },
	{ "{\"n_estimators\": {\"int\": [0, 10]}}", "key 'n_estimators': [0, 10] goes outside what "
	  "XGBoost accepts, integers 1 to 100000" },
	{ "{\"n_estimators\": {\"choice\": [50, \"many\"]}}", "key 'n_estimators': choice value 2, "
	  "\"many\", is not a number" },
	{ "{\"lambda\": {\"choice\": [1, null]}}", "key 'lambda': choice value 2 is not a number "
	  "or a string" },
	{ "{\"gamma\": {\"choice\": [true]}}", "key 'gamma': choice value 1 is not a number" },
};

START_TEST(bad_spaces)
{
	char err[HP_ERR_MAX] = "";
	struct hpspace *sp = parse(bad[_i].space, err, sizeof(err));

	ck_assert_msg(sp == NULL, "accepted %s", bad[_i].space);
	ck_assert_msg(strstr(err, bad[_i].want) != NULL, "%s: \"%s\" lacks \"%s\"", bad[_i].space,
	    err, bad[_i].want);
}
END_TEST

static const char good[] = "{\"max_depth\": {\"int\": [2, 8]}, \"learning_rate\": "
    "{\"log_uniform\": [0.01, 0.3]}, \"subsample\": {\"uniform\": [0.6, 1.0]}, "
    "\"n_estimators\": {\"choice\": [50, 100, 200]}, \"reg_lambda\": {\"choice\": [\"0.5\", 2]}, "
    "\"colsample_bytree\": {\"uniform\": [0.9999999, 1]}}";

/* Names as XGBoost knows them, in the file's order; every sample inside its range. */
START_TEST(samples_inside_ranges)
{
	char err[HP_ERR_MAX];
	struct hpspace *sp = parse(good, err, sizeof(err));
	struct hp_value v[HP_DIMS_MAX];
	uint64_t st = 7;
	int seen_depth[9] = { 0 }, seen_rounds[3] = { 0 };
	double eta_min = 1, eta_max = 0, sub_min = 1, sub_max = 0;

	ck_assert_msg(sp != NULL, "%s", err);
	ck_assert_uint_eq(hpspace_size(sp), 6);
	ck_assert_str_eq(hpspace_name(sp, 0), "max_depth");
	ck_assert_str_eq(hpspace_name(sp, 1), "eta");
	ck_assert_str_eq(hpspace_synonym(sp, 1), "learning_rate");
	ck_assert_str_eq(hpspace_name(sp, 3), "n_estimators");
	ck_assert_str_eq(hpspace_name(sp, 4), "lambda");
	ck_assert_ptr_null(hpspace_synonym(sp, 0));
	for (int t = 0; t < 2000; t++) {
		hpspace_sample(sp, &st, v);
		for (size_t i = 0; i < hpspace_size(sp); i++) {
			/* The text XGBoost gets is the value checked. */
			ck_assert_msg(strtod(v[i].text, NULL) == v[i].num, "%s vs %.17g", v[i].text,
			    v[i].num);
			ck_assert_msg(hpspace_contains(sp, i, v[i].num), "%s = %s outside",
			    hpspace_name(sp, i), v[i].text);
		}
		ck_assert(v[0].num >= 2 && v[0].num <= 8 && v[0].num == floor(v[0].num));
		seen_depth[(int)v[0].num]++;
		ck_assert(v[1].num >= 0.01 && v[1].num <= 0.3);
		eta_min = fmin(eta_min, v[1].num);
		eta_max = fmax(eta_max, v[1].num);
		ck_assert(v[2].num >= 0.6 && v[2].num <= 1.0);
		sub_min = fmin(sub_min, v[2].num);
		sub_max = fmax(sub_max, v[2].num);
		ck_assert(!strcmp(v[3].text, "50") || !strcmp(v[3].text, "100") ||
		    !strcmp(v[3].text, "200"));
		seen_rounds[v[3].num == 50 ? 0 : v[3].num == 100 ? 1 : 2]++;
		ck_assert(!strcmp(v[4].text, "0.5") || !strcmp(v[4].text, "2"));
		ck_assert(v[5].num > 0.9999998 && v[5].num <= 1);
	}
	/* Every integer and every choice drawn; the ranges covered end to end. */
	for (int d = 2; d <= 8; d++)
		ck_assert_msg(seen_depth[d] > 150, "max_depth %d drawn %d times", d, seen_depth[d]);
	for (int c = 0; c < 3; c++)
		ck_assert_int_gt(seen_rounds[c], 500);
	ck_assert(eta_min < 0.011 && eta_max > 0.28);
	ck_assert(sub_min < 0.61 && sub_max > 0.99);
	ck_assert(!hpspace_contains(sp, 0, 9) && !hpspace_contains(sp, 0, 2.5) &&
	    !hpspace_contains(sp, 3, 75) && !hpspace_contains(sp, 2, 0.5));
	hpspace_free(sp);
}
END_TEST

/* log_uniform is uniform in the logarithm: about half the draws below the geometric mean. */
START_TEST(log_uniform_is_log_scaled)
{
	char err[HP_ERR_MAX];
	struct hpspace *sp = parse("{\"eta\": {\"log_uniform\": [0.001, 1]}}", err, sizeof(err));
	struct hp_value v[HP_DIMS_MAX];
	uint64_t st = 1;
	int below = 0, n = 10000;

	ck_assert_ptr_nonnull(sp);
	for (int t = 0; t < n; t++) {
		hpspace_sample(sp, &st, v);
		below += v[0].num < sqrt(0.001);
	}
	ck_assert_msg(below > n * 0.45 && below < n * 0.55, "%d of %d below 0.0316", below, n);
	hpspace_free(sp);
}
END_TEST

/* The same seed gives the same trials; another seed other ones. */
START_TEST(same_seed_same_samples)
{
	char err[HP_ERR_MAX], a[4096] = "", b[4096] = "", c[4096] = "";
	struct hpspace *sp = parse(good, err, sizeof(err));
	struct hp_value v[HP_DIMS_MAX];
	char *bufs[3] = { a, b, c };
	uint64_t seeds[3] = { 42, 42, 43 };

	ck_assert_ptr_nonnull(sp);
	for (int k = 0; k < 3; k++) {
		uint64_t st = seeds[k];

		for (int t = 0; t < 20; t++) {
			hpspace_sample(sp, &st, v);
			for (size_t i = 0; i < hpspace_size(sp); i++) {
				strcat(bufs[k], v[i].text);
				strcat(bufs[k], " ");
			}
		}
	}
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	hpspace_free(sp);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hpspace");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, bad_spaces, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, samples_inside_ranges);
	tcase_add_test(tc, log_uniform_is_log_scaled);
	tcase_add_test(tc, same_seed_same_samples);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
