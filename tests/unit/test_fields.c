/* test_fields.c: declared-field validation over params and JSON bodies. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

static const char *const colors[] = { "red", "green", NULL };
static const struct field spec[] = {
	{ "username", FT_STRING, 1, 1, 16, 0, 0, NULL },
	{ "age", FT_INT, 0, 0, 150, 0, 0, NULL },
	{ "score", FT_NUMBER, 0, 0, 0, 0, 1, NULL },
	{ "admin", FT_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "color", FT_ENUM, 0, 0, 0, 0, 0, colors },
};
#define N (sizeof(spec) / sizeof(spec[0]))

static struct arena *a;

static struct params
mk(const char *q)
{
	struct params p = { 0 };

	ck_assert_int_eq(form_parse_urlencoded(a, q, strlen(q), &p, 100), PARSE_OK);
	return p;
}

static void
setup(void)
{
	a = arena_new(1 << 20);
}

static void
teardown(void)
{
	arena_free(a);
}

START_TEST(valid_params)
{
	struct value v[N];
	char err[FIELD_ERR_MAX];
	struct params p = mk("username=ada&age=36&score=0.5&admin=true&color=green");

	ck_assert_int_eq(fields_validate(a, spec, N, &p, NULL, 1, v, err, sizeof(err)), 0);
	ck_assert_str_eq(v[0].s, "ada");
	ck_assert_int_eq(v[1].i, 36);
	ck_assert(v[2].d == 0.5);
	ck_assert_int_eq(v[3].b, 1);
	ck_assert_str_eq(v[4].s, "green");
}
END_TEST

START_TEST(hostile_params)
{
	static const struct { const char *q, *msg; int strict; } cases[] = {
		{ "age=3", "field 'username': required", 1 },
		{ "username=", "field 'username': must not be empty", 1 },
		{ "username=abcdefghijklmnopq", "field 'username': must be at most 16 bytes", 1 },
		{ "username=a%00b", "field 'username': must be valid UTF-8 without NUL bytes", 1 },
		{ "username=%ff%fe", "field 'username': must be valid UTF-8", 1 },
		{ "username=a&age=abc", "field 'age': must be an integer", 1 },
		{ "username=a&age=151", "field 'age': must be between 0 and 150", 1 },
		{ "username=a&age=99999999999999999999", "field 'age': must be an integer", 1 },
		{ "username=a&score=nan", "field 'score': must be a finite number", 1 },
		{ "username=a&score=2", "field 'score': must be between 0 and 1", 1 },
		{ "username=a&admin=yes", "field 'admin': must be true or false", 1 },
		{ "username=a&color=blue", "field 'color': must be one of 'red', 'green'", 1 },
		{ "username=a&username=b", "field 'username': given more than once", 1 },
		{ "username=a&evil=1", "unknown field 'evil'", 1 },
		{ "username=x%27%3B%20DROP--&age=1", NULL, 1 },
		{ "username=a&evil=1", NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct value v[N];
		char err[FIELD_ERR_MAX] = "";
		struct params p = mk(cases[i].q);
		int rc = fields_validate(a, spec, N, &p, NULL, cases[i].strict, v,
		    err, sizeof(err));

		if (cases[i].msg == NULL) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, err);
			continue;
		}
		ck_assert_msg(rc == -1, "case %zu accepted", i);
		ck_assert_msg(strstr(err, cases[i].msg) != NULL, "case %zu: %s", i, err);
	}
}
END_TEST

START_TEST(json_values)
{
	struct value v[N];
	char err[FIELD_ERR_MAX];
	json_t *j = json_loads("{\"username\":\"ada\",\"age\":\"42\",\"score\":1,"
	    "\"admin\":false}", 0, NULL);

	ck_assert_int_eq(fields_validate(a, spec, N, NULL, j, 1, v, err, sizeof(err)), 0);
	ck_assert_int_eq(v[1].i, 42);        /* int64 accepted as a string too */
	ck_assert(v[2].d == 1.0);
	ck_assert_int_eq(v[3].present, 1);
	ck_assert_int_eq(v[3].b, 0);
	ck_assert_int_eq(v[4].present, 0);
	json_decref(j);
}
END_TEST

START_TEST(json_hostile)
{
	static const struct { const char *json, *msg; } cases[] = {
		{ "[1,2]", "request body must be a JSON object" },
		{ "{\"username\":5}", "field 'username': must be a string" },
		{ "{\"username\":\"a\",\"age\":1.5}", "field 'age': must be an integer" },
		{ "{\"username\":\"a\",\"admin\":\"maybe\"}", "field 'admin': must be true or false" },
		{ "{\"username\":\"a\",\"x\":1}", "unknown field 'x'" },
		{ "{\"username\":null}", "field 'username': required" },
		{ "{\"username\":\"a\\u0000b\"}", "must be valid UTF-8 without NUL" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct value v[N];
		char err[FIELD_ERR_MAX] = "";
		json_t *j = json_loads(cases[i].json, JSON_ALLOW_NUL, NULL);

		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(fields_validate(a, spec, N, NULL, j, 1, v, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, cases[i].msg) != NULL, "case %zu: %s", i, err);
		json_decref(j);
	}
}
END_TEST

START_TEST(file_fields)
{
	static const struct field fspec[] = {
		{ "model", FT_FILE, 1, 0, 10, 0, 0, NULL },
	};
	struct params p = { 0 };
	struct param item = { "model", "0123456789AB", 12, "m.json", "application/json" };
	struct value v[1];
	char err[FIELD_ERR_MAX];

	ck_assert_int_eq(params_add(a, &p, &item), 0);
	ck_assert_int_eq(fields_validate(a, fspec, 1, &p, NULL, 1, v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "file larger than 10 bytes"));
	p.v[0].value_len = 4;
	ck_assert_int_eq(fields_validate(a, fspec, 1, &p, NULL, 1, v, err, sizeof(err)), 0);
	ck_assert_str_eq(v[0].filename, "m.json");
	ck_assert_uint_eq(v[0].len, 4);
	p.v[0].filename = NULL;   /* a plain text field where a file belongs */
	ck_assert_int_eq(fields_validate(a, fspec, 1, &p, NULL, 1, v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "must be a file upload"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fields");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_params);
	tcase_add_test(tc, hostile_params);
	tcase_add_test(tc, json_values);
	tcase_add_test(tc, json_hostile);
	tcase_add_test(tc, file_fields);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
