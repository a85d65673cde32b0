/* fuzz_form.c: libFuzzer target: form_parse_urlencoded, then url_encode every pair and check the re-parse gives the same bytes. */
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
	static struct buf b;
	struct params p = { 0 }, q = { 0 };
	size_t i;
	int rc;

	if (a == NULL) {
		if ((a = arena_new(ARENA_CAP)) == NULL)
			abort();
		/* Encoding at most triples the input. */
		buf_init(&b, 4 * 1024 * 1024);
	}
	arena_reset(a);
	buf_reset(&b);
	if (form_parse_urlencoded(a, (const char *)data, size, &p,
	    MAX_PARAMS) != PARSE_OK)
		return 0;
	for (i = 0; i < p.n; i++) {
		if ((i > 0 && buf_addc(&b, '&') == -1) ||
		    url_encode(&b, p.v[i].name, strlen(p.v[i].name)) == -1 ||
		    buf_addc(&b, '=') == -1 ||
		    url_encode(&b, p.v[i].value, p.v[i].value_len) == -1)
			abort();
	}
	rc = form_parse_urlencoded(a, b.p, b.len, &q, MAX_PARAMS);
	if (rc == PARSE_NOMEM)
		return 0;
	if (rc != PARSE_OK || q.n != p.n)
		abort();
	for (i = 0; i < p.n; i++) {
		if (strcmp(p.v[i].name, q.v[i].name) != 0 ||
		    p.v[i].value_len != q.v[i].value_len ||
		    memcmp(p.v[i].value, q.v[i].value, p.v[i].value_len) != 0)
			abort();
	}
	return 0;
}
