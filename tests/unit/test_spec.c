/* test_spec.c: feature specs: compilation errors, every transform, datetime arithmetic, hostile inputs, threads. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* JSON with ' for " so the tables stay readable. Caller decrefs. */
static json_t *
J(const char *text)
{
	char buf[8192];
	json_error_t e;
	json_t *j;
	size_t n = strlen(text);

	ck_assert_uint_lt(n, sizeof(buf));
	for (size_t i = 0; i <= n; i++)
		buf[i] = text[i] == '\'' ? '"' : text[i];
	j = json_loads(buf, 0, &e);
	ck_assert_msg(j != NULL, "bad test JSON: %s: %s", buf, e.text);
	return j;
}

static struct spec *
S(const char *text)
{
	char err[SPEC_ERR_MAX];
	json_t *j = J(text);
	struct spec *s = spec_parse(j, err, sizeof(err));

	ck_assert_msg(s != NULL, "spec failed: %s", err);
	json_decref(j);
	return s;
}

/* The example spec of spec.h. */
static const char example[] =
    "{'task':'binary','classes':['on_time','late'],'threshold':0.5,"
    "'unknown_category':'missing','inputs':["
    "{'name':'distance','type':'number','required':true},"
    "{'name':'passengers','type':'integer','default':1},"
    "{'name':'express','type':'boolean'},"
    "{'name':'origin','type':'category','required':true,'unknown':'error'},"
    "{'name':'date','type':'datetime','format':'%Y-%m-%d %H:%M','timezone':'UTC'}],"
    "'features':[{'input':'distance'},{'input':'passengers','transform':'passthrough'},"
    "{'input':'express'},"
    "{'input':'origin','transform':'one_hot','categories':['LAX','JFK','SFO']},"
    "{'input':'origin','transform':'ordinal','map':{'LAX':0,'JFK':1,'SFO':2}},"
    "{'input':'origin','transform':'frequency','map':{'LAX':0.41,'JFK':0.33}},"
    "{'input':'date','transform':'datetime',"
    "'parts':['hour','day_of_week','month','is_weekend']}]}";

/* Transforms text with s; returns the rc, err in err. */
static int
T(const struct spec *s, const char *text, int lax, float *out, char *err, size_t errlen)
{
	json_t *j = J(text);
	int rc = spec_transform(s, j, lax, out, err, errlen);

	json_decref(j);
	return rc;
}

#define ASSERT_NAN(x) ck_assert_msg(isnan(x), "%s = %g, expected NaN", #x, (double)(x))

START_TEST(example_spec)
{
	struct spec *s = S(example);
	float out[12];
	char err[SPEC_ERR_MAX];
	const char *const *cats;
	static const char *names[] = { "distance", "passengers", "express", "origin=LAX",
	    "origin=JFK", "origin=SFO", "origin.ordinal", "origin.frequency", "date.hour",
	    "date.day_of_week", "date.month", "date.is_weekend" };
	static const size_t from[] = { 0, 1, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4 };

	ck_assert_uint_eq(spec_width(s), 12);
	ck_assert_int_eq(spec_task(s), SPEC_BINARY);
	ck_assert_uint_eq(spec_nclasses(s), 2);
	ck_assert_str_eq(spec_class_label(s, 0), "on_time");
	ck_assert_str_eq(spec_class_label(s, 1), "late");
	ck_assert(spec_threshold(s) == 0.5);
	ck_assert_uint_eq(spec_ninputs(s), 5);
	ck_assert_str_eq(spec_input_name(s, 3), "origin");
	ck_assert_str_eq(spec_input_type(s, 0), "number");
	ck_assert_str_eq(spec_input_type(s, 1), "integer");
	ck_assert_str_eq(spec_input_type(s, 2), "boolean");
	ck_assert_str_eq(spec_input_type(s, 3), "category");
	ck_assert_str_eq(spec_input_type(s, 4), "datetime");
	ck_assert_int_eq(spec_input_required(s, 0), 1);
	ck_assert_int_eq(spec_input_required(s, 1), 0);
	ck_assert_int_eq(spec_input_index(s, "date"), 4);
	ck_assert_int_eq(spec_input_index(s, "nope"), -1);
	ck_assert(json_integer_value(spec_input_default(s, 1)) == 1);
	ck_assert_ptr_null(spec_input_default(s, 0));
	ck_assert_uint_eq(spec_input_categories(s, 3, &cats), 3);
	ck_assert_str_eq(cats[0], "LAX");
	ck_assert_str_eq(cats[2], "SFO");
	ck_assert_uint_eq(spec_input_categories(s, 0, &cats), 0);
	ck_assert_ptr_null(cats);
	for (size_t i = 0; i < 12; i++) {
		ck_assert_str_eq(spec_feature_name(s, i), names[i]);
		ck_assert_uint_eq(spec_feature_input(s, i), from[i]);
	}

	ck_assert_int_eq(T(s, "{'date':'2024-10-02 09:00','origin':'LAX','distance':2475}",
	    0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 2475);
	ck_assert(out[1] == 1);         /* default */
	ASSERT_NAN(out[2]);              /* missing boolean */
	ck_assert(out[3] == 1 && out[4] == 0 && out[5] == 0);
	ck_assert(out[6] == 0);
	ck_assert(out[7] == 0.41f);
	ck_assert(out[8] == 9 && out[9] == 2 && out[10] == 10 && out[11] == 0);

	/* SFO is known (one_hot, ordinal) but not in the frequency map: NaN there. */
	ck_assert_int_eq(T(s, "{'origin':'SFO','distance':'12.5','passengers':'3',"
	    "'express':true}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 12.5f && out[1] == 3 && out[2] == 1);
	ck_assert(out[3] == 0 && out[4] == 0 && out[5] == 1 && out[6] == 2);
	ASSERT_NAN(out[7]);
	for (int i = 8; i < 12; i++)
		ASSERT_NAN(out[i]);
	ck_assert_int_eq(T(s, "{'origin':'ORD','distance':1}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'origin': unknown category 'ORD'; allowed: 'LAX', 'JFK', "
	    "'SFO'");
	spec_free(s);
}
END_TEST

/* Datetime parts for known dates, formats and zones. */
START_TEST(datetime_parts)
{
	static const struct {
		const char *format, *tz, *in;
		float y, mo, d, h, mod, dow, doy, we;
	} cases[] = {
		{ "%Y-%m-%d %H:%M", "UTC", "2024-10-02 09:00", 2024, 10, 2, 9, 540, 2, 276, 0 },
		{ NULL, "UTC", "2024-10-02T09:00", 2024, 10, 2, 9, 540, 2, 276, 0 },
		{ NULL, "UTC", "2024-10-02 09:00:59", 2024, 10, 2, 9, 540, 2, 276, 0 },
		{ NULL, "UTC", "2024-10-02", 2024, 10, 2, 0, 0, 2, 276, 0 },
		{ NULL, "UTC", "2024-12-31T23:59:59Z", 2024, 12, 31, 23, 1439, 1, 366, 0 },
		{ NULL, "UTC", "2023-12-31", 2023, 12, 31, 0, 0, 6, 365, 1 },
		{ NULL, "UTC", "2024-02-29", 2024, 2, 29, 0, 0, 3, 60, 0 },
		{ NULL, "UTC", "2000-02-29", 2000, 2, 29, 0, 0, 1, 60, 0 },
		{ NULL, "UTC", "2024-03-01", 2024, 3, 1, 0, 0, 4, 61, 0 },
		{ NULL, "UTC", "2023-03-01", 2023, 3, 1, 0, 0, 2, 60, 0 },
		{ NULL, "UTC", "1970-01-01", 1970, 1, 1, 0, 0, 3, 1, 0 },
		{ NULL, "UTC", "1969-12-31T23:00:00", 1969, 12, 31, 23, 1380, 2, 365, 0 },
		{ NULL, "UTC", "2024-10-05", 2024, 10, 5, 0, 0, 5, 279, 1 },
		{ NULL, "UTC", "2024-10-06", 2024, 10, 6, 0, 0, 6, 280, 1 },
		{ NULL, "UTC", "2024-10-07", 2024, 10, 7, 0, 0, 0, 281, 0 },
		/* An offset in the value converts into the declared zone. */
		{ NULL, "-05:00", "2024-10-02T01:30:00+02:00", 2024, 10, 1, 18, 1110, 1, 275, 0 },
		{ NULL, "UTC", "2024-10-02T01:30:00+02:00", 2024, 10, 1, 23, 1410, 1, 275, 0 },
		{ NULL, "+02:00", "2024-10-01T23:30:00Z", 2024, 10, 2, 1, 90, 2, 276, 0 },
		{ NULL, "UTC", "2025-01-01T00:30:00+01:00", 2024, 12, 31, 23, 1410, 1, 366, 0 },
		{ NULL, "+14:00", "2024-12-31T12:00:00.123456Z", 2025, 1, 1, 2, 120, 2, 1, 0 },
		/* Without an offset the value is local time of the declared zone. */
		{ NULL, "-05:00", "2024-10-02T09:00", 2024, 10, 2, 9, 540, 2, 276, 0 },
		{ "%d/%m/%Y %H:%M %z", "UTC", "02/10/2024 23:30 -0100", 2024, 10, 3, 0, 30, 3, 277, 0 },
		{ "%d/%m/%Y %H:%M %z", "UTC", "2/1/2024 3:07 +05:30", 2024, 1, 1, 21, 1297, 0, 1, 0 },
		{ "%FT%T", "UTC", "2024-07-14T12:34:56", 2024, 7, 14, 12, 754, 6, 196, 1 },
		{ "%Y%m%d%H%M%S", "UTC", "20241002090000", 2024, 10, 2, 9, 540, 2, 276, 0 },
		{ "100%% %Y.%m.%d", "UTC", "100% 2024.10.02", 2024, 10, 2, 0, 0, 2, 276, 0 },
		{ NULL, "UTC", "0001-01-01", 1, 1, 1, 0, 0, 0, 1, 0 },
		{ NULL, "UTC", "9999-12-31T23:59", 9999, 12, 31, 23, 1439, 4, 365, 0 },
	};

	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		char text[1024], fmt[128] = "", err[SPEC_ERR_MAX];
		float out[8];
		struct spec *s;

		if (cases[c].format != NULL)
			snprintf(fmt, sizeof(fmt), "'format':'%s',", cases[c].format);
		snprintf(text, sizeof(text), "{'task':'regression','inputs':[{'name':'t',"
		    "'type':'datetime',%s'timezone':'%s'}],'features':[{'input':'t',"
		    "'transform':'datetime','parts':['year','month','day','hour',"
		    "'minute_of_day','day_of_week','day_of_year','is_weekend']}]}",
		    fmt, cases[c].tz);
		s = S(text);
		snprintf(text, sizeof(text), "{'t':'%s'}", cases[c].in);
		ck_assert_msg(T(s, text, 0, out, err, sizeof(err)) == 0, "case %zu: %s", c, err);
		ck_assert_msg(out[0] == cases[c].y && out[1] == cases[c].mo &&
		    out[2] == cases[c].d && out[3] == cases[c].h && out[4] == cases[c].mod &&
		    out[5] == cases[c].dow && out[6] == cases[c].doy && out[7] == cases[c].we,
		    "case %zu (%s): got %g-%g-%g h%g mod%g dow%g doy%g we%g", c, cases[c].in,
		    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7]);
		ck_assert_str_eq(spec_feature_name(s, 6), "t.day_of_year");
		spec_free(s);
	}
}
END_TEST

START_TEST(datetime_garbage)
{
	static const char *const iso[] = {
		"2024-13-01", "2024-00-10", "2024-02-30", "2023-02-29", "1900-02-29",
		"2024-10-32", "2024-10-02T24:00", "2024-10-02T23:60", "2024-10-02T23:59:60",
		"2024-10-02T09", "2024-10-02T09:00:", "2024-10-02T09:00:00.", "24-10-02",
		"2024-1-02", "2024-10-2", "2024/10/02", "2024-10-02X09:00", "2024-10-02Z",
		"2024-10-02T09:00+2", "2024-10-02T09:00+24:00", "2024-10-02T09:00+02:60",
		"2024-10-02T09:00Zjunk", " 2024-10-02", "2024-10-02 ", "", "yesterday",
		"２０２４-10-02", "2024-10-02T09:00:00+02:00:00", "-2024-10-02",
	};
	static const char *const fmt[] = {
		"2024-13-45 25:61", "2024-10-02", "2024-10-02 09:00 ", "2024-10-02 9",
		"2024-10-02T09:00", "20241-10-02 09:00", "2024-10-02 09:000", "2024-10-02 -9:00",
	};
	struct spec *a = S("{'task':'regression','inputs':[{'name':'t','type':'datetime'}],"
	    "'features':[{'input':'t','transform':'datetime','parts':['hour']}]}");
	struct spec *b = S("{'task':'regression','inputs':[{'name':'t','type':'datetime',"
	    "'format':'%Y-%m-%d %H:%M'}],'features':[{'input':'t','transform':'datetime',"
	    "'parts':['hour']}]}");
	char text[256], err[SPEC_ERR_MAX], want[256];
	float out[1];

	for (size_t c = 0; c < ARRAY_LEN(iso); c++) {
		snprintf(text, sizeof(text), "{'t':'%s'}", iso[c]);
		ck_assert_msg(T(a, text, 0, out, err, sizeof(err)) == -1, "accepted %s", iso[c]);
		snprintf(want, sizeof(want), "field 't': expected an ISO 8601 datetime like "
		    "'2024-10-02T09:00:00Z', got '%s'", iso[c]);
		ck_assert_str_eq(err, want);
	}
	for (size_t c = 0; c < ARRAY_LEN(fmt); c++) {
		snprintf(text, sizeof(text), "{'t':'%s'}", fmt[c]);
		ck_assert_msg(T(b, text, 0, out, err, sizeof(err)) == -1, "accepted %s", fmt[c]);
		snprintf(want, sizeof(want), "field 't': expected a datetime like "
		    "'%%Y-%%m-%%d %%H:%%M', got '%s'", fmt[c]);
		ck_assert_str_eq(err, want);
	}
	ck_assert_int_eq(T(b, "{'t':1727859600}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 't': expected a datetime like '%Y-%m-%d %H:%M', "
	    "got 1727859600");
	spec_free(a);
	spec_free(b);
}
END_TEST

static const char policy_spec[] =
    "{'task':'regression','unknown_category':'%s','inputs':["
    "{'name':'c','type':'category'%s}],'features':["
    "{'input':'c','transform':'one_hot','categories':['a','b']},"
    "{'input':'c','transform':'ordinal','map':{'a':1,'b':2}},"
    "{'input':'c','transform':'frequency','map':{'a':0.25,'b':0.75}}]}";

static struct spec *
policy(const char *top, const char *per_input)
{
	char text[1024];

	snprintf(text, sizeof(text), policy_spec, top, per_input);
	return S(text);
}

START_TEST(unknown_policies)
{
	char err[SPEC_ERR_MAX];
	float out[6];
	struct spec *s;

	/* missing: NaN in every column of the feature. */
	s = policy("missing", "");
	ck_assert_uint_eq(spec_width(s), 4);
	ck_assert_int_eq(T(s, "{'c':'zz'}", 0, out, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++)
		ASSERT_NAN(out[i]);
	ck_assert_int_eq(T(s, "{'c':'b'}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 0 && out[1] == 1 && out[2] == 2 && out[3] == 0.75f);
	ck_assert_int_eq(T(s, "{}", 0, out, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++)
		ASSERT_NAN(out[i]);
	ck_assert_int_eq(T(s, "{'c':null}", 0, out, err, sizeof(err)), 0);
	ASSERT_NAN(out[0]);
	spec_free(s);

	/* other: a trailing column; ordinal and frequency give NaN. */
	s = policy("missing", ",'unknown':'other'");
	ck_assert_uint_eq(spec_width(s), 5);
	ck_assert_str_eq(spec_feature_name(s, 2), "c=(other)");
	ck_assert_str_eq(spec_feature_name(s, 3), "c.ordinal");
	ck_assert_str_eq(spec_feature_name(s, 4), "c.frequency");
	ck_assert_uint_eq(spec_feature_input(s, 4), 0);
	ck_assert_int_eq(T(s, "{'c':'zz'}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 0 && out[1] == 0 && out[2] == 1);
	ASSERT_NAN(out[3]);
	ASSERT_NAN(out[4]);
	ck_assert_int_eq(T(s, "{'c':'a'}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 1 && out[4] == 0.25f);
	ck_assert_int_eq(T(s, "{}", 0, out, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++)
		ASSERT_NAN(out[i]);
	spec_free(s);

	/* error at the top level, overridden per input, and the other way round. */
	s = policy("other", ",'unknown':'error'");
	ck_assert_uint_eq(spec_width(s), 4);
	ck_assert_int_eq(T(s, "{'c':'zz'}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'c': unknown category 'zz'; allowed: 'a', 'b'");
	ck_assert_int_eq(T(s, "{'c':'A'}", 0, out, err, sizeof(err)), -1);   /* exact bytes */
	spec_free(s);
	s = policy("error", "");
	ck_assert_int_eq(T(s, "{'c':'zz'}", 0, out, err, sizeof(err)), -1);
	spec_free(s);
	s = policy("error", ",'unknown':'missing'");
	ck_assert_int_eq(T(s, "{'c':'zz'}", 0, out, err, sizeof(err)), 0);
	spec_free(s);
}
END_TEST

/* A value one feature lists and another does not: known, so no error. */
START_TEST(known_by_another_feature)
{
	char err[SPEC_ERR_MAX];
	float out[4];
	struct spec *s = S("{'task':'regression','unknown_category':'error','inputs':["
	    "{'name':'c','type':'category'}],'features':["
	    "{'input':'c','transform':'one_hot','categories':['a','b']},"
	    "{'input':'c','transform':'frequency','map':{'b':0.5,'c':0.25}}]}");
	const char *const *cats;

	ck_assert_int_eq(T(s, "{'c':'c'}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 0 && out[1] == 0 && out[2] == 0.25f);
	ck_assert_int_eq(T(s, "{'c':'a'}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 1 && out[1] == 0);
	ASSERT_NAN(out[2]);
	ck_assert_int_eq(T(s, "{'c':'d'}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'c': unknown category 'd'; allowed: 'a', 'b', 'c'");
	ck_assert_uint_eq(spec_input_categories(s, 0, &cats), 2);
	ck_assert_str_eq(cats[1], "b");
	spec_free(s);
}
END_TEST

static const char types_spec[] =
    "{'task':'regression','inputs':["
    "{'name':'n','type':'number'},{'name':'i','type':'integer'},"
    "{'name':'b','type':'boolean'},{'name':'c','type':'category'}],"
    "'features':[{'input':'n'},{'input':'i'},{'input':'b'},"
    "{'input':'c','transform':'ordinal','map':{'90210':1,'-3':2,'1.5':3,'x':4,'1e+20':5,"
    "'0.1':6}}]}";

/* Coercions that succeed: value → expected column. */
START_TEST(coercion)
{
	static const struct { const char *in; size_t col; float want; } cases[] = {
		{ "{'n':3.5}", 0, 3.5f }, { "{'n':'3.5'}", 0, 3.5f }, { "{'n':'-2e3'}", 0, -2000 },
		{ "{'n':7}", 0, 7 }, { "{'n':'.5'}", 0, 0.5f }, { "{'n':'1e-400'}", 0, 0 },
		{ "{'n':3.4e38}", 0, 3.4e38f },
		{ "{'i':42}", 1, 42 }, { "{'i':'42'}", 1, 42 }, { "{'i':'-7'}", 1, -7 },
		{ "{'i':4.0}", 1, 4 }, { "{'i':'007'}", 1, 7 },
		{ "{'i':'00000000000000000000000000001'}", 1, 1 },
		{ "{'i':'9223372036854775807'}", 1, 9223372036854775807.0f },
		{ "{'i':'-9223372036854775808'}", 1, -9223372036854775807.0f },
		{ "{'i':-9223372036854775808}", 1, -9223372036854775807.0f },
		{ "{'b':true}", 2, 1 }, { "{'b':false}", 2, 0 }, { "{'b':'true'}", 2, 1 },
		{ "{'b':'false'}", 2, 0 }, { "{'b':'1'}", 2, 1 }, { "{'b':'0'}", 2, 0 },
		{ "{'b':1}", 2, 1 }, { "{'b':0}", 2, 0 }, { "{'b':1.0}", 2, 1 },
		{ "{'c':90210}", 3, 1 }, { "{'c':90210.0}", 3, 1 }, { "{'c':'90210'}", 3, 1 },
		{ "{'c':-3}", 3, 2 }, { "{'c':1.5}", 3, 3 }, { "{'c':'x'}", 3, 4 },
		{ "{'c':1e20}", 3, 5 }, { "{'c':0.1}", 3, 6 },
	};
	struct spec *s = S(types_spec);
	char err[SPEC_ERR_MAX];
	float out[4];

	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		ck_assert_msg(T(s, cases[c].in, 0, out, err, sizeof(err)) == 0, "%s: %s",
		    cases[c].in, err);
		ck_assert_msg(out[cases[c].col] == cases[c].want, "%s: got %g", cases[c].in,
		    (double)out[cases[c].col]);
	}
	spec_free(s);
}
END_TEST

/* Hostile raw inputs: every message names the field and what was expected. */
START_TEST(transform_errors)
{
	static const struct { const char *in, *msg; } cases[] = {
		{ "[]", "field 'inputs': expected a JSON object" },
		{ "{'n':'abc'}", "field 'n': expected a number, got 'abc'" },
		{ "{'n':''}", "field 'n': expected a number, got ''" },
		{ "{'n':' 5'}", "field 'n': expected a number, got ' 5'" },
		{ "{'n':'5 '}", "field 'n': expected a number, got '5 '" },
		{ "{'n':'nan'}", "field 'n': expected a number, got 'nan'" },
		{ "{'n':'inf'}", "field 'n': expected a number, got 'inf'" },
		{ "{'n':'0x10'}", "field 'n': expected a number, got '0x10'" },
		{ "{'n':'1e999'}", "field 'n': expected a number, got '1e999'" },
		{ "{'n':'1.2.3'}", "field 'n': expected a number, got '1.2.3'" },
		{ "{'n':'--1'}", "field 'n': expected a number, got '--1'" },
		{ "{'n':true}", "field 'n': expected a number, got true" },
		{ "{'n':[1]}", "field 'n': expected a number, got an array" },
		{ "{'n':{'v':1}}", "field 'n': expected a number, got an object" },
		{ "{'n':1e39}", "field 'n': expected a number between -3.4e38 and 3.4e38, got 1e+39" },
		{ "{'n':'-1e39'}", "field 'n': expected a number between -3.4e38 and 3.4e38, "
		    "got '-1e39'" },
		{ "{'i':1.5}", "field 'i': expected an integer, got 1.5" },
		{ "{'i':'1.0'}", "field 'i': expected an integer, got '1.0'" },
		{ "{'i':'+1'}", "field 'i': expected an integer, got '+1'" },
		{ "{'i':'-'}", "field 'i': expected an integer, got '-'" },
		{ "{'i':''}", "field 'i': expected an integer, got ''" },
		{ "{'i':'1 '}", "field 'i': expected an integer, got '1 '" },
		{ "{'i':false}", "field 'i': expected an integer, got false" },
		{ "{'i':'9223372036854775808'}", "field 'i': integer out of range, "
		    "got '9223372036854775808'" },
		{ "{'i':'-9223372036854775809'}", "field 'i': integer out of range, "
		    "got '-9223372036854775809'" },
		{ "{'i':'99999999999999999999999'}", "field 'i': integer out of range, "
		    "got '99999999999999999999999'" },
		{ "{'i':1e19}", "field 'i': integer out of range, got 1e+19" },
		{ "{'i':-1e300}", "field 'i': integer out of range, got -1e+300" },
		{ "{'b':'yes'}", "field 'b': expected true or false, got 'yes'" },
		{ "{'b':'TRUE'}", "field 'b': expected true or false, got 'TRUE'" },
		{ "{'b':2}", "field 'b': expected true or false, got 2" },
		{ "{'b':0.5}", "field 'b': expected true or false, got 0.5" },
		{ "{'b':[]}", "field 'b': expected true or false, got an array" },
		{ "{'c':true}", "field 'c': expected a string, got true" },
		{ "{'c':['x']}", "field 'c': expected a string, got an array" },
		{ "{'zz':1}", "unknown field 'zz'" },
		{ "{'n':1,'N':1}", "unknown field 'N'" },
		{ "{'n\\u00e9':1}", "unknown field 'n\xc3\xa9'" },
		{ "{'a\\tb':1}", "unknown field 'a?b'" },
	};
	struct spec *s = S(types_spec);
	char err[SPEC_ERR_MAX];
	float out[4];

	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		ck_assert_msg(T(s, cases[c].in, 0, out, err, sizeof(err)) == -1, "accepted %s",
		    cases[c].in);
		ck_assert_str_eq(err, cases[c].msg);
		ck_assert(utf8_valid(err, strlen(err)));
	}
	spec_free(s);
}
END_TEST

/* Values built in C: NUL bytes, invalid UTF-8, megabyte strings. */
START_TEST(hostile_strings)
{
	struct spec *s = S(types_spec);
	struct spec *e = S("{'task':'regression','inputs':[{'name':'c','type':'category',"
	    "'unknown':'error'}],'features':[{'input':'c','transform':'one_hot',"
	    "'categories':['\xc3\xa9t\xc3\xa9','b']}]}");
	char err[SPEC_ERR_MAX], small[40];
	float out[4];
	json_t *o = json_object();
	size_t big = 1 << 20;
	char *huge = malloc(big);

	json_object_set_new(o, "c", json_stringn("LA\0X", 4));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'c': expected valid UTF-8 text without NUL bytes");
	json_object_set_new(o, "c", json_stringn_nocheck("\xff\xfe", 2));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'c': expected valid UTF-8 text without NUL bytes");
	json_object_del(o, "c");
	json_object_set_new(o, "n", json_stringn("1\0", 2));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'n': expected a number, got '1?'");
	json_object_set_new(o, "n", json_stringn_nocheck("1\xff", 2));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'n': expected a number, got '1?'");
	json_object_set_new(o, "n", json_stringn("12\0", 3));
	json_object_del(o, "n");
	json_object_set_new(o, "i", json_stringn("12\0", 3));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'i': expected an integer, got '12?'");
	json_object_del(o, "i");

	/* A megabyte of 'é': the echo stops at 64 bytes on a character boundary. */
	for (size_t k = 0; k + 1 < big; k += 2)
		memcpy(huge + k, "\xc3\xa9", 2);
	json_object_set_new(o, "c", json_stringn(huge, big));
	ck_assert_int_eq(spec_transform(e, o, 0, out, err, sizeof(err)), -1);
	ck_assert(utf8_valid(err, strlen(err)));
	ck_assert_uint_lt(strlen(err), 200);
	ck_assert_ptr_nonnull(strstr(err, "\xc3\xa9\xe2\x80\xa6'; allowed: "
	    "'\xc3\xa9t\xc3\xa9', 'b'"));
	json_object_set_new(o, "c", json_stringn(huge, big));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), 0);   /* missing */
	json_object_del(o, "c");
	json_object_set_new(o, "n", json_stringn(huge, big));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert(utf8_valid(err, strlen(err)));
	ck_assert_uint_lt(strlen(err), 200);
	json_object_del(o, "n");
	/* A megabyte key. */
	memset(huge, 'k', big - 1);
	huge[big - 1] = '\0';
	json_object_set_new(o, huge, json_integer(1));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert_uint_lt(strlen(err), 120);
	ck_assert_int_eq(spec_transform(s, o, 1, out, err, sizeof(err)), 0);
	json_object_del(o, huge);
	/* Invalid UTF-8 and NUL in a key. */
	json_object_setn_new_nocheck(o, "a\xff\0z", 4, json_integer(1));
	ck_assert_int_eq(spec_transform(s, o, 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown field 'a??z'");
	json_object_deln(o, "a\xff\0z", 4);

	/* A short buffer never cuts a character in two. */
	json_object_set_new(o, "c", json_string("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
	for (size_t n = 1; n <= sizeof(small); n++) {
		ck_assert_int_eq(spec_transform(e, o, 0, out, small, n), -1);
		ck_assert_uint_lt(strlen(small), n);
		ck_assert_msg(utf8_valid(small, strlen(small)), "cut at %zu", n);
	}
	ck_assert_int_eq(spec_transform(e, o, 0, out, NULL, 0), -1);
	json_decref(o);
	free(huge);
	spec_free(s);
	spec_free(e);
}
END_TEST

START_TEST(defaults_required_lax)
{
	struct spec *s = S("{'task':'regression','inputs':["
	    "{'name':'n','type':'number','default':'2.5'},"
	    "{'name':'i','type':'integer','default':'-4'},"
	    "{'name':'b','type':'boolean','default':'true'},"
	    "{'name':'c','type':'category','default':7,'unknown':'error'},"
	    "{'name':'d','type':'datetime','default':'2024-10-05T10:00:00+02:00',"
	    "'timezone':'UTC'},"
	    "{'name':'r','type':'number','required':true},"
	    "{'name':'unused','type':'integer'}],"
	    "'features':[{'input':'n'},{'input':'i'},{'input':'b'},"
	    "{'input':'c','transform':'one_hot','categories':['7','8']},"
	    "{'input':'d','transform':'datetime','parts':['hour','is_weekend']},"
	    "{'input':'r'}]}");
	char err[SPEC_ERR_MAX];
	float out[8];

	ck_assert_uint_eq(spec_width(s), 8);
	ck_assert_int_eq(T(s, "{'r':1}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 2.5f && out[1] == -4 && out[2] == 1 && out[3] == 1 &&
	    out[4] == 0 && out[5] == 8 && out[6] == 1 && out[7] == 1);
	ck_assert_str_eq(json_string_value(spec_input_default(s, 0)), "2.5");
	ck_assert_int_eq(T(s, "{'r':1,'n':null,'c':null}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 2.5f && out[3] == 1);
	ck_assert_int_eq(T(s, "{'r':1,'n':9,'c':'8'}", 0, out, err, sizeof(err)), 0);
	ck_assert(out[0] == 9 && out[3] == 0 && out[4] == 1);
	ck_assert_int_eq(T(s, "{}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'r': required");
	ck_assert_int_eq(T(s, "{'r':null}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'r': required");
	/* An unused input is still checked. */
	ck_assert_int_eq(T(s, "{'r':1,'unused':'x'}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'unused': expected an integer, got 'x'");
	/* Unknown fields: an error, unless lax; unknown fields are checked first. */
	ck_assert_int_eq(T(s, "{'r':1,'extra':1}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown field 'extra'");
	ck_assert_int_eq(T(s, "{'extra':1}", 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown field 'extra'");
	ck_assert_int_eq(T(s, "{'r':1,'extra':{'deep':[1]}}", 1, out, err, sizeof(err)), 0);
	ck_assert(out[7] == 1);
	ck_assert_int_eq(T(s, "{'extra':1}", 1, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'r': required");
	spec_free(s);
}
END_TEST

/* Every compile error says where. Substring match: the message starts "spec: ". */
START_TEST(spec_errors)
{
#define IN "'inputs':[{'name':'x','type':'number'},{'name':'c','type':'category'}," \
	"{'name':'t','type':'datetime'}]"
#define FX "'features':[{'input':'x'}]"
	static const struct { const char *spec, *msg; } cases[] = {
		{ "[]", "spec: expected a JSON object" },
		{ "{" IN "," FX "}", "spec: task: expected regression, binary or multiclass" },
		{ "{'task':'ranking'," IN "," FX "}", "spec: task: expected" },
		{ "{'task':1," IN "," FX "}", "spec: task: expected" },
		{ "{'task':'regression','featurs':[]," IN "," FX "}", "spec: unknown key 'featurs'" },
		{ "{'task':'regression','description':1," IN "," FX "}",
		    "spec: description: expected a string" },
		{ "{'task':'regression','classes':['a','b']," IN "," FX "}",
		    "spec: classes: not allowed for task 'regression'" },
		{ "{'task':'binary'," IN "," FX "}", "spec: classes: expected a list of exactly 2" },
		{ "{'task':'binary','classes':['a','b','c']," IN "," FX "}",
		    "spec: classes: expected a list of exactly 2 class labels" },
		{ "{'task':'multiclass','classes':['a']," IN "," FX "}",
		    "spec: classes: expected a list of at least 2 class labels" },
		{ "{'task':'multiclass','classes':'abc'," IN "," FX "}",
		    "spec: classes: expected a list of at least 2" },
		{ "{'task':'multiclass','classes':['a','b','a']," IN "," FX "}",
		    "spec: classes[2]: duplicate label 'a'" },
		{ "{'task':'binary','classes':['a','']," IN "," FX "}",
		    "spec: classes[1]: expected a non-empty string" },
		{ "{'task':'binary','classes':['a',2]," IN "," FX "}",
		    "spec: classes[1]: expected a non-empty string" },
		{ "{'task':'binary','classes':['a','b'],'threshold':1," IN "," FX "}",
		    "spec: threshold: expected a number between 0 and 1 (exclusive)" },
		{ "{'task':'binary','classes':['a','b'],'threshold':0," IN "," FX "}",
		    "spec: threshold: expected a number between 0 and 1" },
		{ "{'task':'binary','classes':['a','b'],'threshold':'0.5'," IN "," FX "}",
		    "spec: threshold: expected a number between 0 and 1" },
		{ "{'task':'regression','threshold':0.5," IN "," FX "}",
		    "spec: threshold: only for task 'binary'" },
		{ "{'task':'regression','unknown_category':'drop'," IN "," FX "}",
		    "spec: unknown_category: expected error, missing or other" },
		{ "{'task':'regression'," FX "}", "spec: inputs: expected a list of 1 to 1000 inputs" },
		{ "{'task':'regression','inputs':[]," FX "}", "spec: inputs: expected a list" },
		{ "{'task':'regression','inputs':{}," FX "}", "spec: inputs: expected a list" },
		{ "{'task':'regression','inputs':[1]," FX "}", "spec: inputs[0]: expected an object" },
		{ "{'task':'regression','inputs':[{'type':'number'}]," FX "}",
		    "spec: inputs[0]: name: expected a name matching [A-Za-z_][A-Za-z0-9_.-]{0,63}" },
		{ "{'task':'regression','inputs':[{'name':'1x','type':'number'}]," FX "}",
		    "spec: inputs[0]: name: expected a name matching" },
		{ "{'task':'regression','inputs':[{'name':'a b','type':'number'}]," FX "}",
		    "spec: inputs[0]: name: expected a name matching" },
		{ "{'task':'regression','inputs':[{'name':'','type':'number'}]," FX "}",
		    "spec: inputs[0]: name: expected a name matching" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},"
		    "{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
		    "'type':'number'}]," FX "}", "spec: inputs[1]: name: expected a name" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},"
		    "{'name':'x','type':'integer'}]," FX "}",
		    "spec: inputs[1]: duplicate name 'x'" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'string'}]," FX "}",
		    "spec: inputs[0] 'x': type: expected number, integer, boolean, category or "
		    "datetime" },
		{ "{'task':'regression','inputs':[{'name':'x'}]," FX "}",
		    "spec: inputs[0] 'x': type: expected" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','requried':true}],"
		    FX "}", "spec: inputs[0]: unknown key 'requried'" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','required':1}],"
		    FX "}", "spec: inputs[0] 'x': required: expected true or false" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','required':true,"
		    "'default':1}]," FX "}",
		    "spec: inputs[0] 'x': default: not allowed on a required input" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','default':null}],"
		    FX "}", "spec: inputs[0] 'x': default: must not be null" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','default':'abc'}],"
		    FX "}", "spec: inputs[0] 'x': default: field 'x': expected a number, got 'abc'" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'integer','default':1.5}],"
		    FX "}", "spec: inputs[0] 'x': default: field 'x': expected an integer" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','default':'2024-02-30'}]," FX "}",
		    "spec: inputs[1] 't': default: field 't': expected an ISO 8601 datetime" },
		{ "{'task':'regression','inputs':[{'name':'c','type':'category','default':'z',"
		    "'unknown':'error'}],'features':[{'input':'c','transform':'one_hot',"
		    "'categories':['a']}]}",
		    "spec: inputs[0] 'c': default: field 'c': unknown category 'z'; allowed: 'a'" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','unknown':'error'}],"
		    FX "}", "spec: inputs[0] 'x': unknown: only for category inputs" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},"
		    "{'name':'c','type':'category','unknown':'drop'}]," FX "}",
		    "spec: inputs[1] 'c': unknown: expected error, missing or other" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','format':'%Y'}],"
		    FX "}", "spec: inputs[0] 'x': format: only for datetime inputs" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number','timezone':'UTC'}],"
		    FX "}", "spec: inputs[0] 'x': timezone: only for datetime inputs" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','format':'%Y-%m-%d %Q'}]," FX "}",
		    "spec: inputs[1] 't': format: expected a format" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','format':'%H:%M'}]," FX "}",
		    "spec: inputs[1] 't': format: expected a format" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','format':'%F %'}]," FX "}",
		    "spec: inputs[1] 't': format: expected a format" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','format':7}]," FX "}",
		    "spec: inputs[1] 't': format: expected a format" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','timezone':'PST'}]," FX "}",
		    "spec: inputs[1] 't': timezone: expected \"UTC\", \"+HH:MM\" or \"-HH:MM\"" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','timezone':'+0200'}]," FX "}",
		    "spec: inputs[1] 't': timezone: expected" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','timezone':'+24:00'}]," FX "}",
		    "spec: inputs[1] 't': timezone: expected" },
		{ "{'task':'regression','inputs':[{'name':'x','type':'number'},{'name':'t',"
		    "'type':'datetime','timezone':'Z'}]," FX "}",
		    "spec: inputs[1] 't': timezone: expected" },
		{ "{'task':'regression'," IN "}", "spec: features: expected a non-empty list" },
		{ "{'task':'regression'," IN ",'features':[]}", "spec: features: expected" },
		{ "{'task':'regression'," IN ",'features':['x']}",
		    "spec: features[0]: expected an object" },
		{ "{'task':'regression'," IN ",'features':[{'transform':'passthrough'}]}",
		    "spec: features[0]: input: expected the name of an input" },
		{ "{'task':'regression'," IN ",'features':[{'input':'x'},{'input':'zz'}]}",
		    "spec: features[1]: input: expected the name of an input; there is no "
		    "input 'zz'" },
		{ "{'task':'regression'," IN ",'features':[{'input':'x','transform':'log'}]}",
		    "spec: features[0]: transform: expected passthrough, one_hot, ordinal, "
		    "frequency or datetime" },
		{ "{'task':'regression'," IN ",'features':[{'input':'x','scale':2}]}",
		    "spec: features[0]: unknown key 'scale'" },
		{ "{'task':'regression'," IN ",'features':[{'input':'x'},{'input':'x'},"
		    "{'input':'x'},{'input':'x','transform':'one_hot','categories':['a']}]}",
		    "spec: features[3]: transform 'one_hot' needs a category input, 'x' is number" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c'}]}",
		    "spec: features[0]: transform 'passthrough' needs a number, integer or boolean "
		    "input, 'c' is category" },
		{ "{'task':'regression'," IN ",'features':[{'input':'t'}]}",
		    "spec: features[0]: transform 'passthrough' needs a number, integer or boolean "
		    "input, 't' is datetime" },
		{ "{'task':'regression'," IN ",'features':[{'input':'x','transform':'datetime',"
		    "'parts':['hour']}]}",
		    "spec: features[0]: transform 'datetime' needs a datetime input, 'x' is number" },
		{ "{'task':'regression'," IN ",'features':[{'input':'t','transform':'ordinal',"
		    "'map':{'a':1}}]}",
		    "spec: features[0]: transform 'ordinal' needs a category input, 't' is datetime" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'one_hot'}]}",
		    "spec: features[0]: categories: expected a non-empty list of strings" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'one_hot',"
		    "'categories':[]}]}", "spec: features[0]: categories: expected a non-empty" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'one_hot',"
		    "'categories':['a',1]}]}", "spec: features[0]: categories[1]: expected a string" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'one_hot',"
		    "'categories':['a','b','a']}]}", "spec: features[0]: duplicate category 'a'" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'one_hot',"
		    "'categories':['a'],'map':{'a':1}}]}",
		    "spec: features[0]: map: only for ordinal and frequency" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'ordinal',"
		    "'categories':['a'],'map':{'a':1}}]}",
		    "spec: features[0]: categories: only for one_hot" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'ordinal'}]}",
		    "spec: features[0]: map: expected a non-empty object of category: number" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'frequency',"
		    "'map':{}}]}", "spec: features[0]: map: expected a non-empty object" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'frequency',"
		    "'map':['a']}]}", "spec: features[0]: map: expected a non-empty object" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'frequency',"
		    "'map':{'a':1,'b':'2'}}]}",
		    "spec: features[0]: map: the value of 'b' is not a number" },
		{ "{'task':'regression'," IN ",'features':[{'input':'c','transform':'ordinal',"
		    "'map':{'a':1e300}}]}", "spec: features[0]: map: the value of 'a' is not a number" },
		{ "{'task':'regression'," IN ",'features':[{'input':'t','transform':'datetime'}]}",
		    "spec: features[0]: parts: expected a list of 1 to 8 parts" },
		{ "{'task':'regression'," IN ",'features':[{'input':'t','transform':'datetime',"
		    "'parts':[]}]}", "spec: features[0]: parts: expected a list" },
		{ "{'task':'regression'," IN ",'features':[{'input':'t','transform':'datetime',"
		    "'parts':['hour','weekday']}]}",
		    "spec: features[0]: parts[1]: expected year, month, day, hour, minute_of_day, "
		    "day_of_week, day_of_year or is_weekend" },
		{ "{'task':'regression'," IN ",'features':[{'input':'t','transform':'datetime',"
		    "'parts':['hour','hour']}]}", "spec: features[0]: parts[1]: duplicate part 'hour'" },
		{ "{'task':'regression'," IN ",'features':[{'input':'x','parts':['hour']}]}",
		    "spec: features[0]: parts: only for datetime" },
	};
	char err[SPEC_ERR_MAX];

	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		json_t *j = J(cases[c].spec);
		struct spec *s = spec_parse(j, err, sizeof(err));

		ck_assert_msg(s == NULL, "case %zu accepted", c);
		ck_assert_msg(strncmp(err, cases[c].msg, strlen(cases[c].msg)) == 0,
		    "case %zu: got \"%s\", want \"%s\"", c, err, cases[c].msg);
		ck_assert(utf8_valid(err, strlen(err)));
		json_decref(j);
	}
#undef IN
#undef FX
}
END_TEST

/* Compile errors only C can build: bad UTF-8, NUL, and the size limits. */
START_TEST(spec_limits)
{
	char err[SPEC_ERR_MAX];
	json_t *j, *in, *f, *cats;
	struct spec *s;

	j = J("{'task':'regression','inputs':[{'name':'c','type':'category'}],"
	    "'features':[{'input':'c','transform':'one_hot','categories':['a']}]}");
	cats = json_object_get(json_array_get(json_object_get(j, "features"), 0), "categories");
	json_array_append_new(cats, json_stringn_nocheck("b\xff", 2));
	ck_assert_ptr_null(spec_parse(j, err, sizeof(err)));
	ck_assert_str_eq(err, "spec: features[0]: expected categories of valid UTF-8 text "
	    "without NUL of at most 1024 bytes");
	json_array_set_new(cats, 1, json_stringn("b\0c", 3));
	ck_assert_ptr_null(spec_parse(j, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "valid UTF-8"));
	json_array_remove(cats, 1);
	ck_assert_ptr_nonnull(s = spec_parse(j, err, sizeof(err)));
	spec_free(s);
	json_decref(j);

	/* 1001 inputs. */
	j = J("{'task':'regression','features':[{'input':'x0'}]}");
	in = json_array();
	for (int i = 0; i < 1001; i++) {
		char name[16];

		snprintf(name, sizeof(name), "x%d", i);
		json_array_append_new(in, json_pack("{s:s,s:s}", "name", name, "type", "number"));
	}
	json_object_set_new(j, "inputs", in);
	ck_assert_ptr_null(spec_parse(j, err, sizeof(err)));
	ck_assert_str_eq(err, "spec: inputs: expected a list of 1 to 1000 inputs");
	json_array_remove(in, 1000);
	ck_assert_ptr_nonnull(s = spec_parse(j, err, sizeof(err)));
	ck_assert_uint_eq(spec_ninputs(s), 1000);
	ck_assert_int_eq(spec_input_index(s, "x999"), 999);
	spec_free(s);
	json_decref(j);

	/* Two 50000-category one_hots fit exactly; one column more does not. */
	j = J("{'task':'regression','inputs':[{'name':'c','type':'category'},"
	    "{'name':'x','type':'number'}]}");
	f = json_array();
	cats = json_array();
	for (int i = 0; i < 50000; i++) {
		char c[16];

		snprintf(c, sizeof(c), "c%d", i);
		json_array_append_new(cats, json_string(c));
	}
	json_array_append_new(f, json_pack("{s:s,s:s,s:O}", "input", "c", "transform",
	    "one_hot", "categories", cats));
	json_array_append_new(f, json_pack("{s:s,s:s,s:O}", "input", "c", "transform",
	    "one_hot", "categories", cats));
	json_object_set_new(j, "features", f);
	ck_assert_ptr_nonnull(s = spec_parse(j, err, sizeof(err)));
	ck_assert_uint_eq(spec_width(s), 100000);
	ck_assert_str_eq(spec_feature_name(s, 99999), "c=c49999");
	spec_free(s);
	json_array_append_new(f, json_pack("{s:s}", "input", "x"));
	ck_assert_ptr_null(spec_parse(j, err, sizeof(err)));
	ck_assert_str_eq(err, "spec: features[2]: the features produce more than 100000 "
	    "columns");
	json_decref(cats);
	json_decref(j);

	/* A message cut by a short buffer stays valid UTF-8. */
	j = J("{'task':'regression','inputs':[{'name':'c','type':'category'}],"
	    "'features':[{'input':'c','transform':'one_hot','categories':"
	    "['\xc3\xa9\xc3\xa9\xc3\xa9','\xc3\xa9\xc3\xa9\xc3\xa9']}]}");
	for (size_t n = 1; n < 60; n++) {
		char small[60];

		ck_assert_ptr_null(spec_parse(j, small, n));
		ck_assert(utf8_valid(small, strlen(small)));
	}
	ck_assert_ptr_null(spec_parse(j, NULL, 0));
	json_decref(j);
}
END_TEST

/* 10,000 categories: every lookup is a binary search, and the error list is cut at 10. */
START_TEST(wide_one_hot)
{
	enum { N = 10000 };
	char err[SPEC_ERR_MAX];
	json_t *j, *cats, *map, *row;
	struct spec *s;
	float *out;
	const char *const *list;

	j = J("{'task':'regression','unknown_category':'error',"
	    "'inputs':[{'name':'sku','type':'category'}]}");
	cats = json_array();
	map = json_object();
	for (int i = 0; i < N; i++) {
		char c[16];

		snprintf(c, sizeof(c), "sku-%05d", (i * 7919) % N);
		json_array_append_new(cats, json_string(c));
		json_object_set_new(map, c, json_integer(i));
	}
	json_object_set_new(j, "features", json_pack("[{s:s,s:s,s:o},{s:s,s:s,s:o}]",
	    "input", "sku", "transform", "one_hot", "categories", cats,
	    "input", "sku", "transform", "ordinal", "map", map));
	ck_assert_ptr_nonnull(s = spec_parse(j, err, sizeof(err)));
	json_decref(j);
	ck_assert_uint_eq(spec_width(s), N + 1);
	ck_assert_uint_eq(spec_input_categories(s, 0, &list), N);
	ck_assert_str_eq(list[1], "sku-07919");
	out = malloc((N + 1) * sizeof(*out));
	row = json_object();
	for (int i = 0; i < 20000; i++) {
		char c[16];
		int k = (i * 31) % N;

		snprintf(c, sizeof(c), "sku-%05d", (k * 7919) % N);
		json_object_set_new(row, "sku", json_string(c));
		ck_assert_int_eq(spec_transform(s, row, 0, out, err, sizeof(err)), 0);
		ck_assert(out[k] == 1 && out[N] == k);
		if (i % 1000 == 0) {
			float sum = 0;

			for (int q = 0; q < N; q++)
				sum += out[q];
			ck_assert(sum == 1);
		}
	}
	json_object_set_new(row, "sku", json_string("sku-10000"));
	ck_assert_int_eq(spec_transform(s, row, 0, out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "field 'sku': unknown category 'sku-10000'; allowed: "
	    "'sku-00000', 'sku-07919', 'sku-05838', 'sku-03757', 'sku-01676', 'sku-09595', "
	    "'sku-07514', 'sku-05433', 'sku-03352', 'sku-01271' \xe2\x80\xa6 and 9990 more");
	json_decref(row);
	free(out);
	spec_free(s);
}
END_TEST

/* Threads share one spec and must agree with the single-threaded result. */
struct job {
	const struct spec *s;
	json_t *rows[4];
	const float *want;
	size_t width;
	int ok;
};

static void *
worker(void *arg)
{
	struct job *jb = arg;
	float out[64];
	char err[SPEC_ERR_MAX];

	jb->ok = 1;
	for (int it = 0; it < 2000; it++)
		for (int r = 0; r < 4; r++) {
			if (spec_transform(jb->s, jb->rows[r], 0, out, err, sizeof(err)) != 0 ||
			    memcmp(out, jb->want + r * jb->width, jb->width * sizeof(float)) != 0)
				jb->ok = 0;
		}
	return NULL;
}

START_TEST(threads)
{
	static const char *const texts[4] = {
		"{'date':'2024-10-02 09:00','origin':'LAX','distance':2475}",
		"{'date':'2024-12-31 23:59','origin':'SFO','distance':'1.5','express':'0'}",
		"{'origin':'JFK','distance':0,'passengers':'12','express':true}",
		"{'origin':'LAX','distance':-3.25,'date':'2000-02-29 00:00'}",
	};
	struct spec *s = S(example);
	size_t width = spec_width(s);
	float want[4 * 12];
	char err[SPEC_ERR_MAX];
	struct job jobs[4];
	pthread_t th[4];
	json_t *rows[4];

	for (int r = 0; r < 4; r++) {
		rows[r] = J(texts[r]);
		ck_assert_int_eq(spec_transform(s, rows[r], 0, want + r * width, err,
		    sizeof(err)), 0);
	}
	for (int t = 0; t < 4; t++) {
		jobs[t].s = s;
		memcpy(jobs[t].rows, rows, sizeof(rows));
		jobs[t].want = want;
		jobs[t].width = width;
		ck_assert_int_eq(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
	}
	for (int t = 0; t < 4; t++) {
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
		ck_assert_msg(jobs[t].ok, "thread %d disagreed", t);
	}
	for (int r = 0; r < 4; r++)
		json_decref(rows[r]);
	spec_free(s);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("spec");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, example_spec);
	tcase_add_test(tc, datetime_parts);
	tcase_add_test(tc, datetime_garbage);
	tcase_add_test(tc, unknown_policies);
	tcase_add_test(tc, known_by_another_feature);
	tcase_add_test(tc, coercion);
	tcase_add_test(tc, transform_errors);
	tcase_add_test(tc, hostile_strings);
	tcase_add_test(tc, defaults_required_lax);
	tcase_add_test(tc, spec_errors);
	tcase_add_test(tc, spec_limits);
	tcase_add_test(tc, wide_one_hot);
	tcase_add_test(tc, threads);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
