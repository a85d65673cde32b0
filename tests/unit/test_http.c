/* test_http.c: request preparation (404/405/400/413/415), dispatch, response headers and JSON output. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http.h"

static int
h_echo(struct req *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_stringn(r->in[0].s, r->in[0].len));
	json_object_set_new(o, "n", json_integer(r->in[1].i));
	json_object_set_new(o, "nan", json_number_or_null(NAN));
	return resp_json(r, 200, o);
}

static const struct field echo_fields[] = {
	{ "name", FT_STRING, 1, 1, 64, 0, 0, NULL },
	{ "n", FT_INT, 0, 0, 100, 0, 0, NULL },
};

static const struct route table[] = {
	{ "GET", "/api/echo", h_echo, AUTH_PUBLIC, RK_JSON, 0, echo_fields, 2 },
	{ "POST", "/api/echo", h_echo, AUTH_PUBLIC, RK_JSON,
	    R_BODY_JSON | R_BODY_FORM, echo_fields, 2 },
	{ "GET", "/page", h_echo, AUTH_PUBLIC, RK_HTML, 0, NULL, 0 },
	{ "GET", "/api/private", h_echo, AUTH_USER, RK_JSON, 0, NULL, 0 },
};

static struct app app;
static struct arena *a;

static void
setup(void)
{
	config_defaults(&app.cfg);
	app.routes = table;
	app.nroutes = sizeof(table) / sizeof(table[0]);
	a = arena_new(1 << 22);
	ck_assert_int_ge(sodium_init(), 0);
}

static void
teardown(void)
{
	arena_free(a);
}

/* Runs one request through prepare + dispatch, like server.c does. */
static void
run(struct req *r, char *const *env, const char *body)
{
	ck_assert_int_eq(req_init(r, a, &app, env), 0);
	if (http_prepare(r) == 1)
		http_dispatch(r, body, body ? strlen(body) : 0);
}

static json_t *
body_json(struct req *r)
{
	json_t *j = json_loadb(r->resp.body.p, r->resp.body.len, 0, NULL);

	ck_assert_msg(j != NULL, "not JSON: %s", buf_str(&r->resp.body));
	return j;
}

START_TEST(get_with_query_fields)
{
	char *env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/api/echo",
	    "QUERY_STRING=name=a%2Fb&n=7&utm_source=x", NULL };
	struct req r;
	json_t *j;

	run(&r, env, NULL);
	ck_assert_int_eq(r.resp.status, 200);
	/* '/' is escaped so "</script>" can never appear in JSON output. */
	ck_assert_ptr_nonnull(strstr(buf_str(&r.resp.body), "\"a\\/b\""));
	ck_assert_ptr_nonnull(strstr(buf_str(&r.resp.body), "\"nan\":null"));
	j = body_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "n")), 7);
	json_decref(j);
	req_cleanup(&r);
}
END_TEST

START_TEST(errors_by_kind)
{
	static const struct {
		const char *env[6];
		const char *body;
		int status;
		const char *code, *msg;
	} cases[] = {
		{ { "REQUEST_METHOD=GET", "DOCUMENT_URI=/api/nope" }, NULL, 404,
		  "ENDPOINT_NOT_FOUND", "no page or endpoint at /api/nope" },
		{ { "REQUEST_METHOD=PUT", "DOCUMENT_URI=/api/echo", "CONTENT_LENGTH=0" },
		  NULL, 405, "METHOD_NOT_ALLOWED", "allowed: GET, HEAD, POST" },
		{ { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
		    "CONTENT_TYPE=application/json" }, "{}", 400, "BAD_REQUEST",
		  "missing or invalid Content-Length" },
		{ { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
		    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=12x" }, "{}", 400,
		  "BAD_REQUEST", "missing or invalid Content-Length" },
		{ { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
		    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=2097152" }, NULL,
		  413, "PAYLOAD_TOO_LARGE", "exceeds the limit of 1048576 bytes" },
		{ { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
		    "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=2" }, "hi", 415,
		  "UNSUPPORTED_MEDIA_TYPE", "expected application/json or application/x-www-form-urlencoded" },
		{ { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
		    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=9" }, "{\"name\":",
		  400, "BAD_REQUEST", "malformed JSON body" },
		{ { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
		    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=21" },
		  "{\"name\":\"x\",\"n\":1000}", 400, "INVALID_PARAMETER_VALUE",
		  "field 'n': must be between 0 and 100" },
		{ { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
		    "CONTENT_TYPE=application/x-www-form-urlencoded", "CONTENT_LENGTH=5" },
		  "n=%zz", 400, "BAD_REQUEST", "malformed form body" },
		{ { "REQUEST_METHOD=GET", "DOCUMENT_URI=/api/private" }, NULL, 401,
		  "UNAUTHENTICATED", "authentication required" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct req r;
		json_t *j;

		run(&r, (char *const *)cases[i].env, cases[i].body);
		ck_assert_msg(r.resp.status == cases[i].status, "case %zu: %d %s", i,
		    r.resp.status, buf_str(&r.resp.body));
		j = body_json(&r);
		ck_assert_str_eq(json_string_value(json_object_get(j, "error_code")),
		    cases[i].code);
		ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")),
		    cases[i].msg) != NULL, "case %zu: %s", i, buf_str(&r.resp.body));
		json_decref(j);
		req_cleanup(&r);
		arena_reset(a);
	}
}
END_TEST

START_TEST(post_json_ok)
{
	char *env[] = { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/echo",
	    "CONTENT_TYPE=application/json; charset=utf-8", "CONTENT_LENGTH=22", NULL };
	struct req r;
	json_t *j;

	run(&r, env, "{\"name\":\"ok\",\"n\":\"12\"}");
	ck_assert_int_eq(r.resp.status, 200);
	j = body_json(&r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "ok");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "n")), 12);
	json_decref(j);
	req_cleanup(&r);
}
END_TEST

START_TEST(serialize_security_headers)
{
	char *env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/api/echo",
	    "QUERY_STRING=name=x", "HTTP_X_REQUEST_ID=abc-123", NULL };
	struct req r;
	struct buf head;

	run(&r, env, NULL);
	buf_init(&head, 1 << 16);
	ck_assert_int_eq(resp_serialize(&r, &head), 0);
	ck_assert_ptr_nonnull(strstr(head.p, "Status: 200 OK\r\n"));
	ck_assert_ptr_nonnull(strstr(head.p, "Content-Security-Policy: default-src 'self'"));
	ck_assert_ptr_nonnull(strstr(head.p, "X-Content-Type-Options: nosniff\r\n"));
	ck_assert_ptr_nonnull(strstr(head.p, "X-Frame-Options: DENY\r\n"));
	ck_assert_ptr_nonnull(strstr(head.p, "Referrer-Policy: same-origin\r\n"));
	ck_assert_ptr_nonnull(strstr(head.p, "X-Request-Id: abc-123\r\n"));
	ck_assert_ptr_nonnull(strstr(head.p, "Content-Type: application/json\r\n"));
	ck_assert(strlen(head.p) > 4 && !strcmp(head.p + strlen(head.p) - 4, "\r\n\r\n"));
	buf_free(&head);
	req_cleanup(&r);
}
END_TEST

START_TEST(header_injection_refused)
{
	struct resp s;

	memset(&s, 0, sizeof(s));
	buf_init(&s.headers, 4096);
	ck_assert_int_eq(resp_header(&s, "Location", "/ok"), 0);
	ck_assert_int_eq(resp_header(&s, "Location", "/x\r\nSet-Cookie: a=b"), -1);
	ck_assert_int_eq(resp_header(&s, "Location", "/x\nfoo"), -1);
	ck_assert_int_eq(resp_header(&s, "Bad Name", "v"), -1);
	ck_assert_int_eq(resp_header(&s, "X:Y", "v"), -1);
	ck_assert_int_eq(resp_cookie(&s, "sid", "abc;evil", "Path=/"), -1);
	ck_assert_int_eq(resp_cookie(&s, "sid", "abc", "Path=/; HttpOnly"), 0);
	ck_assert_str_eq(buf_str(&s.headers),
	    "Location: /ok\r\nSet-Cookie: sid=abc; Path=/; HttpOnly\r\n");
	buf_free(&s.headers);
}
END_TEST

START_TEST(redirects_stay_on_site)
{
	static const char *const evil[] = { "//evil.example", "/\\evil.example",
	    "https://evil.example", "evil" };
	char *env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/page", NULL };

	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		struct req r;

		ck_assert_int_eq(req_init(&r, a, &app, env), 0);
		ck_assert_int_eq(resp_redirect(&r, evil[i]), 0);
		ck_assert_int_eq(r.resp.status, 303);
		ck_assert_str_eq(buf_str(&r.resp.headers), "Location: /\r\n");
		req_cleanup(&r);
	}
}
END_TEST

START_TEST(request_ids)
{
	char *env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/page",
	    "HTTP_X_REQUEST_ID=bad id\"<script>", NULL };
	struct req r1, r2;

	ck_assert_int_eq(req_init(&r1, a, &app, env), 0);
	ck_assert_int_eq(req_init(&r2, a, &app, env), 0);
	ck_assert_uint_eq(strlen(r1.request_id), 16);   /* hostile id replaced */
	ck_assert_str_ne(r1.request_id, r2.request_id);
	req_cleanup(&r1);
	req_cleanup(&r2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, get_with_query_fields);
	tcase_add_test(tc, errors_by_kind);
	tcase_add_test(tc, post_json_ok);
	tcase_add_test(tc, serialize_security_headers);
	tcase_add_test(tc, header_injection_refused);
	tcase_add_test(tc, redirects_stay_on_site);
	tcase_add_test(tc, request_ids);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
