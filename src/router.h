/* router.h: match a method and path against the route table. */
#ifndef VERDICT_ROUTER_H
#define VERDICT_ROUTER_H

#include "http.h"

/* The one route table (routes.c). */
extern const struct route routes[];
extern const size_t nroutes;

enum match { MATCH_OK, MATCH_NONE, MATCH_METHOD, MATCH_NOMEM };

/*
 * Finds the route for method + path in table[0..n). Patterns are literal
 * segments and {name} segments (one non-empty path segment each); a last
 * segment {name...} takes the non-empty rest of the path, slashes and all,
 * as the parameter "name". HEAD
 * matches GET routes. On MATCH_OK sets *out and appends the {name} values
 * to pp; on MATCH_METHOD writes the Allow list ("GET, HEAD, POST") to allow.
 */
enum match router_match(const struct route *table, size_t n, struct arena *a,
    const char *method, const char *path, const struct route **out,
    struct params *pp, char *allow, size_t allowlen);

#endif
