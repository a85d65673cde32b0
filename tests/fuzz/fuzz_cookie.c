/* fuzz_cookie.c: libFuzzer target for cookie_parse. */
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
	char *h;
	size_t i, vlen;
	int rc;

	if (a == NULL && (a = arena_new(ARENA_CAP)) == NULL)
		abort();
	arena_reset(a);
	/* The header is a C string; an exact-size copy lets ASan see over-reads. */
	if ((h = malloc(size + 1)) == NULL)
		abort();
	memcpy(h, data, size);
	h[size] = '\0';
	rc = cookie_parse(a, h, &p, MAX_PARAMS);
	if (rc == PARSE_MALFORMED || (rc != PARSE_OK && p.n != 0) ||
	    p.n > MAX_PARAMS)
		abort();
	for (i = 0; i < p.n; i++) {
		vlen = p.v[i].value_len;
		if (!param_name_ok(p.v[i].name, strlen(p.v[i].name)) ||
		    strlen(p.v[i].value) != vlen || vlen > size ||
		    memchr(p.v[i].value, ';', vlen) != NULL)
			abort();
	}
	free(h);
	return 0;
}
