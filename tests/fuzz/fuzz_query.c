/* fuzz_query.c: libFuzzer target for form_parse_urlencoded on raw query strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

#define MAX_PARAMS	100
#define ARENA_CAP	(1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct params p = { 0 };
	size_t i;
	int rc;

	if (a == NULL && (a = arena_new(ARENA_CAP)) == NULL)
		abort();
	arena_reset(a);
	rc = form_parse_urlencoded(a, (const char *)data, size, &p, MAX_PARAMS);
	if (rc != PARSE_OK && rc != PARSE_MALFORMED && rc != PARSE_TOO_MANY &&
	    rc != PARSE_NOMEM)
		abort();
	/* Failures leave nothing behind; successes only hold safe names and C strings. */
	if (rc != PARSE_OK && p.n != 0)
		abort();
	if (p.n > MAX_PARAMS)
		abort();
	for (i = 0; i < p.n; i++) {
		if (!param_name_ok(p.v[i].name, strlen(p.v[i].name)) ||
		    p.v[i].value[p.v[i].value_len] != '\0' ||
		    p.v[i].value_len > size || p.v[i].filename != NULL)
			abort();
		if (params_get(&p, p.v[i].name) == NULL)
			abort();
	}
	return 0;
}
