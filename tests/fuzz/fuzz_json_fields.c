/* fuzz_json_fields.c: JSON body → declared fields (and the raw slices of its members), and a form body → the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

static const char *const kinds[] = { "a", "bb", "ccc", NULL };
static const struct field spec[] = {
	{ "name", FT_STRING, 1, 1, 64, 0, 0, NULL },
	{ "count", FT_INT, 0, -5, 5000, 0, 0, NULL },
	{ "ratio", FT_NUMBER, 0, 0, 0, -1, 1, NULL },
	{ "flag", FT_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "kind", FT_ENUM, 0, 0, 0, 0, 0, kinds },
	{ "extra", FT_JSON, 0, 0, 0, 0, 0, NULL },
};
#define N (sizeof(spec) / sizeof(spec[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A raw slice must hold exactly the value the parser read there. */
static void
same_value(const struct json_slice *v, json_t *want)
{
	json_t *got = json_loadb(v->p, v->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);

	if (got == NULL || !json_equal(got, want))
		abort();
	json_decref(got);
	(void)json_raw_plain(v);
}

/* Every member of the parsed object, found again in the text by json_raw_member. */
static void
raw_slices(const char *doc, size_t n, json_t *j)
{
	const char *key;
	json_t *val;

	json_object_foreach(j, key, val) {
		struct json_slice v, e[64];
		long k;

		if (json_raw_member(doc, n, key, &v) == -1)
			continue;   /* a key written with escapes is not matched */
		same_value(&v, val);
		if (!json_is_array(val))
			continue;
		k = json_raw_elements(v.p, v.len, e, 64);
		/* -1 (the caller then re-serializes) or every element. */
		if (k != -1 && k != (long)json_array_size(val))
			abort();
		for (long i = 0; i < k; i++)
			same_value(&e[i], json_array_get(val, (size_t)i));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct value v[N];
	char err[FIELD_ERR_MAX];
	json_error_t e;
	json_t *j;
	struct params p = { 0 };

	if (a == NULL)
		a = arena_new(1 << 20);
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	if (j != NULL) {
		if (json_is_object(j))
			raw_slices((const char *)data, size, j);
		for (int strict = 0; strict < 2; strict++)
			if (fields_validate(a, spec, N, NULL, j, strict, v, err,
			    sizeof(err)) == 0 && v[0].present &&
			    !utf8_valid(v[0].s, v[0].len))
				abort();   /* a validated string must be clean */
		json_decref(j);
	}
	if (form_parse_urlencoded(a, (const char *)data, size, &p, 100) == PARSE_OK &&
	    fields_validate(a, spec, N, &p, NULL, 1, v, err, sizeof(err)) == 0) {
		if (!v[0].present || v[0].len == 0 || v[0].len > 64 ||
		    !utf8_valid(v[0].s, v[0].len))
			abort();
		if (v[1].present && (v[1].i < -5 || v[1].i > 5000))
			abort();
	}
	arena_reset(a);
	return 0;
}
