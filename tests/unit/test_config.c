/* test_config.c: config file parsing, validation and VERDICT_* overrides. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[64];

static void
write_conf(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/verdict-conf-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

START_TEST(parses_file)
{
	struct config c;
	char err[256];

	write_conf("# comment\n\nlisten = 127.0.0.1:9000\nthreads=8\n"
	    "database_url = \"host=/tmp dbname=x\"\ndev_mode = yes\n"
	    "socket_mode = 0600\nmax_json_body = 2048\n");
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_str_eq(c.listen, "127.0.0.1:9000");
	ck_assert_int_eq(c.threads, 8);
	ck_assert_str_eq(c.database_url, "host=/tmp dbname=x");
	ck_assert_int_eq(c.dev_mode, 1);
	ck_assert_uint_eq(c.socket_mode, 0600);
	ck_assert_uint_eq(c.max_json_body, 2048);
	ck_assert_uint_eq(c.max_form_body, 1 << 20);   /* default kept */
	unlink(path);
}
END_TEST

START_TEST(rejects_bad_lines)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "nokey\n", ":1: expected 'key = value'" },
		{ "a = 1\n", ":1: unknown key 'a'" },
		{ "\nthreads = lots\n", ":2: threads: expected an integer" },
		{ "threads = 5000\n", ":1: threads: expected an integer between 0 and 1024" },
		{ "dev_mode = maybe\n", ":1: dev_mode: expected true or false" },
		{ "socket_mode = 999\n", ":1: socket_mode: expected an octal mode" },
		{ "max_json_body = 10\n", "max_json_body: expected an integer between 1024" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char err[256];

		write_conf(cases[i].text);
		ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, cases[i].msg) != NULL, "case %zu: %s", i, err);
		unlink(path);
	}
}
END_TEST

START_TEST(env_overrides_file)
{
	struct config c;
	char err[256];

	write_conf("threads = 3\nlisten = /tmp/a.sock\n");
	setenv("VERDICT_THREADS", "7", 1);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_int_eq(c.threads, 7);
	ck_assert_str_eq(c.listen, "/tmp/a.sock");
	setenv("VERDICT_THREADS", "x", 1);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "VERDICT_THREADS"));
	unsetenv("VERDICT_THREADS");
	unlink(path);
}
END_TEST

START_TEST(missing_file_is_an_error)
{
	struct config c;
	char err[256];

	ck_assert_int_eq(config_load(&c, "/nonexistent/verdict.conf", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/verdict.conf"));
	ck_assert_int_eq(config_load(&c, NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(dump_round_trips)
{
	struct config c, d;
	struct buf b;
	char err[256];
	FILE *f;

	config_defaults(&c);
	c.threads = 5;
	buf_init(&b, 1 << 16);
	ck_assert_int_eq(config_dump(&c, &b), 0);
	snprintf(path, sizeof(path), "/tmp/verdict-conf-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(buf_str(&b), f);
	fclose(f);
	ck_assert_int_eq(config_load(&d, path, err, sizeof(err)), 0);
	ck_assert_int_eq(memcmp(&c, &d, sizeof(c)), 0);
	buf_free(&b);
	unlink(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, parses_file);
	tcase_add_test(tc, rejects_bad_lines);
	tcase_add_test(tc, env_overrides_file);
	tcase_add_test(tc, missing_file_is_an_error);
	tcase_add_test(tc, dump_round_trips);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
