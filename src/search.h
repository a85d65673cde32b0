/* search.h: MLflow's search filter and order_by grammar, compiled to parameterized SQL with keyset page tokens. */
#ifndef VERDICT_SEARCH_H
#define VERDICT_SEARCH_H

#include <stddef.h>

#include "util.h"

enum search_entity {
	SEARCH_RUNS,            /* runs r; $1 experiment ids, $2 lifecycle stages, $3 limit */
	SEARCH_EXPERIMENTS,     /* experiments e; $1 lifecycle stages, $2 limit */
	SEARCH_MODELS,          /* registered_models m; $1 limit */
	SEARCH_VERSIONS,        /* model_versions v; $1 limit */
};

#define SEARCH_FILTER_MAX 10000     /* bytes of filter text */
#define SEARCH_MAX_CLAUSES 100
#define SEARCH_MAX_ORDER 20
#define SEARCH_MAX_PARAMS 4096      /* SQL parameters, the fixed ones included */
#define SEARCH_TOKEN_MAX 16384      /* bytes of an encoded page token */
#define SEARCH_ERR_MAX 512

/*
 * A compiled search: sql selects the entity's id first, then one text column
 * per sort key (the keyset a page token carries), in the order the rows must
 * be returned, at most the fixed LIMIT parameter rows. vals[0..nfixed) are
 * left NULL for the caller to fill; the rest point into the arena or the
 * caller's strings. Everything lives until the arena is reset.
 */
struct search_query {
	enum search_entity entity;
	const char *sql;
	const char **vals;
	int nvals;
	int nfixed;
	int nkeys;              /* sort-key columns after the id column */
	/*
	 * The same rows in two parts, when runs are sorted first on a metric
	 * (nsplit 2, else 0): split[0] the runs that have it, driven from its
	 * latest_metrics rows (unfiltered, an ordered walk of the (key, value)
	 * index that stops at the LIMIT; NULL when the page token already lies
	 * past them), then split[1] the runs without it. Running split[0] and
	 * topping the page up from split[1] returns what sql returns; both take
	 * the same vals.
	 */
	const char *split[2];
	int nsplit;
};

/*
 * Parses filter (may be NULL or empty) and order_by[0..norder) for entity,
 * appends the default tie-breakers (runs: start_time DESC, run_id; experiments:
 * last_update_time DESC, experiment_id; registered models: name; model
 * versions: name, version DESC), and when page_token is non-empty
 * continues after the row it names. Returns 0, or -1 with a message in err
 * that names the position of the problem in the filter ("... at position 17",
 * counted from 1) or the bad order_by clause or token.
 */
int search_compile(struct arena *a, enum search_entity entity, const char *filter,
    const char *const *order_by, size_t norder, const char *page_token,
    struct search_query *q, char *err, size_t errlen) WUR;

/*
 * The opaque token for the page that follows a row whose sort-key columns
 * (as sql returned them, NULL for SQL NULL) are keys[0..nkeys): base64url of
 * a JSON array. Arena memory; NULL when it does not fit SEARCH_TOKEN_MAX.
 */
char *search_page_token(struct arena *a, const char *const *keys, int nkeys);

/*
 * Decodes a token made by search_page_token into keys[0..nkeys) (arena
 * strings, NULL for null). -1 when it is malformed or holds another count.
 */
int search_token_decode(struct arena *a, const char *tok, const char **keys,
    int nkeys) WUR;

#endif
