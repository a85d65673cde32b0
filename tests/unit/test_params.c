/* test_params.c: unit tests for the query-string, form, cookie and multipart parsers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

#define BIG_ARENA	(8u * 1024 * 1024)

/* A string literal's bytes, without the terminating NUL. */
#define LIT(s)		(s), (sizeof(s) - 1)

static struct arena *A;

static void
setup(void)
{
	A = arena_new(BIG_ARENA);
	ck_assert_ptr_nonnull(A);
}

static void
teardown(void)
{
	arena_free(A);
	A = NULL;
}

/*
 * Parsers must never read past len; a malloc'd copy with no NUL after it
 * lets ASan prove that. Caller frees.
 */
static char *
exact_copy(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	return p;
}

static int
form(const char *s, size_t n, struct params *out, size_t max)
{
	char *c = exact_copy(s, n);
	int rc = form_parse_urlencoded(A, c, n, out, max);

	free(c);
	return rc;
}

static int
forms(const char *s, struct params *out, size_t max)
{
	return form(s, strlen(s), out, max);
}

/* Multipart: text values are copies, file values point into body, so keep body alive. */
static char *mp_body;

static int
mp(const char *ct, const char *s, size_t n, struct params *out, size_t max)
{
	free(mp_body);
	mp_body = exact_copy(s, n);
	return multipart_parse(A, ct, mp_body, n, out, max);
}

static void
mp_teardown(void)
{
	free(mp_body);
	mp_body = NULL;
	teardown();
}

static void
assert_param(const struct params *p, size_t i, const char *name,
    const char *value, size_t vlen)
{
	ck_assert_uint_lt(i, p->n);
	ck_assert_str_eq(p->v[i].name, name);
	ck_assert_uint_eq(p->v[i].value_len, vlen);
	ck_assert_int_eq(memcmp(p->v[i].value, value, vlen), 0);
}

/* Text values are C strings too. */
static void
assert_text(const struct params *p, size_t i, const char *name,
    const char *value)
{
	assert_param(p, i, name, value, strlen(value));
	ck_assert_int_eq(p->v[i].value[p->v[i].value_len], '\0');
	ck_assert_ptr_null(p->v[i].filename);
}

/* ---- names and lists ---- */

START_TEST(test_name_ok)
{
	static const struct {
		const char *s;
		int ok;
	} t[] = {
		{ "a", 1 }, { "Z", 1 }, { "abc", 1 }, { "a1", 1 },
		{ "a_b", 1 }, { "a.b", 1 }, { "a-b", 1 }, { "A.b-c_9", 1 },
		{ "", 0 }, { "_x", 0 }, { "1a", 0 }, { "a b", 0 },
		{ "a\nb", 0 }, { "-a", 0 }, { ".a", 0 }, { "a[]", 0 },
		{ "__proto__", 0 }, { "a/b", 0 }, { "a=b", 0 }, { "a%b", 0 },
		{ "\xc3\xa9", 0 }, { "a\xc3\xa9", 0 }, { "a+b", 0 },
	};
	char n64[65], n65[66];
	size_t i;

	for (i = 0; i < ARRAY_LEN(t); i++)
		ck_assert_msg(param_name_ok(t[i].s, strlen(t[i].s)) == t[i].ok,
		    "case %zu '%s'", i, t[i].s);
	memset(n64, 'a', 64);
	n64[64] = '\0';
	memset(n65, 'a', 65);
	n65[65] = '\0';
	ck_assert_int_eq(param_name_ok(n64, 64), 1);
	ck_assert_int_eq(param_name_ok(n65, 65), 0);
	/* Embedded NUL: length, not strlen, counts. */
	ck_assert_int_eq(param_name_ok("a\0b", 3), 0);
	ck_assert_int_eq(param_name_ok("ab", 1), 1);
	ck_assert_int_eq(param_name_ok(NULL, 0), 0);
}
END_TEST

START_TEST(test_params_add_grow)
{
	struct params p = { 0 };
	struct param it;
	char name[16];
	size_t i;

	for (i = 0; i < 1000; i++) {
		memset(&it, 0, sizeof(it));
		snprintf(name, sizeof(name), "k%zu", i % 10);
		it.name = arena_strdup(A, name);
		ck_assert_ptr_nonnull(it.name);
		it.value = "v";
		it.value_len = i;
		ck_assert_int_eq(params_add(A, &p, &it), 0);
	}
	ck_assert_uint_eq(p.n, 1000);
	ck_assert_uint_ge(p.cap, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(p.v[i].value_len, i);
	ck_assert_uint_eq(params_count(&p, "k3"), 100);
	ck_assert_uint_eq(params_count(&p, "k"), 0);
	ck_assert_uint_eq(params_get(&p, "k7")->value_len, 7);
	ck_assert_ptr_null(params_get(&p, "k10"));
}
END_TEST

START_TEST(test_params_empty)
{
	struct params p = { 0 };

	ck_assert_ptr_null(params_get(&p, "a"));
	ck_assert_uint_eq(params_count(&p, "a"), 0);
}
END_TEST

START_TEST(test_params_add_nomem)
{
	struct arena *tiny = arena_new(16384);
	struct params p = { 0 };
	struct param it = { "a", "b", 1, NULL, NULL };
	size_t i;
	int rc = 0;

	ck_assert_ptr_nonnull(tiny);
	/* The first chunk holds 16 KiB; the doubling arrays must eventually not fit. */
	for (i = 0; i < 100000 && rc == 0; i++)
		rc = params_add(tiny, &p, &it);
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_lt(p.n, 1000);
	ck_assert_uint_gt(p.n, 0);
	ck_assert_str_eq(p.v[p.n - 1].name, "a");
	arena_free(tiny);
}
END_TEST

/* ---- urlencoded forms and query strings ---- */

START_TEST(test_form_basic)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("a=1&b=hello&c=", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 3);
	assert_text(&p, 0, "a", "1");
	assert_text(&p, 1, "b", "hello");
	assert_text(&p, 2, "c", "");
	ck_assert_str_eq(params_get(&p, "b")->value, "hello");
	ck_assert_ptr_null(params_get(&p, "d"));
	ck_assert_ptr_null(p.v[0].content_type);
}
END_TEST

START_TEST(test_form_empty)
{
	struct params p = { 0 };

	ck_assert_int_eq(form_parse_urlencoded(A, NULL, 0, &p, 10), PARSE_OK);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_int_eq(forms("&&&", &p, 10), PARSE_OK);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_int_eq(forms("=", &p, 10), PARSE_OK);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_int_eq(forms("=x&==", &p, 10), PARSE_OK);
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_form_repeated)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("tag=a&x=0&tag=b&tag=c", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 4);
	ck_assert_uint_eq(params_count(&p, "tag"), 3);
	ck_assert_uint_eq(params_count(&p, "x"), 1);
	ck_assert_str_eq(params_get(&p, "tag")->value, "a");
	assert_text(&p, 2, "tag", "b");
	assert_text(&p, 3, "tag", "c");
}
END_TEST

START_TEST(test_form_decoding)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("q=a+b%20c&r=%41%62%7e%2B&s=%C3%A9&n%61me=x"
	    "&t=a%3Db%26c&u=++", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 6);
	assert_text(&p, 0, "q", "a b c");
	assert_text(&p, 1, "r", "Ab~+");
	assert_text(&p, 2, "s", "\xc3\xa9");
	assert_text(&p, 3, "name", "x");
	assert_text(&p, 4, "t", "a=b&c");
	assert_text(&p, 5, "u", "  ");
}
END_TEST

START_TEST(test_form_equals_and_bare)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("a=b=c&flag&d=", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 3);
	assert_text(&p, 0, "a", "b=c");
	assert_text(&p, 1, "flag", "");
	assert_text(&p, 2, "d", "");
}
END_TEST

START_TEST(test_form_semicolon_not_separator)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("a=1;b=2&c=3", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_text(&p, 0, "a", "1;b=2");
	assert_text(&p, 1, "c", "3");
}
END_TEST

START_TEST(test_form_nul)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("a=x%00y&b=%00", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_param(&p, 0, "a", "x\0y", 3);
	ck_assert_int_eq(p.v[0].value[3], '\0');
	assert_param(&p, 1, "b", "\0", 1);
	/* A raw NUL byte in the input is just a byte, too. */
	ck_assert_int_eq(form(LIT("a=1\0" "2&b=3"), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 4);
	assert_param(&p, 2, "a", "1\0" "2", 3);
	assert_text(&p, 3, "b", "3");
}
END_TEST

START_TEST(test_form_malformed)
{
	static const char *bad[] = {
		"a=%zz", "a=%4", "a=%", "a=1&b=%g0", "a=%0g", "%zz=1",
		"a%=1", "a=1%", "a=%%41", "a=%+1", "a=% 1", "_x=%zz",
		"a=1&&&b=%2", "%=", "a=%\xff\xff",
	};
	struct params p = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		ck_assert_msg(forms(bad[i], &p, 100) == PARSE_MALFORMED,
		    "case %zu '%s'", i, bad[i]);
		ck_assert_msg(p.n == 0, "case %zu left %zu params", i, p.n);
	}
}
END_TEST

START_TEST(test_form_error_restores)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("a=1", &p, 100), PARSE_OK);
	ck_assert_int_eq(forms("b=2&c=3&d=%", &p, 100), PARSE_MALFORMED);
	ck_assert_uint_eq(p.n, 1);
	assert_text(&p, 0, "a", "1");
	/* max_params counts this call only. */
	ck_assert_int_eq(forms("b=2&c=3", &p, 2), PARSE_OK);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_int_eq(forms("e=1&f=2&g=3", &p, 2), PARSE_TOO_MANY);
	ck_assert_uint_eq(p.n, 3);
}
END_TEST

START_TEST(test_form_unsafe_names)
{
	struct params p = { 0 };
	char q[256];

	ck_assert_int_eq(forms("_x=1&1a=2&a+b=3&a%20b=4&a%0Ab=5&ok=6&"
	    "__proto__=7&a[]=8&%C3%A9=9&a%00=10&a.b-c_d=11", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_text(&p, 0, "ok", "6");
	assert_text(&p, 1, "a.b-c_d", "11");

	/* 64 chars is the limit; percent-encoded letters count decoded. */
	p.n = 0;
	snprintf(q, sizeof(q), "%.64s=long&%.65s=toolong&%%61%.63s=enc",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	ck_assert_int_eq(forms(q, &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_uint_eq(strlen(p.v[0].name), 64);
	ck_assert_str_eq(p.v[0].value, "long");
	ck_assert_uint_eq(strlen(p.v[1].name), 64);
	ck_assert_int_eq(p.v[1].name[0], 'a');
	ck_assert_str_eq(p.v[1].value, "enc");
}
END_TEST

START_TEST(test_form_skipped_dont_count)
{
	struct params p = { 0 };

	/* Skipped names neither count towards max_params nor use arena memory. */
	ck_assert_int_eq(forms("_a=1&_b=2&_c=3&x=1&y=2", &p, 2), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_text(&p, 0, "x", "1");
	assert_text(&p, 1, "y", "2");
}
END_TEST

START_TEST(test_form_too_many)
{
	struct params p = { 0 };

	ck_assert_int_eq(forms("a=1&b=2&c=3", &p, 3), PARSE_OK);
	ck_assert_uint_eq(p.n, 3);
	p.n = 0;
	ck_assert_int_eq(forms("a=1&b=2&c=3&d=4", &p, 3), PARSE_TOO_MANY);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_int_eq(forms("a", &p, 0), PARSE_TOO_MANY);
	ck_assert_int_eq(forms("&&_x=1", &p, 0), PARSE_OK);
}
END_TEST

START_TEST(test_form_nomem)
{
	struct arena *tiny = arena_new(16384);
	struct params p = { 0 };
	char *big = malloc(20001);
	int rc;

	ck_assert_ptr_nonnull(tiny);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "a=", 2);
	memset(big + 2, 'x', 19999);
	rc = form_parse_urlencoded(tiny, big, 20001, &p, 100);
	ck_assert_int_eq(rc, PARSE_NOMEM);
	ck_assert_uint_eq(p.n, 0);

	/* Many small values exhaust it too. */
	arena_reset(tiny);
	p = (struct params){ 0 };
	{
		struct buf b;
		size_t i;

		buf_init(&b, 1 << 20);
		for (i = 0; i < 2000; i++)
			ck_assert_int_eq(buf_printf(&b, "k%zu=v&", i), 0);
		rc = form_parse_urlencoded(tiny, b.p, b.len, &p, 100000);
		ck_assert_int_eq(rc, PARSE_NOMEM);
		ck_assert_uint_eq(p.n, 0);
		buf_free(&b);
	}
	free(big);
	arena_free(tiny);
}
END_TEST

START_TEST(test_form_len_respected)
{
	struct params p = { 0 };
	const char *s = "a=1&b=2";

	ck_assert_int_eq(form_parse_urlencoded(A, s, 3, &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	assert_text(&p, 0, "a", "1");
	/* A truncated escape at the cut is malformed even though bytes follow. */
	p.n = 0;
	ck_assert_int_eq(form_parse_urlencoded(A, "a=%41", 4, &p, 100),
	    PARSE_MALFORMED);
	ck_assert_int_eq(form_parse_urlencoded(A, "a=%41", 5, &p, 100),
	    PARSE_OK);
	assert_text(&p, 0, "a", "A");
}
END_TEST

START_TEST(test_form_huge)
{
	struct params p = { 0 };
	size_t n = 4u * 1024 * 1024, i;
	char *s = malloc(n);

	/* Linear: millions of empty pieces and skipped names. */
	ck_assert_ptr_nonnull(s);
	memset(s, '&', n);
	for (i = 0; i + 4 < n; i += 64)
		memcpy(s + i, "_x=1", 4);
	memcpy(s + n - 5, "a=%7", 4);
	ck_assert_int_eq(form_parse_urlencoded(A, s, n - 1, &p, 1000),
	    PARSE_MALFORMED);
	s[n - 1] = 'E';
	ck_assert_int_eq(form_parse_urlencoded(A, s, n, &p, 1000), PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	assert_text(&p, 0, "a", "~");
	free(s);
}
END_TEST

/* ---- url_encode ---- */

START_TEST(test_url_encode)
{
	struct buf b;

	buf_init(&b, 1024);
	ck_assert_int_eq(url_encode(&b, LIT("azAZ09-._~")), 0);
	ck_assert_str_eq(buf_str(&b), "azAZ09-._~");
	buf_reset(&b);
	ck_assert_int_eq(url_encode(&b, LIT("a b+c&d=e/\xc3\xa9\0%")), 0);
	ck_assert_str_eq(buf_str(&b), "a%20b%2Bc%26d%3De%2F%C3%A9%00%25");
	buf_reset(&b);
	ck_assert_int_eq(url_encode(&b, NULL, 0), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_url_encode_cap)
{
	struct buf b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_adds(&b, "x="), 0);
	/* "%20%20" fits; a third escape does not: nothing of it may remain. */
	ck_assert_int_eq(url_encode(&b, LIT("  ")), 0);
	ck_assert_str_eq(buf_str(&b), "x=%20%20");
	buf_reset(&b);
	ck_assert_int_eq(buf_adds(&b, "x="), 0);
	ck_assert_int_eq(url_encode(&b, LIT("ab   ")), -1);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_str_eq(buf_str(&b), "x=");
	/* Same for a run of unreserved bytes that does not fit. */
	ck_assert_int_eq(url_encode(&b, LIT("%abcdefgh")), -1);
	ck_assert_str_eq(buf_str(&b), "x=");
	buf_free(&b);
}
END_TEST

START_TEST(test_url_encode_roundtrip)
{
	struct params p = { 0 };
	struct buf b;
	char all[256];
	size_t i;

	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	buf_init(&b, 4096);
	ck_assert_int_eq(buf_adds(&b, "v="), 0);
	ck_assert_int_eq(url_encode(&b, all, sizeof(all)), 0);
	ck_assert_int_eq(form_parse_urlencoded(A, b.p, b.len, &p, 10),
	    PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	assert_param(&p, 0, "v", all, sizeof(all));
	buf_free(&b);
}
END_TEST

/* ---- cookies ---- */

START_TEST(test_cookie_basic)
{
	struct params p = { 0 };

	ck_assert_int_eq(cookie_parse(A, "sid=abc123; theme=dark;lang=en",
	    &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 3);
	assert_text(&p, 0, "sid", "abc123");
	assert_text(&p, 1, "theme", "dark");
	assert_text(&p, 2, "lang", "en");
}
END_TEST

START_TEST(test_cookie_quotes_spaces)
{
	struct params p = { 0 };

	ck_assert_int_eq(cookie_parse(A,
	    "  a = \"quoted value\" ;b=\"\";\tc=x y ; d=\"unbalanced; e=\"; "
	    "f=no%20decode+; g=a=b; h=\"\"\"; i= \"q\" ", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 7);
	assert_text(&p, 0, "a", "quoted value");
	assert_text(&p, 1, "b", "");
	assert_text(&p, 2, "c", "x y");
	assert_text(&p, 3, "f", "no%20decode+");
	assert_text(&p, 4, "g", "a=b");
	assert_text(&p, 5, "h", "\"");
	assert_text(&p, 6, "i", "q");
}
END_TEST

START_TEST(test_cookie_junk)
{
	struct params p = { 0 };

	ck_assert_int_eq(cookie_parse(A, ";;; ; =; =x; noequals; _ga=GA1.2; "
	    "__Host-x=1; 1a=2; a b=3; ok=1; ctl=a\x01" "b; tab=a\tb; "
	    "\xc3\xa9=4; x=\"; y=\"a; ok2=2;", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_text(&p, 0, "ok", "1");
	assert_text(&p, 1, "ok2", "2");

	p.n = 0;
	ck_assert_int_eq(cookie_parse(A, NULL, &p, 100), PARSE_OK);
	ck_assert_int_eq(cookie_parse(A, "", &p, 100), PARSE_OK);
	ck_assert_int_eq(cookie_parse(A, "   ", &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_cookie_repeated)
{
	struct params p = { 0 };

	ck_assert_int_eq(cookie_parse(A, "sid=1; sid=2", &p, 100), PARSE_OK);
	ck_assert_uint_eq(params_count(&p, "sid"), 2);
	ck_assert_str_eq(params_get(&p, "sid")->value, "1");
}
END_TEST

START_TEST(test_cookie_too_many)
{
	struct params p = { 0 };

	ck_assert_int_eq(cookie_parse(A, "a=1; b=2; _c=3", &p, 2), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	p.n = 0;
	ck_assert_int_eq(cookie_parse(A, "a=1; b=2; c=3", &p, 2),
	    PARSE_TOO_MANY);
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_cookie_nomem)
{
	struct arena *tiny = arena_new(16384);
	struct params p = { 0 };
	char *h = malloc(30000);

	ck_assert_ptr_nonnull(tiny);
	ck_assert_ptr_nonnull(h);
	memcpy(h, "a=", 2);
	memset(h + 2, 'v', 30000 - 3);
	h[30000 - 1] = '\0';
	ck_assert_int_eq(cookie_parse(tiny, h, &p, 100), PARSE_NOMEM);
	ck_assert_uint_eq(p.n, 0);
	free(h);
	arena_free(tiny);
}
END_TEST

/* ---- multipart ---- */

#define CT	"multipart/form-data; boundary=XyZ"

START_TEST(test_mp_text_and_file)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"title\"\r\n"
	    "\r\n"
	    "Hello, world\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"upload\"; filename=\"a.csv\"\r\n"
	    "Content-Type: text/csv\r\n"
	    "\r\n"
	    "x,y\r\n1,2\r\n\r\n"
	    "--XyZ--\r\n";
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT(body), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_text(&p, 0, "title", "Hello, world");
	ck_assert_ptr_null(p.v[0].content_type);
	assert_param(&p, 1, "upload", "x,y\r\n1,2\r\n", 10);
	ck_assert_str_eq(p.v[1].filename, "a.csv");
	ck_assert_str_eq(p.v[1].content_type, "text/csv");
	/* File data is not copied. */
	ck_assert(p.v[1].value >= mp_body);
	ck_assert(p.v[1].value + p.v[1].value_len <= mp_body + sizeof(body) - 1);
}
END_TEST

START_TEST(test_mp_crlf_and_near_delimiters)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n"
	    "\r\n"
	    "\r\n--XyY\r\n--Xy\r\n-XyZ\n--XyZ\r--XyZx\r\n"
	    "--XyZ\r\n"
	    "content-disposition: form-data; name=t\r\n"
	    "\r\n"
	    "--XyZ\r\n"
	    "\r\n"
	    "--XyZ--";
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT(body), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_param(&p, 0, "f", LIT("\r\n--XyY\r\n--Xy\r\n-XyZ\n--XyZ\r--XyZx"));
	ck_assert_str_eq(p.v[0].filename, "x");
	ck_assert_ptr_null(p.v[0].content_type);
	assert_text(&p, 1, "t", "--XyZ\r\n");
}
END_TEST

START_TEST(test_mp_binary)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"bin\"; filename=\"b.bin\"\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "\r\n"
	    "\0\x01\xff\0\r\0\n\0\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"txt\"\r\n"
	    "\r\n"
	    "a\0b\r\n"
	    "--XyZ--\r\n";
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT(body), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_param(&p, 0, "bin", LIT("\0\x01\xff\0\r\0\n\0"));
	ck_assert_str_eq(p.v[0].filename, "b.bin");
	ck_assert_str_eq(p.v[0].content_type, "application/octet-stream");
	assert_param(&p, 1, "txt", LIT("a\0b"));
	ck_assert_int_eq(p.v[1].value[3], '\0');
}
END_TEST

START_TEST(test_mp_empty_file)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"up\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "\r\n"
	    "\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"e\"\r\n"
	    "\r\n"
	    "\r\n"
	    "--XyZ--\r\n";
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT(body), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.v[0].name, "up");
	ck_assert_ptr_nonnull(p.v[0].filename);
	ck_assert_str_eq(p.v[0].filename, "");
	ck_assert_uint_eq(p.v[0].value_len, 0);
	assert_text(&p, 1, "e", "");
}
END_TEST

START_TEST(test_mp_boundary_forms)
{
	static const char body[] =
	    "--a b:c\r\n"
	    "Content-Disposition: form-data; name=\"k\"\r\n"
	    "\r\n"
	    "v\r\n"
	    "--a b:c--\r\n";
	static const char body2[] =
	    "--ab:c\r\n"
	    "Content-Disposition: form-data; name=\"k\"\r\n"
	    "\r\n"
	    "w\r\n"
	    "--ab:c--\r\n";
	static const char *ok[] = {
		"multipart/form-data; boundary=\"a b:c\"",
		"Multipart/Form-Data;BOUNDARY=\"a b:c\"",
		"multipart/form-data; charset=utf-8; boundary = \"a b:c\" ",
		"multipart/form-data; x=\"q;boundary=no\"; boundary=\"a b:c\"",
		"multipart/form-data;boundary=\"a b:c\";charset=x",
	};
	struct params p = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(ok); i++) {
		p.n = 0;
		ck_assert_msg(mp(ok[i], LIT(body), &p, 100) == PARSE_OK,
		    "case %zu: %s", i, ok[i]);
		ck_assert_uint_eq(p.n, 1);
		assert_text(&p, 0, "k", "v");
	}
	/* Unquoted, with a tspecial: lenient. */
	p.n = 0;
	ck_assert_int_eq(mp("multipart/form-data; boundary=ab:c", LIT(body2),
	    &p, 100), PARSE_OK);
	assert_text(&p, 0, "k", "w");
}
END_TEST

START_TEST(test_mp_boundary_bad)
{
	static const char *bad[] = {
		NULL,
		"",
		"multipart/form-data",
		"multipart/form-data;",
		"multipart/form-data; boundary=",
		"multipart/form-data; boundary=\"\"",
		"multipart/form-data; boundary=\"abc",
		"multipart/form-data; xboundary=abc",
		"multipart/form-data; boundary=a; boundary=a",
		"multipart/form-data; boundary=a b",
		"multipart/form-data; boundary=\"ab \"",
		"multipart/form-data; boundary=\"a\rb\"",
		"multipart/form-data; boundary=\"a\\\"b\"",
		"multipart/form-data; boundary=a\x80" "b",
		"multipart/form-data; boundary=abc junk",
		"multipart/form-data; charset; boundary=abc",
		"multipart/form-data; =x; boundary=abc",
	};
	static const char body[] =
	    "--a\r\n"
	    "Content-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--a--\r\n";
	struct params p = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		ck_assert_msg(mp(bad[i], LIT(body), &p, 100) == PARSE_MALFORMED,
		    "case %zu: %s", i, bad[i] ? bad[i] : "(null)");
		ck_assert_uint_eq(p.n, 0);
	}
}
END_TEST

START_TEST(test_mp_boundary_length)
{
	char ct[160], body[400];
	struct params p = { 0 };
	int n;

	/* 70 characters: the most RFC 2046 allows. */
	n = snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.70s",
	    "0123456789012345678901234567890123456789012345678901234567890123456789XX");
	ck_assert_int_eq(n, 30 + 70);
	n = snprintf(body, sizeof(body), "--%s\r\nContent-Disposition: "
	    "form-data; name=\"k\"\r\n\r\nseventy\r\n--%s--\r\n", ct + 30,
	    ct + 30);
	ck_assert_int_eq(mp(ct, body, (size_t)n, &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	assert_text(&p, 0, "k", "seventy");

	/* 71: refused, even though the body is consistent with it. */
	p.n = 0;
	n = snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.71s",
	    "0123456789012345678901234567890123456789012345678901234567890123456789XX");
	n = snprintf(body, sizeof(body), "--%s\r\nContent-Disposition: "
	    "form-data; name=\"k\"\r\n\r\nv\r\n--%s--\r\n", ct + 30, ct + 30);
	ck_assert_int_eq(mp(ct, body, (size_t)n, &p, 100), PARSE_MALFORMED);
	ck_assert_uint_eq(p.n, 0);

	/* 1 character is fine. */
	ck_assert_int_eq(mp("multipart/form-data; boundary=z",
	    LIT("--z\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--z--"),
	    &p, 100), PARSE_OK);
	assert_text(&p, 0, "a", "1");
}
END_TEST

START_TEST(test_mp_preamble_epilogue_padding)
{
	static const char body[] =
	    "This is a preamble.\r\n--XyY\r\n-- XyZ\r\n"
	    "--XyZ \t\r\n"
	    "Content-Disposition: form-data; name=\"a\"\r\n"
	    "X-Ignored: yes\r\n"
	    "\r\n"
	    "1\r\n"
	    "--XyZ--this is the epilogue\r\n--XyZ\r\njunk";
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT(body), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	assert_text(&p, 0, "a", "1");
}
END_TEST

START_TEST(test_mp_no_parts)
{
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT("--XyZ--\r\n"), &p, 100), PARSE_OK);
	ck_assert_int_eq(mp(CT, LIT("preamble\r\n--XyZ--"), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 0);
	/* An empty POST body has not even the closing delimiter. */
	ck_assert_int_eq(multipart_parse(A, CT, NULL, 0, &p, 100),
	    PARSE_MALFORMED);
	ck_assert_int_eq(mp(CT, LIT(""), &p, 100), PARSE_MALFORMED);
}
END_TEST

START_TEST(test_mp_header_forms)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "CONTENT-DISPOSITION:Form-Data;NAME=\"a\";  FileName=\"C:\\dir\\f.txt\"\r\n"
	    "content-type:   image/png  \r\n"
	    "\r\n"
	    "PNG\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"b\"; filename=\"q\\\"uo\\\\te\"; x=y\r\n"
	    "\r\n"
	    "\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"c\"\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "text\r\n"
	    "--XyZ--\r\n";
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT(body), &p, 100), PARSE_OK);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_str_eq(p.v[0].name, "a");
	ck_assert_str_eq(p.v[0].filename, "C:\\dir\\f.txt");
	ck_assert_str_eq(p.v[0].content_type, "image/png");
	assert_param(&p, 0, "a", "PNG", 3);
	ck_assert_str_eq(p.v[1].filename, "q\"uo\\te");
	ck_assert_uint_eq(p.v[1].value_len, 0);
	ck_assert_str_eq(p.v[2].name, "c");
	ck_assert_str_eq(p.v[2].value, "text");
	ck_assert_ptr_null(p.v[2].filename);
	ck_assert_str_eq(p.v[2].content_type, "text/plain; charset=utf-8");
}
END_TEST

START_TEST(test_mp_unsafe_names_skipped)
{
	static const char *names[] = {
		"_x", "", "a b", "ok", "a%0Ab", "1a", "a\\b", "__proto__",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct params p = { 0 };
	struct buf b;
	size_t i;

	ck_assert_uint_eq(strlen(names[8]), 65);
	ck_assert_uint_eq(strlen(names[9]), 64);
	buf_init(&b, 1 << 16);
	for (i = 0; i < ARRAY_LEN(names); i++)
		ck_assert_int_eq(buf_printf(&b, "--XyZ\r\nContent-Disposition: "
		    "form-data; name=\"%s\"\r\n\r\n%zu\r\n", names[i], i), 0);
	ck_assert_int_eq(buf_adds(&b, "--XyZ--\r\n"), 0);
	/* Skipped parts do not count towards max_params. */
	ck_assert_int_eq(mp(CT, b.p, b.len, &p, 2), PARSE_OK);
	ck_assert_uint_eq(p.n, 2);
	assert_text(&p, 0, "ok", "3");
	assert_text(&p, 1, names[9], "9");
	buf_free(&b);
}
END_TEST

START_TEST(test_mp_too_many)
{
	static const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n"
	    "--XyZ--\r\n";
	struct params p = { 0 };

	ck_assert_int_eq(mp(CT, LIT(body), &p, 3), PARSE_OK);
	ck_assert_uint_eq(p.n, 3);
	assert_text(&p, 2, "c", "3");
	p.n = 0;
	ck_assert_int_eq(mp(CT, LIT(body), &p, 2), PARSE_TOO_MANY);
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_mp_header_cap)
{
	struct params p = { 0 };
	struct buf b;
	static const char cd[] = "Content-Disposition: form-data; name=\"a\"\r\n";
	size_t pad;

	/* Header lines of exactly 8192 bytes (CRLFs included but the last) pass. */
	buf_init(&b, 1 << 20);
	pad = 8192 - (sizeof(cd) - 1) - strlen("X-Pad: ");
	ck_assert_int_eq(buf_printf(&b, "--XyZ\r\n%sX-Pad: ", cd), 0);
	while (pad-- > 0)
		ck_assert_int_eq(buf_addc(&b, 'p'), 0);
	ck_assert_int_eq(buf_adds(&b, "\r\n\r\nv\r\n--XyZ--\r\n"), 0);
	ck_assert_int_eq(mp(CT, b.p, b.len, &p, 10), PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	assert_text(&p, 0, "a", "v");

	/* One more byte is refused. */
	buf_reset(&b);
	pad = 8193 - (sizeof(cd) - 1) - strlen("X-Pad: ");
	ck_assert_int_eq(buf_printf(&b, "--XyZ\r\n%sX-Pad: ", cd), 0);
	while (pad-- > 0)
		ck_assert_int_eq(buf_addc(&b, 'p'), 0);
	ck_assert_int_eq(buf_adds(&b, "\r\n\r\nv\r\n--XyZ--\r\n"), 0);
	p.n = 0;
	ck_assert_int_eq(mp(CT, b.p, b.len, &p, 10), PARSE_MALFORMED);
	ck_assert_uint_eq(p.n, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_mp_nomem)
{
	struct arena *tiny = arena_new(16384);
	struct params p = { 0 };
	struct buf b;
	size_t i;
	int rc;

	/* A 20 KB text field cannot be copied into a 16 KB arena... */
	ck_assert_ptr_nonnull(tiny);
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_adds(&b, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"t\"\r\n\r\n"), 0);
	for (i = 0; i < 20000; i++)
		ck_assert_int_eq(buf_addc(&b, 'x'), 0);
	ck_assert_int_eq(buf_adds(&b, "\r\n--XyZ--\r\n"), 0);
	free(mp_body);
	mp_body = NULL;
	rc = multipart_parse(tiny, CT, b.p, b.len, &p, 10);
	ck_assert_int_eq(rc, PARSE_NOMEM);
	ck_assert_uint_eq(p.n, 0);

	/* ...but the same bytes as a file are not copied. */
	arena_reset(tiny);
	buf_reset(&b);
	ck_assert_int_eq(buf_adds(&b, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"t\"; filename=\"f\"\r\n\r\n"), 0);
	for (i = 0; i < 20000; i++)
		ck_assert_int_eq(buf_addc(&b, 'x'), 0);
	ck_assert_int_eq(buf_adds(&b, "\r\n--XyZ--\r\n"), 0);
	rc = multipart_parse(tiny, CT, b.p, b.len, &p, 10);
	ck_assert_int_eq(rc, PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_uint_eq(p.v[0].value_len, 20000);
	ck_assert_str_eq(p.v[0].filename, "f");
	buf_free(&b);
	arena_free(tiny);
}
END_TEST

START_TEST(test_mp_huge_linear)
{
	struct params p = { 0 };
	size_t n = 8u * 1024 * 1024, i;
	static const char head[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n";
	static const char tail[] = "\r\n--XyZ--\r\n";
	static const char unit[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"_\"\r\n\r\n\r\n";
	char *s = malloc(n);

	/* Data full of almost-delimiters: quadratic search would time out. */
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		s[i] = "\r\n--XyY"[i % 7];
	memcpy(s, head, sizeof(head) - 1);
	memcpy(s + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	ck_assert_int_eq(multipart_parse(A, CT, s, n, &p, 10), PARSE_OK);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_uint_eq(p.v[0].value_len,
	    n - (sizeof(head) - 1) - (sizeof(tail) - 1));
	/* No closing delimiter: the same long search, then MALFORMED. */
	p.n = 0;
	s[n - 5] = 'Y';
	ck_assert_int_eq(multipart_parse(A, CT, s, n, &p, 10), PARSE_MALFORMED);
	ck_assert_uint_eq(p.n, 0);
	/* Many tiny parts. */
	for (i = 0; i + sizeof(unit) + 7 < n; i += sizeof(unit) - 1)
		memcpy(s + i, unit, sizeof(unit) - 1);
	memcpy(s + i, "--XyZ--", 7);
	ck_assert_int_eq(multipart_parse(A, CT, s, i + 7, &p, 10), PARSE_OK);
	ck_assert_uint_eq(p.n, 0);
	free(s);
}
END_TEST

/* Hostile or broken bodies, all against CT; a table so new cases are one line. */
START_TEST(test_mp_hostile_table)
{
#define CD "Content-Disposition: form-data; name=\"a\"\r\n"
	static const struct {
		const char *body;
		size_t len;
		int rc;
		size_t n;
	} t[] = {
		{ LIT(""), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ-"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n\r\n"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "\r\n"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "\r\nv"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "\r\nv\r\n--XyZ"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "\r\nv\r\n--XyZ\r\n"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "\r\nv\r\n--XyZ--"), PARSE_OK, 1 },
		{ LIT("--XyZ\r\n" CD "\r\nv\r\n--XyZx\r\n"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZx\r\n" CD "\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--xyz\r\n" CD "\r\nv\r\n--xyz--"), PARSE_MALFORMED, 0 },
		{ LIT("\r\n--XyZ\r\n" CD "\r\nv\r\n--XyZ--"), PARSE_OK, 1 },
		{ LIT("--XyZ\n" CD "\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "\r\nv\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-datax; name=\"a\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data x; name=\"a\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: FORM-DATA ; name=\"a\"\r\n\r\nv\r\n--XyZ--"), PARSE_OK, 1 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"a\"junk\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x\"; filename=\"y\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD CD "\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "Content-Type: a\r\nContent-Type: b\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD " folded\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition : form-data; name=\"a\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition form-data; name=\"a\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n: x\r\n" CD "\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "X-Evil: a\nb\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "X-Evil: a\rb\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "X-Evil: a\0b\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"a\0\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "X-Tab:\ta\tb\r\n\r\nv\r\n--XyZ--"), PARSE_OK, 1 },
		{ LIT("--XyZ\r\n" CD "\r\n\r\n--XyZ--"), PARSE_OK, 1 },
		{ LIT("--XyZ\r\n" CD "\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\n" CD "\r\nv\r\n--XyZ  \r\n" CD "\r\nw\r\n--XyZ--"), PARSE_OK, 2 },
		{ LIT("--XyZ\r\n" CD "\r\nv\r\n--XyZ  x\r\n" CD "\r\nw\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"_a\"\r\n\r\nv\r\n--XyZ\r\n"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"_a\"\r\n\r\nv\r\n--XyZ--"), PARSE_OK, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\\\"\r\n\r\nv\r\n--XyZ--"), PARSE_MALFORMED, 0 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\\\\\"\r\n\r\nv\r\n--XyZ--"), PARSE_OK, 1 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; name=a;filename=f\r\n\r\nv\r\n--XyZ--"), PARSE_OK, 1 },
		{ LIT("--XyZ\r\nContent-Disposition: form-data; ; name=\"a\";\r\n\r\nv\r\n--XyZ--"), PARSE_OK, 1 },
	};
#undef CD
	struct params p = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(t); i++) {
		p.n = 0;
		rc = mp(CT, t[i].body, t[i].len, &p, 100);
		ck_assert_msg(rc == t[i].rc, "case %zu: rc %d, want %d", i, rc,
		    t[i].rc);
		ck_assert_msg(p.n == t[i].n, "case %zu: n %zu, want %zu", i,
		    p.n, t[i].n);
		if (p.n > 0) {
			ck_assert_str_eq(p.v[0].name, "a");
			ck_assert_int_eq(p.v[0].value_len, p.v[0].filename ?
			    1 : strlen(p.v[0].value));
		}
	}
}
END_TEST

/* Query-string hostile table: status and parameter count. */
START_TEST(test_form_hostile_table)
{
	static const struct {
		const char *s;
		size_t len;
		int rc;
		size_t n;
	} t[] = {
		{ LIT("%"), PARSE_MALFORMED, 0 },
		{ LIT("%%%"), PARSE_MALFORMED, 0 },
		{ LIT("a=%0"), PARSE_MALFORMED, 0 },
		{ LIT("a=\xff\xfe"), PARSE_OK, 1 },
		{ LIT("a=\r\n\r\n"), PARSE_OK, 1 },
		{ LIT("a\r\n=1"), PARSE_OK, 0 },
		{ LIT("a=1\0&b=2"), PARSE_OK, 2 },
		{ LIT("\0=1"), PARSE_OK, 0 },
		{ LIT("a%00b=1"), PARSE_OK, 0 },
		{ LIT("a%3d=1"), PARSE_OK, 0 },
		{ LIT("a%26b=1"), PARSE_OK, 0 },
		{ LIT("%61=1"), PARSE_OK, 1 },
		{ LIT("a=&=a&a"), PARSE_OK, 2 },
		{ LIT("++=1"), PARSE_OK, 0 },
		{ LIT("a+=1"), PARSE_OK, 0 },
		{ LIT("?a=1"), PARSE_OK, 0 },
		{ LIT("a=1#frag"), PARSE_OK, 1 },
		{ LIT("a=%C0%80"), PARSE_OK, 1 },
		{ LIT("&&&&&&&&&&&&&&&&&&&&&&&&&&&a=1"), PARSE_OK, 1 },
	};
	struct params p = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(t); i++) {
		p.n = 0;
		rc = form(t[i].s, t[i].len, &p, 100);
		ck_assert_msg(rc == t[i].rc, "case %zu: rc %d, want %d", i, rc,
		    t[i].rc);
		ck_assert_msg(p.n == t[i].n, "case %zu: n %zu, want %zu", i,
		    p.n, t[i].n);
	}
}
END_TEST

static Suite *
params_suite(void)
{
	Suite *s = suite_create("params");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_name_ok);
	tcase_add_test(tc, test_params_add_grow);
	tcase_add_test(tc, test_params_empty);
	tcase_add_test(tc, test_params_add_nomem);
	suite_add_tcase(s, tc);

	tc = tcase_create("form");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_form_basic);
	tcase_add_test(tc, test_form_empty);
	tcase_add_test(tc, test_form_repeated);
	tcase_add_test(tc, test_form_decoding);
	tcase_add_test(tc, test_form_equals_and_bare);
	tcase_add_test(tc, test_form_semicolon_not_separator);
	tcase_add_test(tc, test_form_nul);
	tcase_add_test(tc, test_form_malformed);
	tcase_add_test(tc, test_form_error_restores);
	tcase_add_test(tc, test_form_unsafe_names);
	tcase_add_test(tc, test_form_skipped_dont_count);
	tcase_add_test(tc, test_form_too_many);
	tcase_add_test(tc, test_form_nomem);
	tcase_add_test(tc, test_form_len_respected);
	tcase_add_test(tc, test_form_huge);
	tcase_add_test(tc, test_form_hostile_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("url_encode");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_url_encode);
	tcase_add_test(tc, test_url_encode_cap);
	tcase_add_test(tc, test_url_encode_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("cookie");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cookie_basic);
	tcase_add_test(tc, test_cookie_quotes_spaces);
	tcase_add_test(tc, test_cookie_junk);
	tcase_add_test(tc, test_cookie_repeated);
	tcase_add_test(tc, test_cookie_too_many);
	tcase_add_test(tc, test_cookie_nomem);
	suite_add_tcase(s, tc);

	tc = tcase_create("multipart");
	tcase_add_checked_fixture(tc, setup, mp_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_mp_text_and_file);
	tcase_add_test(tc, test_mp_crlf_and_near_delimiters);
	tcase_add_test(tc, test_mp_binary);
	tcase_add_test(tc, test_mp_empty_file);
	tcase_add_test(tc, test_mp_boundary_forms);
	tcase_add_test(tc, test_mp_boundary_bad);
	tcase_add_test(tc, test_mp_boundary_length);
	tcase_add_test(tc, test_mp_preamble_epilogue_padding);
	tcase_add_test(tc, test_mp_no_parts);
	tcase_add_test(tc, test_mp_header_forms);
	tcase_add_test(tc, test_mp_unsafe_names_skipped);
	tcase_add_test(tc, test_mp_too_many);
	tcase_add_test(tc, test_mp_header_cap);
	tcase_add_test(tc, test_mp_nomem);
	tcase_add_test(tc, test_mp_huge_linear);
	tcase_add_test(tc, test_mp_hostile_table);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(params_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
