/* test_foundation.c: the request path end to end — nginx → verdictd → Postgres, started by the harness. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
assert_security_headers(const struct http_resp *r)
{
	char v[512];

	ck_assert_ptr_nonnull(http_header(r, "Content-Security-Policy", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "default-src 'self'"));
	ck_assert_str_eq(http_header(r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
	ck_assert_str_eq(http_header(r, "X-Frame-Options", v, sizeof(v)), "DENY");
	ck_assert_str_eq(http_header(r, "Referrer-Policy", v, sizeof(v)), "same-origin");
	ck_assert_ptr_nonnull(http_header(r, "X-Request-Id", v, sizeof(v)));
}

START_TEST(healthz_ok)
{
	struct http_resp r;
	char v[256];
	json_t *j;

	ck_assert_int_eq(http_get("/healthz", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(http_header(&r, "Content-Type", v, sizeof(v)), "application/json");
	j = http_json(&r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "ok");
	assert_security_headers(&r);
	json_decref(j);
	http_resp_free(&r);
}
END_TEST

START_TEST(readyz_ok)
{
	struct http_resp r;
	json_t *j;

	ck_assert_int_eq(http_get("/readyz", &r), 0);
	ck_assert_msg(r.status == 200, "readyz %ld: %s", r.status, r.body);
	j = http_json(&r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "ready");
	ck_assert_int_ge(json_integer_value(json_object_get(j, "schema_version")), 1);
	json_decref(j);
	http_resp_free(&r);
}
END_TEST

START_TEST(not_found_html_and_json)
{
	struct http_resp r;
	char v[256];
	json_t *j;

	ck_assert_int_eq(http_get("/no-such-page", &r), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_ptr_nonnull(strstr(http_header(&r, "Content-Type", v, sizeof(v)), "text/html"));
	ck_assert_ptr_nonnull(strstr(r.body, "<html"));
	ck_assert_ptr_nonnull(strstr(r.body, "no page or endpoint at /no-such-page"));
	assert_security_headers(&r);
	http_resp_free(&r);

	ck_assert_int_eq(http_get("/api/no-such", &r), 0);
	ck_assert_int_eq(r.status, 404);
	j = http_json(&r);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "error_code")), "ENDPOINT_NOT_FOUND");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "/api/no-such"));
	json_decref(j);
	http_resp_free(&r);
}
END_TEST

START_TEST(error_page_escapes_path)
{
	struct http_resp r;

	ck_assert_int_eq(http_get("/x%3Cscript%3Ealert(1)%3C/script%3E", &r), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_ptr_null(strstr(r.body, "<script>"));
	ck_assert_ptr_nonnull(strstr(r.body, "&lt;script&gt;"));
	http_resp_free(&r);
}
END_TEST

START_TEST(wrong_method_405)
{
	struct http_resp r;
	char v[256];

	ck_assert_int_eq(http_request("POST", "/healthz", "application/json", "{}", 2,
	    NULL, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(http_header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
	http_resp_free(&r);
}
END_TEST

START_TEST(head_has_no_body)
{
	struct http_resp r;

	ck_assert_int_eq(http_request("HEAD", "/healthz", NULL, NULL, 0, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	http_resp_free(&r);
}
END_TEST

START_TEST(malformed_query_400_html)
{
	struct http_resp r;

	ck_assert_int_eq(http_get("/?q=%zz", &r), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "malformed query string"));
	http_resp_free(&r);
}
END_TEST

START_TEST(static_served_by_nginx)
{
	struct http_resp r;
	char v[256];

	ck_assert_int_eq(http_get("/static/style.css", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(http_header(&r, "Content-Type", v, sizeof(v)), "text/css"));
	/* verdictd stamps X-Request-Id on everything it answers; nginx alone does not. */
	ck_assert_ptr_null(http_header(&r, "X-Request-Id", v, sizeof(v)));
	http_resp_free(&r);
}
END_TEST

START_TEST(request_id_logged)
{
	const char *hdrs[] = { "X-Request-Id: itest-req-42", NULL };
	struct http_resp r;
	char path[1024], line[4096], v[64];
	FILE *f;
	int found = 0;

	ck_assert_int_eq(http_request("GET", "/healthz", NULL, NULL, 0, hdrs, &r), 0);
	ck_assert_str_eq(http_header(&r, "X-Request-Id", v, sizeof(v)), "itest-req-42");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "%s/log/verdictd.log", harness_dir());
	for (int tries = 0; tries < 20 && !found; tries++) {
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (strstr(line, "\"request_id\":\"itest-req-42\"") &&
				    strstr(line, "\"route\":\"\\/healthz\"") &&
				    strstr(line, "\"status\":200") &&
				    strstr(line, "\"duration_us\":"))
					found = 1;
			fclose(f);
		}
		if (!found)
			sleep_ms(50);
	}
	ck_assert_msg(found, "no access log line for the request in %s", path);
}
END_TEST

/* Postgres goes away and comes back: the same verdictd answers 503, then 200. */
START_TEST(postgres_outage)
{
	struct http_resp r;
	char v[64];
	long pid = harness_verdictd_pid();
	int ok = 0;
	json_t *j;

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(harness_pg_stop(), 0);
	ck_assert_int_eq(http_get("/readyz", &r), 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_nonnull(http_header(&r, "Retry-After", v, sizeof(v)));
	j = http_json(&r);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(json_object_get(j, "reason"));
	json_decref(j);
	http_resp_free(&r);
	/* healthz never touches the DB. */
	ck_assert_int_eq(http_get("/healthz", &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);

	ck_assert_int_eq(harness_pg_start(), 0);
	for (int i = 0; i < 40 && !ok; i++) {   /* ≤ 2 s */
		ck_assert_int_eq(http_get("/readyz", &r), 0);
		ok = r.status == 200;
		http_resp_free(&r);
		if (!ok)
			sleep_ms(50);
	}
	ck_assert_msg(ok, "readyz not back within 2 s of Postgres restarting");
	ck_assert_int_eq(harness_verdictd_pid(), pid);
}
END_TEST

/* kill -9: the supervisor brings verdictd back within 2 s. */
START_TEST(killed_daemon_restarts)
{
	struct http_resp r;
	long pid = harness_verdictd_pid(), npid = -1;
	int ok = 0;

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	for (int i = 0; i < 40 && !ok; i++) {
		sleep_ms(50);
		npid = harness_verdictd_pid();
		if (npid <= 0 || npid == pid)
			continue;
		if (http_get("/healthz", &r) == 0) {
			ok = r.status == 200;
			http_resp_free(&r);
		}
	}
	ck_assert_msg(ok, "verdictd not back within 2 s (pid %ld → %ld)", pid, npid);
}
END_TEST

/* SIGTERM: verdictd logs a clean stop and the supervisor starts a new one. */
START_TEST(sigterm_is_graceful)
{
	long pid = harness_verdictd_pid();
	char path[1024], line[4096];
	int stopped = 0, back = 0;
	struct http_resp r;
	FILE *f;

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill((pid_t)pid, SIGTERM), 0);
	snprintf(path, sizeof(path), "%s/log/verdictd.log", harness_dir());
	/* Generous: a loaded machine with a sanitizer build is slow to stop and start. */
	for (int i = 0; i < 400 && !(stopped && back); i++) {
		sleep_ms(50);
		if ((f = fopen(path, "r")) != NULL) {
			stopped = 0;
			while (fgets(line, sizeof(line), f) != NULL)
				if (strstr(line, "\"msg\":\"stopped\""))
					stopped = 1;
			fclose(f);
		}
		if (harness_verdictd_pid() > 0 && harness_verdictd_pid() != pid &&
		    http_get("/healthz", &r) == 0) {
			back = r.status == 200;
			http_resp_free(&r);
		}
	}
	ck_assert_msg(stopped, "no clean 'stopped' line after SIGTERM");
	ck_assert_msg(back, "no verdictd after SIGTERM");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("foundation");
	TCase *tc = tcase_create("stack");
	SRunner *sr;
	int failed;

	if (harness_start() == -1)
		return 99;   /* automake: hard error */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, healthz_ok);
	tcase_add_test(tc, readyz_ok);
	tcase_add_test(tc, not_found_html_and_json);
	tcase_add_test(tc, error_page_escapes_path);
	tcase_add_test(tc, wrong_method_405);
	tcase_add_test(tc, head_has_no_body);
	tcase_add_test(tc, malformed_query_400_html);
	tcase_add_test(tc, static_served_by_nginx);
	tcase_add_test(tc, request_id_logged);
	tcase_add_test(tc, postgres_outage);
	tcase_add_test(tc, killed_daemon_restarts);
	tcase_add_test(tc, sigterm_is_graceful);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
