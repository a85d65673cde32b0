/* fuzz_search.c: libFuzzer target for the MLflow filter / order_by compiler and page tokens. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

#define ARENA_CAP	(16 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the entity; the rest, split at the first NUL-free
 * '\n', is a filter and then order_by clauses (one per line), and the same
 * bytes are tried as a page token. Compiled SQL must never contain a byte of
 * a quoted value it was given, and must be NUL-terminated and bounded.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct search_query q;
	char err[SEARCH_ERR_MAX], *text, *nl, *ob[8];
	size_t nob = 0;
	enum search_entity e;
	int rc;

	if (size == 0)
		return 0;
	if (a == NULL && (a = arena_new(ARENA_CAP)) == NULL)
		abort();
	arena_reset(a);
	e = data[0] & 1 ? SEARCH_EXPERIMENTS : SEARCH_RUNS;
	if ((text = arena_strndup(a, (const char *)data + 1, size - 1)) == NULL)
		abort();
	text[strlen(text)] = '\0';
	for (nl = strchr(text, '\n'); nl != NULL && nob < 8; nl = strchr(nl + 1, '\n')) {
		*nl = '\0';
		ob[nob++] = nl + 1;
	}
	rc = search_compile(a, e, text, (const char *const *)ob, nob, NULL, &q, err,
	    sizeof(err));
	if (rc == 0) {
		if (q.sql == NULL || q.nvals < q.nfixed || q.nvals > SEARCH_MAX_PARAMS ||
		    q.nkeys < 2 || strstr(q.sql, ";") != NULL || strstr(q.sql, "'") != NULL)
			abort();
		for (int i = q.nfixed; i < q.nvals; i++)
			if (q.vals[i] == NULL)
				abort();
	} else if (rc != -1 || err[0] == '\0' || strlen(err) >= sizeof(err))
		abort();
	/* The same bytes as a page token for the default order. */
	rc = search_compile(a, e, NULL, NULL, 0, text, &q, err, sizeof(err));
	if (rc != 0 && rc != -1)
		abort();
	return 0;
}
