/* test_router.c: pattern matching, {params}, 404 vs 405 with Allow. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

static int h(struct req *r) { (void)r; return 0; }

static const struct route table[] = {
	{ "GET", "/", h, AUTH_PUBLIC, RK_HTML, 0, NULL, 0 },
	{ "GET", "/api/models", h, AUTH_PUBLIC, RK_JSON, 0, NULL, 0 },
	{ "POST", "/api/models", h, AUTH_USER, RK_JSON, 0, NULL, 0 },
	{ "GET", "/api/models/{name}", h, AUTH_PUBLIC, RK_JSON, 0, NULL, 0 },
	{ "DELETE", "/api/models/{name}", h, AUTH_ADMIN, RK_JSON, 0, NULL, 0 },
	{ "GET", "/api/models/{name}/versions/{version}", h, AUTH_PUBLIC, RK_JSON, 0, NULL, 0 },
	{ "GET", "/api/models/{name}/latest", h, AUTH_PUBLIC, RK_JSON, 0, NULL, 0 },
	{ "PUT", "/files/{path...}", h, AUTH_USER, RK_JSON, 0, NULL, 0 },
};
#define N (sizeof(table) / sizeof(table[0]))

static struct arena *a;
static void setup(void) { a = arena_new(1 << 20); }
static void teardown(void) { arena_free(a); }

START_TEST(literal_and_params)
{
	const struct route *rt = NULL;
	struct params pp = { 0 };
	char allow[64];

	ck_assert_int_eq(router_match(table, N, a, "GET", "/", &rt, &pp, allow,
	    sizeof(allow)), MATCH_OK);
	ck_assert_ptr_eq(rt, &table[0]);
	ck_assert_int_eq(router_match(table, N, a, "GET", "/api/models/iris/versions/3",
	    &rt, &pp, allow, sizeof(allow)), MATCH_OK);
	ck_assert_ptr_eq(rt, &table[5]);
	ck_assert_uint_eq(pp.n, 2);
	ck_assert_str_eq(params_get(&pp, "name")->value, "iris");
	ck_assert_str_eq(params_get(&pp, "version")->value, "3");
}
END_TEST

START_TEST(partial_match_leaves_no_params)
{
	const struct route *rt = NULL;
	struct params pp = { 0 };
	char allow[64];

	/* /api/models/{name}/versions/{version} fails at "latest" after binding name. */
	ck_assert_int_eq(router_match(table, N, a, "GET", "/api/models/iris/latest",
	    &rt, &pp, allow, sizeof(allow)), MATCH_OK);
	ck_assert_ptr_eq(rt, &table[6]);
	ck_assert_uint_eq(pp.n, 1);
	ck_assert_str_eq(pp.v[0].value, "iris");
}
END_TEST

START_TEST(rest_of_path)
{
	const struct route *rt = NULL;
	struct params pp = { 0 };
	char allow[64];

	ck_assert_int_eq(router_match(table, N, a, "PUT", "/files/0/abc/artifacts/model/MLmodel",
	    &rt, &pp, allow, sizeof(allow)), MATCH_OK);
	ck_assert_ptr_eq(rt, &table[7]);
	ck_assert_str_eq(params_get(&pp, "path")->value, "0/abc/artifacts/model/MLmodel");
	ck_assert_int_eq(router_match(table, N, a, "PUT", "/files/x", &rt, &pp, allow,
	    sizeof(allow)), MATCH_OK);
	/* the rest must not be empty */
	ck_assert_int_eq(router_match(table, N, a, "PUT", "/files/", &rt, &pp, allow,
	    sizeof(allow)), MATCH_NONE);
	ck_assert_int_eq(router_match(table, N, a, "PUT", "/files", &rt, &pp, allow,
	    sizeof(allow)), MATCH_NONE);
}
END_TEST

START_TEST(not_found)
{
	static const char *const paths[] = {
		"/nope", "/api/models/", "/api/models//versions/1", "/api/models/a/b",
		"/api", "//", "/api/modelsx", "/api/models/a/versions/1/x",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct route *rt = NULL;
		struct params pp = { 0 };
		char allow[64];

		ck_assert_msg(router_match(table, N, a, "GET", paths[i], &rt, &pp,
		    allow, sizeof(allow)) == MATCH_NONE, "%s", paths[i]);
	}
}
END_TEST

START_TEST(wrong_method_lists_allow)
{
	const struct route *rt = NULL;
	struct params pp = { 0 };
	char allow[64];

	ck_assert_int_eq(router_match(table, N, a, "PUT", "/api/models", &rt, &pp,
	    allow, sizeof(allow)), MATCH_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD, POST");
	ck_assert_int_eq(router_match(table, N, a, "POST", "/api/models/x", &rt, &pp,
	    allow, sizeof(allow)), MATCH_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD, DELETE");
	ck_assert_int_eq(router_match(table, N, a, "HEAD", "/api/models", &rt, &pp,
	    allow, sizeof(allow)), MATCH_OK);
	ck_assert_ptr_eq(rt, &table[1]);
}
END_TEST

START_TEST(real_table_is_consistent)
{
	/* Every pattern in routes.c is well formed and reachable by itself. */
	for (size_t i = 0; i < nroutes; i++) {
		const struct route *rt = NULL;
		struct params pp = { 0 };
		char allow[128], path[256];
		size_t j = 0;
		const char *p = routes[i].pattern;

		ck_assert_int_eq(p[0], '/');
		while (*p != '\0' && j < sizeof(path) - 2) {
			if (*p == '{') {
				path[j++] = 'x';
				p = strchr(p, '}');
				ck_assert_ptr_nonnull(p);
				p++;
			} else
				path[j++] = *p++;
		}
		path[j] = '\0';
		ck_assert_int_eq(router_match(routes, nroutes, a, routes[i].method, path,
		    &rt, &pp, allow, sizeof(allow)), MATCH_OK);
		ck_assert_ptr_nonnull(rt->handler);
		ck_assert_msg(rt == &routes[i] || strchr(routes[i].pattern, '{') != NULL,
		    "route %s %s is shadowed", routes[i].method, routes[i].pattern);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, literal_and_params);
	tcase_add_test(tc, partial_match_leaves_no_params);
	tcase_add_test(tc, rest_of_path);
	tcase_add_test(tc, not_found);
	tcase_add_test(tc, wrong_method_lists_allow);
	tcase_add_test(tc, real_table_is_consistent);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
