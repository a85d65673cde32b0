/* test_util.c: arena, capped buffer, UTF-8 validation and raw JSON slices. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

START_TEST(arena_caps_and_resets)
{
	struct arena *a = arena_new(64 * 1024);
	char *p;

	ck_assert_ptr_nonnull(a);
	p = arena_alloc(a, 1000);
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(p[i], 0);
	/* A second chunk fits; a third of 32 KiB breaks the 64 KiB cap. */
	ck_assert_ptr_nonnull(arena_alloc(a, 20000));
	ck_assert_ptr_nonnull(arena_alloc(a, 20000));
	ck_assert_ptr_null(arena_alloc(a, 40000));
	arena_reset(a);
	ck_assert_uint_eq(arena_used(a), 16384);
	ck_assert_str_eq(arena_printf(a, "%s-%d", "x", 42), "x-42");
	ck_assert_str_eq(arena_strndup(a, "abcdef", 3), "abc");
	ck_assert_ptr_nonnull(arena_alloc(a, 40000));
	/* The kept chunk plus 40000 leave no room for another 16 KiB chunk. */
	ck_assert_ptr_null(arena_alloc(a, 20000));
	arena_free(a);
}
END_TEST

START_TEST(arena_alignment)
{
	struct arena *a = arena_new(1 << 20);

	for (int i = 1; i < 50; i++) {
		void *p = arena_alloc(a, (size_t)i);

		ck_assert_uint_eq((uintptr_t)p % _Alignof(max_align_t), 0);
	}
	arena_free(a);
}
END_TEST

START_TEST(buf_cap_is_hard)
{
	struct buf b;

	buf_init(&b, 10);
	ck_assert_int_eq(buf_adds(&b, "12345"), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 6789), 0);
	ck_assert_str_eq(buf_str(&b), "123456789");
	ck_assert_int_eq(buf_adds(&b, "ab"), -1);       /* would make 11 */
	ck_assert_str_eq(buf_str(&b), "123456789");     /* unchanged */
	ck_assert_int_eq(buf_addc(&b, 'x'), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(buf_addc(&b, 'y'), -1);
	buf_reset(&b);
	ck_assert_str_eq(buf_str(&b), "");
	buf_free(&b);
}
END_TEST

START_TEST(buf_printf_large)
{
	struct buf b;
	char big[3000];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_printf(&b, "<%s>", big), 0);
	ck_assert_uint_eq(b.len, 3001);
	ck_assert_int_eq(b.p[0], '<');
	ck_assert_int_eq(b.p[3000], '>');
	buf_free(&b);
}
END_TEST

START_TEST(utf8_cases)
{
	ck_assert_int_eq(utf8_valid("plain", 5), 1);
	ck_assert_int_eq(utf8_valid("caf\xc3\xa9", 5), 1);
	ck_assert_int_eq(utf8_valid("\xf0\x9f\x98\x80", 4), 1);
	ck_assert_int_eq(utf8_valid("a\0b", 3), 0);             /* NUL */
	ck_assert_int_eq(utf8_valid("\xc3", 1), 0);             /* truncated */
	ck_assert_int_eq(utf8_valid("\xc0\xaf", 2), 0);         /* overlong '/' */
	ck_assert_int_eq(utf8_valid("\xed\xa0\x80", 3), 0);     /* surrogate */
	ck_assert_int_eq(utf8_valid("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	ck_assert_int_eq(utf8_valid("\xff", 1), 0);
	ck_assert_int_eq(utf8_valid("", 0), 1);
}
END_TEST

/* The slice of key in doc, as a string ("" when not found). */
static const char *
member(const char *doc, const char *key)
{
	static char out[256];
	struct json_slice v;

	if (json_raw_member(doc, strlen(doc), key, &v) == -1)
		return "";
	snprintf(out, sizeof(out), "%.*s", (int)v.len, v.p);
	return out;
}

START_TEST(json_raw_members)
{
	ck_assert_str_eq(member("{\"inputs\":{\"a\":1}}", "inputs"), "{\"a\":1}");
	ck_assert_str_eq(member(" {\n \"x\" : \"}\\\"{\" , \"inputs\"\t:\r[1, {\"b\":\"]\"}] }", "inputs"),
	    "[1, {\"b\":\"]\"}]");
	ck_assert_str_eq(member("{\"a\":-1.5e-3,\"b\":true}", "a"), "-1.5e-3");
	ck_assert_str_eq(member("{\"a\":-1.5e-3,\"b\":true}", "b"), "true");
	ck_assert_str_eq(member("{\"a\":{\"inputs\":1}}", "inputs"), "");   /* nested only */
	ck_assert_str_eq(member("{\"inp\\u0075ts\":1}", "inputs"), "");      /* escaped key */
	ck_assert_str_eq(member("{\"inputs\":\"a\\\\\"}", "inputs"), "\"a\\\\\"");
	ck_assert_str_eq(member("{}", "inputs"), "");
	ck_assert_str_eq(member("[{\"inputs\":1}]", "inputs"), "");
	ck_assert_str_eq(member("{\"inputs\":{\"a\":1}", "inputs"), "{\"a\":1}");
	/* Truncated or hostile text: never past the end. */
	ck_assert_str_eq(member("{\"inputs\":{\"a\":1", "inputs"), "");
	ck_assert_str_eq(member("{\"inputs\":\"abc", "inputs"), "");
	ck_assert_str_eq(member("{\"inputs\"", "inputs"), "");
	ck_assert_str_eq(member("{\"inputs\":", "inputs"), "");
	ck_assert_str_eq(member("{\"in", "inputs"), "");
	ck_assert_str_eq(member("{\"a\":1 \"inputs\":2}", "inputs"), "");
	ck_assert_str_eq(member("", "inputs"), "");
}
END_TEST

START_TEST(json_raw_arrays)
{
	struct json_slice e[3];
	const char *doc = "[ {\"a\":[1,2]} ,\"x,]\",3.5 ]";

	ck_assert_int_eq(json_raw_elements(doc, strlen(doc), e, 3), 3);
	ck_assert_int_eq((int)e[0].len, 11);
	ck_assert(!strncmp(e[0].p, "{\"a\":[1,2]}", e[0].len));
	ck_assert(!strncmp(e[1].p, "\"x,]\"", e[1].len) && e[1].len == 5);
	ck_assert(!strncmp(e[2].p, "3.5", e[2].len) && e[2].len == 3);
	ck_assert_int_eq(json_raw_elements(doc, strlen(doc), e, 2), -1);   /* too many */
	ck_assert_int_eq(json_raw_elements("[]", 2, e, 3), 0);
	ck_assert_int_eq(json_raw_elements(" [ ] ", 5, e, 3), 0);
	ck_assert_int_eq(json_raw_elements("[1,", 3, e, 3), -1);
	ck_assert_int_eq(json_raw_elements("[1 2]", 5, e, 3), -1);
	ck_assert_int_eq(json_raw_elements("{}", 2, e, 3), -1);
	ck_assert_int_eq(json_raw_elements("[\"a", 3, e, 3), -1);
}
END_TEST

static int
plain(const char *s)
{
	struct json_slice v = { s, strlen(s) };

	return json_raw_plain(&v);
}

START_TEST(json_raw_plain_cases)
{
	ck_assert_int_eq(plain("{\"a\": 17.99, \"b\": -1.5e-300, \"c\": \"x\\\"y\", \"d\": null}"), 1);
	ck_assert_int_eq(plain("{\"a\": 1e-99999}"), 0);          /* jsonb's numeric refuses it */
	ck_assert_int_eq(plain("{\"a\": 1E+1000}"), 0);
	ck_assert_int_eq(plain("{\"a\": 0.000000000000000000000000000000001}"), 0);  /* > 32 chars */
	ck_assert_int_eq(plain("{\"a\": \"\\u00e9\"}"), 0);        /* escapes go re-serialized */
	ck_assert_int_eq(plain("{\"a\\u0000\": 1}"), 0);
	ck_assert_int_eq(plain("{\"a\": \"1e-99999\"}"), 1);      /* a string, not a number */
	ck_assert_int_eq(plain("\"\\"), 0);
	{
		struct json_slice v = { "{\"a\":3\0}", 8 };   /* jansson reads it as 3 */

		ck_assert_int_eq(json_raw_plain(&v), 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, arena_caps_and_resets);
	tcase_add_test(tc, arena_alignment);
	tcase_add_test(tc, buf_cap_is_hard);
	tcase_add_test(tc, buf_printf_large);
	tcase_add_test(tc, utf8_cases);
	tcase_add_test(tc, json_raw_members);
	tcase_add_test(tc, json_raw_arrays);
	tcase_add_test(tc, json_raw_plain_cases);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
