/* params.h: name/value lists and the parsers that fill them (query strings, urlencoded forms, cookies, multipart bodies). */
#ifndef VERDICT_PARAMS_H
#define VERDICT_PARAMS_H

#include <stddef.h>

#include "util.h"

/*
 * One parsed parameter, valid until the request ends. Names and text values
 * are NUL-terminated arena copies; a value may contain NUL bytes (from %00),
 * so value_len is authoritative. File parts (filename non-NULL) are not
 * copied: value points into the request body and is NOT NUL-terminated.
 * content_type is the part's Content-Type when it had one.
 */
struct param {
	const char *name;
	const char *value;
	size_t value_len;
	const char *filename;
	const char *content_type;
};

struct params {
	struct param *v;
	size_t n;
	size_t cap;
};

enum parse_status {
	PARSE_OK = 0,
	PARSE_MALFORMED = -1,   /* bad syntax: caller answers 400 */
	PARSE_TOO_MANY = -2,    /* more than max_params: 400 */
	PARSE_NOMEM = -3,       /* arena cap reached: 413 */
};

/*
 * Safe parameter names: [A-Za-z][A-Za-z0-9_.-]{0,63}. Parsers silently skip
 * parameters whose (decoded) name does not match, so user input can never
 * shadow anything else.
 */
int param_name_ok(const char *name, size_t len);

/* Appends; returns 0 or -1 (arena full). */
int params_add(struct arena *a, struct params *p, const struct param *item) WUR;
/* First parameter with that name, or NULL. */
const struct param *params_get(const struct params *p, const char *name);
/* Number of parameters with that name (repeated keys are lists). */
size_t params_count(const struct params *p, const char *name);

/*
 * application/x-www-form-urlencoded and query strings: '&'-separated
 * (';' is not a separator), '+' means space, %XX decoded (a '%' not followed
 * by two hex digits is PARSE_MALFORMED). Empty pieces ("a=1&&b=2") are
 * skipped; "a" without '=' is name a with empty value.
 */
int form_parse_urlencoded(struct arena *a, const char *s, size_t len,
    struct params *out, size_t max_params) WUR;

/*
 * Cookie header (RFC 6265 "name=value; name2=value2"). Values are not
 * percent-decoded; surrounding double quotes are removed. Malformed pieces
 * are skipped (browsers send junk), never an error; returns PARSE_OK,
 * PARSE_TOO_MANY or PARSE_NOMEM.
 * For every parser: max_params counts what this call adds, and on any error
 * out->n is restored, so a caller never sees half a result.
 */
int cookie_parse(struct arena *a, const char *header, struct params *out,
    size_t max_params) WUR;

/*
 * multipart/form-data. content_type is the full CONTENT_TYPE value; the
 * boundary comes from its boundary= parameter (quoted or not, 1..70 chars).
 * Each part needs Content-Disposition: form-data; name="..."
 * [; filename="..."]. Part bodies are not copied when avoidable (they may
 * point into body, which must then outlive the request). Missing boundary,
 * a missing closing delimiter, or a part without a name → PARSE_MALFORMED.
 */
int multipart_parse(struct arena *a, const char *content_type,
    const char *body, size_t len, struct params *out, size_t max_params) WUR;

/* Percent-encodes s for a URL query component (unreserved chars kept). */
int url_encode(struct buf *out, const char *s, size_t len) WUR;

#endif
