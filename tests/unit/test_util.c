/* test_util.c: arena, capped buffer and UTF-8 validation. */
#include <check.h>
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
