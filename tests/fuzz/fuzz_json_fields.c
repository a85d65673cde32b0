/* fuzz_json_fields.c: JSON body → declared fields, and a form body → the same fields. */
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
