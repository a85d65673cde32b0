/* router.c: path-pattern matching over the route table. */
#include "router.h"

#include <stdio.h>
#include <string.h>

/*
 * Matches one pattern; on success and when pp is non-NULL appends the
 * {name} segments. Returns 1 on match, 0 on no match, -1 on arena exhaustion.
 */
static int
match_one(const char *pat, const char *path, struct arena *a, struct params *pp)
{
	const char *p = pat, *s = path;

	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			size_t slen = se ? (size_t)(se - s) : strlen(s);
			/* {name...}: the rest of the path, slashes included (last segment only). */
			int rest = pe != NULL && pe - p > 4 && !strncmp(pe - 3, "...", 3) &&
			    pe[1] == '\0';

			if (rest)
				slen = strlen(s);
			if (pe == NULL || slen == 0)
				return 0;
			if (pp != NULL) {
				struct param item = { 0 };

				item.name = arena_strndup(a, p + 1, (size_t)(pe - p - 1) -
				    (rest ? 3 : 0));
				item.value = arena_strndup(a, s, slen);
				item.value_len = slen;
				if (item.name == NULL || item.value == NULL ||
				    params_add(a, pp, &item) == -1)
					return -1;
			}
			p = pe + 1;
			s += slen;
		} else {
			const char *pe = strchr(p, '/');
			const char *se = strchr(s, '/');
			size_t plen = pe ? (size_t)(pe - p) : strlen(p);
			size_t slen = se ? (size_t)(se - s) : strlen(s);

			if (plen != slen || memcmp(p, s, plen) != 0)
				return 0;
			p += plen;
			s += slen;
		}
	}
	return *p == '\0' && *s == '\0';
}

static void
allow_add(char *allow, size_t len, const char *m)
{
	size_t used = strlen(allow);

	/* The table may list one method twice for different patterns. */
	if (strstr(allow, m) != NULL)
		return;
	snprintf(allow + used, len - used, "%s%s", used ? ", " : "", m);
}

enum match
router_match(const struct route *table, size_t n, struct arena *a,
    const char *method, const char *path, const struct route **out,
    struct params *pp, char *allow, size_t allowlen)
{
	int path_known = 0;
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;

	if (allowlen > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (strcmp(table[i].method, m) == 0) {
			size_t before = pp->n;

			rc = match_one(table[i].pattern, path, a, pp);
			if (rc == -1)
				return MATCH_NOMEM;
			if (rc == 1) {
				*out = &table[i];
				return MATCH_OK;
			}
			pp->n = before;   /* drop a partial match's segments */
		} else if (match_one(table[i].pattern, path, NULL, NULL) == 1)
			path_known = 1;
	}
	if (!path_known)
		return MATCH_NONE;
	for (size_t i = 0; i < n; i++) {
		if (match_one(table[i].pattern, path, NULL, NULL) != 1)
			continue;
		allow_add(allow, allowlen, table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			allow_add(allow, allowlen, "HEAD");
	}
	return MATCH_METHOD;
}
