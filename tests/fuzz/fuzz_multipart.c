/* fuzz_multipart.c: libFuzzer target for multipart_parse; the input's first line is the boundary parameter, the rest the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

#define MAX_PARAMS	100
#define ARENA_CAP	(1024 * 1024)
#define CT_PREFIX	"multipart/form-data; boundary="

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct params p = { 0 };
	const uint8_t *nl;
	const char *body, *v;
	size_t line, blen, i;
	char *ct;
	int rc;

	if (a == NULL && (a = arena_new(ARENA_CAP)) == NULL)
		abort();
	arena_reset(a);
	nl = memchr(data, '\n', size);
	line = nl != NULL ? (size_t)(nl - data) : size;
	/* libFuzzer's buffer is exactly size bytes, so the body ends at an ASan redzone. */
	body = (const char *)data + (nl != NULL ? line + 1 : size);
	blen = size - (size_t)(body - (const char *)data);
	if ((ct = malloc(sizeof(CT_PREFIX) + line)) == NULL)
		abort();
	memcpy(ct, CT_PREFIX, sizeof(CT_PREFIX) - 1);
	memcpy(ct + sizeof(CT_PREFIX) - 1, data, line);
	ct[sizeof(CT_PREFIX) - 1 + line] = '\0';

	rc = multipart_parse(a, ct, body, blen, &p, MAX_PARAMS);
	if (rc != PARSE_OK && rc != PARSE_MALFORMED && rc != PARSE_TOO_MANY &&
	    rc != PARSE_NOMEM)
		abort();
	if ((rc != PARSE_OK && p.n != 0) || p.n > MAX_PARAMS)
		abort();
	for (i = 0; i < p.n; i++) {
		v = p.v[i].value;
		if (!param_name_ok(p.v[i].name, strlen(p.v[i].name)) ||
		    p.v[i].value_len > blen)
			abort();
		/* Files point into the body; text parts are NUL-terminated copies. */
		if (p.v[i].filename != NULL) {
			if (v < body || v + p.v[i].value_len > body + blen)
				abort();
		} else if (v[p.v[i].value_len] != '\0')
			abort();
		if (p.v[i].content_type != NULL)
			(void)strlen(p.v[i].content_type);
		if (p.v[i].filename != NULL)
			(void)strlen(p.v[i].filename);
	}
	free(ct);
	return 0;
}
