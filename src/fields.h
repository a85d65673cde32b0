/* fields.h: per-route input declarations and the one validator that turns raw parameters into typed values. */
#ifndef VERDICT_FIELDS_H
#define VERDICT_FIELDS_H

#include <jansson.h>
#include <stddef.h>

#include "params.h"
#include "util.h"

enum field_type {
	FT_STRING,      /* valid UTF-8, no NUL, min..max bytes */
	FT_INT,         /* int64 in min..max; JSON number or decimal string */
	FT_NUMBER,      /* finite double in [minf, maxf] */
	FT_BOOL,        /* true/false (JSON bool or "true"/"false"/"on"/"1"/"0") */
	FT_ENUM,        /* one of choices */
	FT_FILE,        /* a multipart file part, max bytes */
	FT_JSON,        /* any JSON value (JSON bodies only), passed through */
	FT_LIST,        /* strings: a JSON array (numbers become their text) or a
	                   repeated parameter; each item valid UTF-8 of at most max bytes */
};

struct field {
	const char *name;
	enum field_type type;
	int required;
	long long min, max;               /* string bytes / int range / file bytes */
	double minf, maxf;                /* FT_NUMBER; both 0 = unbounded */
	const char *const *choices;       /* FT_ENUM, NULL-terminated */
};

/* A validated value; handlers read only these. */
struct value {
	int present;
	const char *s;          /* FT_STRING, FT_ENUM; FT_FILE: contents */
	size_t len;
	long long i;
	double d;
	int b;
	const char *filename;   /* FT_FILE */
	const char *content_type;
	json_t *json;           /* FT_JSON (borrowed from the request body) */
	const char **list;      /* FT_LIST: nlist items (arena array) */
	size_t nlist;
};

#define FIELD_ERR_MAX 256

/*
 * Validates inputs against spec[0..n). Inputs come either from params (query
 * string, form or multipart) or, when json is non-NULL, from a JSON object.
 * out must have n elements. Unknown names in a JSON object or a body form are
 * rejected when strict is set ("unknown field 'x'"); query strings are read
 * leniently by callers passing strict = 0. On failure returns -1 and writes
 * a message naming the field into err, e.g. "field 'username': must be at
 * most 64 bytes". Values point into params/json/arena memory.
 */
int fields_validate(struct arena *a, const struct field *spec, size_t n,
    const struct params *params, json_t *json, int strict,
    struct value *out, char *err, size_t errlen) WUR;

#endif
