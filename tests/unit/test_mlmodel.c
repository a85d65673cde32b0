/* test_mlmodel.c: MLmodel parsing and the spec a signature gives, and the artifact path rules, as tables of hostile cases. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "mlmodel.h"
#include "spec.h"

START_TEST(artifact_paths)
{
	static const struct { const char *path; const char *err; } cases[] = {
		{ "0/abc/artifacts/model/MLmodel", NULL },
		{ "a", NULL },
		{ "a/b.c/..d/d..", NULL },           /* dots inside names are names */
		{ "", "empty" },
		{ "/etc/passwd", "absolute" },
		{ "a/../b", "'..'" },
		{ "..", "'..'" },
		{ "a/./b", "'.'" },
		{ "a//b", "empty segments" },
		{ "a/", "empty segments" },
		{ "a\\b", "backslashes" },
		{ "..\\..\\x", "backslashes" },
		{ "a\nb", "control" },
		{ "a\x7f", "control" },
		{ "\xff\xfe", "UTF-8" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = artifact_path_check(cases[i].path, 0);

		if (cases[i].err == NULL)
			ck_assert_msg(why == NULL, "%s: %s", cases[i].path, why);
		else
			ck_assert_msg(why != NULL && strstr(why, cases[i].err) != NULL,
			    "%s: %s, want '%s'", cases[i].path, why ? why : "ok", cases[i].err);
	}
	ck_assert_ptr_null(artifact_path_check("", 1));
	ck_assert_str_eq(artifact_uri_path("mlflow-artifacts:/1/abc/artifacts"), "1/abc/artifacts");
	ck_assert_str_eq(artifact_uri_path("mlflow-artifacts:///1/x"), "1/x");
	ck_assert_ptr_null(artifact_uri_path("s3://bucket/1/x"));
	ck_assert_ptr_null(artifact_uri_path("mlflow-artifacts:/1/../x"));
}
END_TEST

START_TEST(hostile_yaml)
{
	static const struct { const char *text; const char *err; } cases[] = {
		{ "flavors: [unclosed\n", "not valid YAML" },
		{ "- a\n- b\n", "mapping" },
		{ "just a scalar\n", "mapping" },
		{ "", "empty" },
		{ "? [a, b]\n: c\n", "keys that are not strings" },
		/* aliases that would expand to 10^9 nodes */
		{ "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
		  "too large" },
	};
	char err[256], deep[400];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = mlmodel_parse(cases[i].text, strlen(cases[i].text), err, sizeof(err));

		ck_assert_msg(j == NULL, "case %zu parsed", i);
		ck_assert_msg(strstr(err, cases[i].err) != NULL, "case %zu: %s", i, err);
	}
	memset(deep, '[', 100);
	deep[100] = '\0';
	ck_assert_ptr_null(mlmodel_parse(deep, 100, err, sizeof(err)));
	{
		char *big = malloc(MLMODEL_MAX + 2);

		memset(big, 'a', MLMODEL_MAX + 1);
		big[MLMODEL_MAX + 1] = '\0';
		ck_assert_ptr_null(mlmodel_parse(big, MLMODEL_MAX + 1, err, sizeof(err)));
		ck_assert_ptr_nonnull(strstr(err, "larger"));
		free(big);
	}
}
END_TEST

static json_t *
spec_of(const char *inputs, const char *objective, int num_class, int *nosig, char *err,
    size_t errlen)
{
	char text[2048];
	json_t *m, *s;

	snprintf(text, sizeof(text), "flavors:\n  xgboost:\n    data: model.json\n"
	    "signature:\n  inputs: '%s'\n", inputs);
	ck_assert_ptr_nonnull(m = mlmodel_parse(text, strlen(text), err, errlen));
	ck_assert_str_eq(mlmodel_xgboost_data(m), "model.json");
	s = mlmodel_spec(m, objective, num_class, nosig, err, errlen);
	json_decref(m);
	return s;
}

START_TEST(signature_to_spec)
{
	static const struct { const char *inputs; const char *err; } bad[] = {
		{ "[{\"type\": \"string\", \"name\": \"city\"}]", "'city' is a string" },
		{ "[{\"type\": \"datetime\", \"name\": \"at\"}]", "type 'datetime'" },
		{ "[{\"type\": \"tensor\", \"tensor-spec\": {}}]", "no name or type" },
		{ "[]", "list of columns" },
		{ "not json", "list of columns" },
	};
	char err[SPEC_ERR_MAX];
	int nosig;
	json_t *s;
	struct spec *sp;

	s = spec_of("[{\"type\": \"double\", \"name\": \"x\"}, {\"type\": \"long\", \"name\": \"n\", "
	    "\"required\": false}, {\"type\": \"boolean\", \"name\": \"b\"}]", "multi:softprob", 3,
	    &nosig, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_ptr_nonnull(sp = spec_parse(s, err, sizeof(err)));
	ck_assert_int_eq(spec_task(sp), SPEC_MULTICLASS);
	ck_assert_uint_eq(spec_nclasses(sp), 3);
	ck_assert_uint_eq(spec_width(sp), 3);
	ck_assert_str_eq(spec_input_type(sp, 1), "integer");
	ck_assert_int_eq(spec_input_required(sp, 0), 1);
	ck_assert_int_eq(spec_input_required(sp, 1), 0);
	spec_free(sp);
	json_decref(s);
	s = spec_of("[{\"type\": \"float\", \"name\": \"x\"}]", "binary:logistic", 0, &nosig, err,
	    sizeof(err));
	ck_assert_str_eq(json_string_value(json_object_get(s, "task")), "binary");
	json_decref(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = spec_of(bad[i].inputs, "reg:squarederror", 0, &nosig, err, sizeof(err));
		ck_assert_msg(s == NULL, "case %zu gave a spec", i);
		ck_assert_int_eq(nosig, 0);
		ck_assert_msg(strstr(err, bad[i].err) != NULL, "case %zu: %s", i, err);
	}
	{
		json_t *m = mlmodel_parse("flavors: {xgboost: {data: m.json}}\n", 35, err,
		    sizeof(err));

		ck_assert_ptr_null(mlmodel_spec(m, "reg:squarederror", 0, &nosig, err, sizeof(err)));
		ck_assert_int_eq(nosig, 1);
		json_decref(m);
		m = mlmodel_parse("flavors: {sklearn: {pickled_model: m.pkl}}\n", 44, err,
		    sizeof(err));
		ck_assert_ptr_null(mlmodel_xgboost_data(m));
		json_decref(m);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mlmodel");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, artifact_paths);
	tcase_add_test(tc, hostile_yaml);
	tcase_add_test(tc, signature_to_spec);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
