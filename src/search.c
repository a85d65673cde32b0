/* search.c: a parser for MLflow's search filters and order_by, compiled to SQL whose values are only $n parameters. */
#include "search.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#define SQL_MAX (256u << 10)

enum kind { K_METRIC, K_PARAM, K_TAG, K_ATTR };
enum vtype { V_TEXT, V_INT, V_FLOAT };

/* An attribute column: its SQL, its type, and whether it may be NULL. */
struct attr {
	const char *name;
	const char *sql;
	enum vtype type;
	int nullable;
	int in_list;            /* accepts IN / NOT IN */
};

static const struct attr run_attrs[] = {
	{ "run_id", "r.run_uuid", V_TEXT, 0, 1 },
	{ "run_name", "r.name", V_TEXT, 0, 0 },
	{ "status", "r.status", V_TEXT, 0, 0 },
	{ "user_id", "r.user_id", V_TEXT, 0, 0 },
	{ "artifact_uri", "r.artifact_uri", V_TEXT, 0, 0 },
	{ "lifecycle_stage", "r.lifecycle_stage", V_TEXT, 0, 0 },
	{ "start_time", "r.start_time", V_INT, 0, 0 },
	{ "end_time", "r.end_time", V_INT, 1, 0 },
	{ "created", "r.start_time", V_INT, 0, 0 },
	{ NULL, NULL, V_TEXT, 0, 0 },
};

static const struct attr exp_attrs[] = {
	{ "name", "e.name", V_TEXT, 0, 0 },
	{ "experiment_id", "e.experiment_id", V_INT, 0, 0 },
	{ "creation_time", "e.creation_time", V_INT, 0, 0 },
	{ "last_update_time", "e.last_update_time", V_INT, 0, 0 },
	{ NULL, NULL, V_TEXT, 0, 0 },
};

#define MS_OF(col) "(extract(epoch FROM " col ") * 1000)::bigint"

static const struct attr model_attrs[] = {
	{ "name", "m.name", V_TEXT, 0, 0 },
	{ "creation_timestamp", MS_OF("m.created_at"), V_INT, 0, 0 },
	{ "last_updated_timestamp", MS_OF("m.updated_at"), V_INT, 0, 0 },
	{ "timestamp", MS_OF("m.updated_at"), V_INT, 0, 0 },
	{ NULL, NULL, V_TEXT, 0, 0 },
};

static const struct attr version_attrs[] = {
	{ "name", "v.name", V_TEXT, 0, 0 },
	{ "version_number", "v.version", V_INT, 0, 0 },
	{ "run_id", "v.run_id", V_TEXT, 1, 1 },
	{ "source_path", "v.source", V_TEXT, 0, 0 },
	{ "current_stage", "v.stage", V_TEXT, 0, 0 },
	{ "creation_timestamp", MS_OF("v.created_at"), V_INT, 0, 0 },
	{ "last_updated_timestamp", MS_OF("v.updated_at"), V_INT, 0, 0 },
	{ NULL, NULL, V_TEXT, 0, 0 },
};

/*
 * What differs per entity: its attributes, the id column, the fixed part of
 * the query (parameters $1..$nfixed, the last one the LIMIT), how a tag
 * clause and a tag order_by reach its tag table, and the tie-breakers that
 * make the order total.
 */
static const struct entity_def {
	const struct attr *attrs;
	const char *attr_names;
	const char *select;             /* the id column, as text */
	const char *from_where;         /* FROM ... WHERE <fixed conditions>; %s = joins */
	int nfixed;
	const char *tag_exists;         /* EXISTS (...) for key $%d, op %s, value $%d */
	const char *tag_join;           /* LEFT JOIN for o%d (x3) and key $%d */
	const char *ties[2][2];         /* expression and cast of each tie-breaker */
	int ties_desc[2];
} entities[] = {
	[SEARCH_RUNS] = { run_attrs, "run_id, run_name, status, user_id, artifact_uri, "
	    "lifecycle_stage, start_time, end_time", "r.run_uuid",
	    " FROM runs r%s WHERE r.experiment_id = ANY($1::bigint[]) AND "
	    "r.lifecycle_stage = ANY($2::text[])", 3,
	    " AND EXISTS (SELECT 1 FROM tags f WHERE f.run_uuid = r.run_uuid AND f.key = $%d "
	    "AND f.value %s $%d)",
	    " LEFT JOIN tags o%d ON o%d.run_uuid = r.run_uuid AND o%d.key = $%d",
	    { { "r.start_time", "::bigint" }, { "r.run_uuid", "" } }, { 1, 0 } },
	[SEARCH_EXPERIMENTS] = { exp_attrs, "name, experiment_id, creation_time, "
	    "last_update_time", "e.experiment_id::text",
	    " FROM experiments e%s WHERE e.lifecycle_stage = ANY($1::text[])", 2,
	    " AND EXISTS (SELECT 1 FROM experiment_tags f WHERE f.experiment_id = "
	    "e.experiment_id AND f.key = $%d AND f.value %s $%d)",
	    " LEFT JOIN experiment_tags o%d ON o%d.experiment_id = e.experiment_id AND "
	    "o%d.key = $%d",
	    { { "e.last_update_time", "::bigint" }, { "e.experiment_id", "::bigint" } },
	    { 1, 0 } },
	[SEARCH_MODELS] = { model_attrs, "name, creation_timestamp, last_updated_timestamp",
	    "m.name", " FROM registered_models m%s WHERE TRUE", 1,
	    " AND EXISTS (SELECT 1 FROM registered_model_tags f WHERE f.name = m.name AND "
	    "f.key = $%d AND f.value %s $%d)",
	    " LEFT JOIN registered_model_tags o%d ON o%d.name = m.name AND o%d.key = $%d",
	    { { "m.name", "" }, { NULL, NULL } }, { 0, 0 } },
	[SEARCH_VERSIONS] = { version_attrs, "name, version_number, run_id, source_path, "
	    "current_stage, creation_timestamp, last_updated_timestamp", "v.id::text",
	    " FROM model_versions v%s WHERE TRUE", 1,
	    " AND EXISTS (SELECT 1 FROM model_version_tags f WHERE f.name = v.name AND "
	    "f.version = v.version AND f.key = $%d AND f.value %s $%d)",
	    " LEFT JOIN model_version_tags o%d ON o%d.name = v.name AND o%d.version = "
	    "v.version AND o%d.key = $%d",
	    { { "v.name", "" }, { "v.version", "::int" } }, { 0, 1 } },
};

struct ident {
	enum kind kind;
	const char *key;              /* metric/param/tag key (arena) */
	const struct attr *attr;      /* K_ATTR */
};

/* One ORDER BY term: an expression and how to compare a token value with it. */
struct term {
	const char *expr;
	const char *cast;             /* "::float8", "::bigint" or "" */
	int desc;
	int nullable;
};

struct ctx {
	struct arena *a;
	enum search_entity entity;
	const char *src;              /* the filter text */
	size_t pos;
	struct buf where;
	struct buf joins;
	const char **vals;
	int nvals;
	struct term terms[SEARCH_MAX_ORDER + 2];
	int nterms;
	int njoins;
	int nclauses;                 /* in the filter */
	int lead_metric;              /* terms[0] is o1.value of latest_metrics (runs) */
	int lead_key;                 /* its key's parameter number */
	int needs_runs;               /* a run attribute latest_metrics has no copy of */
	const char *lead_keyset;      /* the token, for the rows that have the leading metric */
	int nexists;                  /* filter clauses on metrics, params or tags */
	const char *drive;            /* the first of them as a scan: "table r WHERE ..." */
	size_t drive_at, drive_end;   /* its EXISTS in where */
	size_t filter_len;            /* where's length after the filter */
	int lead_null;                /* the token lies among the runs without it */
	char *err;
	size_t errlen;
};

static int
fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A parameter holding s; returns its number, or -1. */
static int
param(struct ctx *c, const char *s)
{
	if (c->nvals >= SEARCH_MAX_PARAMS) {
		fail(c, "search too large: more than %d values", SEARCH_MAX_PARAMS);
		return -1;
	}
	c->vals[c->nvals++] = s;
	return c->nvals;
}

/* ---- the filter's tokens ---- */

enum tok { T_END, T_WORD, T_STRING, T_QUOTED_KEY, T_NUMBER, T_OP, T_LPAREN,
	T_RPAREN, T_COMMA, T_DOT, T_BAD };

struct token {
	enum tok t;
	size_t at;                    /* byte offset in the filter */
	const char *s;                /* decoded text (arena) */
	size_t len;
};

static void
skip_space(struct ctx *c)
{
	while (c->src[c->pos] != '\0' && isspace((unsigned char)c->src[c->pos]))
		c->pos++;
}

/* Reads a quoted run ending at q (a doubled q is a literal q). */
static int
lex_quoted(struct ctx *c, struct token *t, char q)
{
	const char *s = c->src;
	size_t i = c->pos + 1, n = 0;
	char *out;

	for (size_t j = i; ; j++) {
		if (s[j] == '\0')
			return fail(c, "unterminated %s starting at position %zu",
			    q == '\'' ? "string" : "quoted name", t->at + 1);
		if (s[j] == q) {
			if (s[j + 1] == q) {
				j++;
				n++;
				continue;
			}
			break;
		}
		n++;
	}
	if ((out = arena_alloc(c->a, n + 1)) == NULL)
		return fail(c, "filter too large");
	n = 0;
	for (; s[i] != q || s[i + 1] == q; i++) {
		if (s[i] == q)
			i++;
		out[n++] = s[i];
	}
	out[n] = '\0';
	c->pos = i + 1;
	t->s = out;
	t->len = n;
	return 0;
}

static int
next(struct ctx *c, struct token *t)
{
	const char *s = c->src;
	size_t p;

	skip_space(c);
	p = c->pos;
	memset(t, 0, sizeof(*t));
	t->at = p;
	if (s[p] == '\0') {
		t->t = T_END;
		return 0;
	}
	if (s[p] == '\'' || s[p] == '"') {
		t->t = T_STRING;
		return lex_quoted(c, t, s[p]);
	}
	if (s[p] == '`') {
		t->t = T_QUOTED_KEY;
		return lex_quoted(c, t, '`');
	}
	if (s[p] == '(' || s[p] == ')' || s[p] == ',' || (s[p] == '.' &&
	    !isdigit((unsigned char)s[p + 1]))) {
		t->t = s[p] == '(' ? T_LPAREN : s[p] == ')' ? T_RPAREN :
		    s[p] == ',' ? T_COMMA : T_DOT;
		t->s = s + p;
		t->len = 1;
		c->pos++;
		return 0;
	}
	if (strchr("=!<>", s[p]) != NULL) {
		size_t n = 1;

		if ((s[p] == '!' || s[p] == '<' || s[p] == '>') && s[p + 1] == '=')
			n = 2;
		else if (s[p] == '<' && s[p + 1] == '>')
			n = 2;
		else if (s[p] == '!')
			return fail(c, "unexpected '!' at position %zu", p + 1);
		t->t = T_OP;
		t->s = s + p;
		t->len = n;
		c->pos += n;
		return 0;
	}
	if (isdigit((unsigned char)s[p]) || (s[p] == '.' && isdigit((unsigned char)s[p + 1])) ||
	    ((s[p] == '-' || s[p] == '+') &&
	    (isdigit((unsigned char)s[p + 1]) || s[p + 1] == '.'))) {
		size_t i = p + 1;
		int digits = isdigit((unsigned char)s[p]);

		while (isdigit((unsigned char)s[i]) || s[i] == '.') {
			digits |= isdigit((unsigned char)s[i]);
			i++;
		}
		if ((s[i] == 'e' || s[i] == 'E') && (isdigit((unsigned char)s[i + 1]) ||
		    ((s[i + 1] == '-' || s[i + 1] == '+') && isdigit((unsigned char)s[i + 2])))) {
			i += 2;
			while (isdigit((unsigned char)s[i]))
				i++;
		}
		/* "1.2.3" or "1abc" is no number: let the word rule complain. */
		if (digits && !isalpha((unsigned char)s[i]) && s[i] != '_') {
			char *end;
			char *num = arena_strndup(c->a, s + p, i - p);

			if (num == NULL)
				return fail(c, "filter too large");
			(void)strtod(num, &end);
			if (*end == '\0') {
				t->t = T_NUMBER;
				t->s = num;
				t->len = i - p;
				c->pos = i;
				return 0;
			}
		}
	}
	if (isalnum((unsigned char)s[p]) || s[p] == '_') {
		size_t i = p;

		while (isalnum((unsigned char)s[i]) || s[i] == '_')
			i++;
		t->t = T_WORD;
		if ((t->s = arena_strndup(c->a, s + p, i - p)) == NULL)
			return fail(c, "filter too large");
		t->len = i - p;
		c->pos = i;
		return 0;
	}
	return fail(c, "unexpected character '%c' at position %zu",
	    isprint((unsigned char)s[p]) ? s[p] : '?', p + 1);
}

static int
peek(struct ctx *c, struct token *t)
{
	size_t save = c->pos;
	int rc = next(c, t);

	c->pos = save;
	return rc;
}

static int
word_is(const struct token *t, const char *w)
{
	return t->t == T_WORD && !strcasecmp(t->s, w);
}

/* ---- identifiers ---- */

static const struct attr *
find_attr(enum search_entity e, const char *name)
{
	for (const struct attr *a = entities[e].attrs; a->name != NULL; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static int
kind_of(enum search_entity e, const char *w, enum kind *k)
{
	static const struct { const char *w; enum kind k; int runs_only; } prefixes[] = {
		{ "metric", K_METRIC, 1 }, { "metrics", K_METRIC, 1 },
		{ "param", K_PARAM, 1 }, { "params", K_PARAM, 1 },
		{ "parameter", K_PARAM, 1 }, { "parameters", K_PARAM, 1 },
		{ "tag", K_TAG, 0 }, { "tags", K_TAG, 0 },
		{ "attribute", K_ATTR, 0 }, { "attributes", K_ATTR, 0 },
		{ "attr", K_ATTR, 0 }, { "run", K_ATTR, 1 },
	};

	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
		if (!strcasecmp(prefixes[i].w, w) &&
		    (e == SEARCH_RUNS || !prefixes[i].runs_only)) {
			*k = prefixes[i].k;
			return 0;
		}
	return -1;
}

static const char *
attr_names(enum search_entity e)
{
	return entities[e].attr_names;
}

/*
 * identifier := prefix '.' key | attribute-name; a key is a bare name (letters,
 * digits, '_', '.') or quoted with "..." or `...`.
 */
/*
 * latest_metrics carries a copy of its run's experiment, lifecycle stage and
 * start time (sql/013_search_perf.sql); any other run attribute in a search
 * makes its metric-sorted part join runs.
 */
static void
attr_seen(struct ctx *c, const struct attr *a)
{
	if (c->entity == SEARCH_RUNS && strcmp(a->sql, "r.run_uuid") != 0 &&
	    strcmp(a->sql, "r.start_time") != 0 && strcmp(a->sql, "r.lifecycle_stage") != 0)
		c->needs_runs = 1;
}

static int
parse_ident(struct ctx *c, struct ident *id)
{
	struct token t, d;
	size_t at;

	if (next(c, &t) == -1)
		return -1;
	at = t.at + 1;
	if (t.t != T_WORD)
		return fail(c, "expected an identifier such as %s at position %zu",
		    c->entity == SEARCH_RUNS ? "metrics.rmse" : "name", at);
	/* The dot must touch the prefix: "metrics.rmse" ("metrics .5" is no identifier). */
	if (c->src[c->pos] != '.') {
		/* A bare attribute name: run_name, status, name, ... */
		if ((id->attr = find_attr(c->entity, t.s)) == NULL)
			return fail(c, "invalid identifier '%.100s' at position %zu: use "
			    "%s or one of the attributes %s", t.s, at,
			    c->entity == SEARCH_RUNS ? "metrics.<key>, params.<key>, tags.<key>"
			    : "tags.<key>", attr_names(c->entity));
		id->kind = K_ATTR;
		attr_seen(c, id->attr);
		return 0;
	}
	c->pos++;
	if (kind_of(c->entity, t.s, &id->kind) == -1)
		return fail(c, "invalid entity type '%.100s' at position %zu: expected %s",
		    t.s, at, c->entity == SEARCH_RUNS ? "metrics, params, tags or "
		    "attributes" : "tags or attributes");
	/* The key: a quoted name, or bare words joined by dots ("mlflow.runName"). */
	if (peek(c, &d) == -1)
		return -1;
	if (d.t == T_QUOTED_KEY || (d.t == T_STRING && c->src[d.at] == '"')) {
		(void)next(c, &d);
		id->key = d.s;
	} else if (d.t == T_WORD || d.t == T_NUMBER) {
		struct buf k;
		char *key;

		buf_init(&k, 1000);
		for (;;) {
			(void)next(c, &d);
			if ((d.t != T_WORD && d.t != T_NUMBER) || buf_add(&k, d.s, d.len) == -1) {
				buf_free(&k);
				return fail(c, "invalid key at position %zu", d.at + 1);
			}
			/* Adjacent dot continues the key; a space ends it. */
			if (c->src[c->pos] != '.')
				break;
			c->pos++;
			if (buf_addc(&k, '.') == -1) {
				buf_free(&k);
				return fail(c, "key too long at position %zu", at);
			}
		}
		key = arena_strdup(c->a, buf_str(&k));
		buf_free(&k);
		if (key == NULL)
			return fail(c, "filter too large");
		id->key = key;
	} else
		return fail(c, "expected a key after '%.20s.' at position %zu", t.s,
		    d.at + 1);
	if (id->key[0] == '\0')
		return fail(c, "empty key at position %zu", at);
	if (id->kind == K_ATTR) {
		if ((id->attr = find_attr(c->entity, id->key)) == NULL)
			return fail(c, "invalid attribute key '%.100s' at position %zu: "
			    "expected one of %s", id->key, at, attr_names(c->entity));
		id->key = NULL;
		attr_seen(c, id->attr);
	}
	return 0;
}

/* ---- the filter ---- */

static int
add_where(struct ctx *c, const char *fmt, ...) PRINTF(2, 3);

static int
add_where(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&c->where, fmt, ap);
	va_end(ap);
	return rc == -1 ? fail(c, "search too large") : 0;
}

static const char *
sql_op(const struct token *op)
{
	if (op->t == T_OP) {
		if (op->len == 2 && (!memcmp(op->s, "!=", 2) || !memcmp(op->s, "<>", 2)))
			return "<>";
		if (op->len == 2 && !memcmp(op->s, "<=", 2))
			return "<=";
		if (op->len == 2 && !memcmp(op->s, ">=", 2))
			return ">=";
		if (op->s[0] == '=')
			return "=";
		if (op->s[0] == '<')
			return "<";
		if (op->s[0] == '>')
			return ">";
	}
	if (word_is(op, "like"))
		return "LIKE";
	if (word_is(op, "ilike"))
		return "ILIKE";
	return NULL;
}

static int
is_string_op(const char *op)
{
	return !strcmp(op, "=") || !strcmp(op, "<>") || !strcmp(op, "LIKE") ||
	    !strcmp(op, "ILIKE");
}

static const char *
kind_name(const struct ident *id)
{
	switch (id->kind) {
	case K_METRIC: return "metric";
	case K_PARAM: return "parameter";
	case K_TAG: return "tag";
	case K_ATTR: return "attribute";
	}
	return "identifier";
}

/* run_id IN ('a', 'b') / NOT IN (...) */
static int
parse_in(struct ctx *c, const struct ident *id, int negate, size_t at)
{
	struct token t;
	int n = 0;

	if (!id->attr->in_list)
		return fail(c, "IN is only supported for run_id (position %zu)", at);
	if (next(c, &t) == -1)
		return -1;
	if (t.t != T_LPAREN)
		return fail(c, "expected '(' after IN at position %zu", t.at + 1);
	if (add_where(c, " AND %s %sIN (", id->attr->sql, negate ? "NOT " : "") == -1)
		return -1;
	for (;;) {
		int p;

		if (next(c, &t) == -1)
			return -1;
		if (t.t != T_STRING)
			return fail(c, "expected a quoted string in the IN list at position %zu",
			    t.at + 1);
		if ((p = param(c, t.s)) == -1 || add_where(c, "%s$%d", n ? "," : "", p) == -1)
			return -1;
		n++;
		if (next(c, &t) == -1)
			return -1;
		if (t.t == T_RPAREN)
			break;
		if (t.t != T_COMMA)
			return fail(c, "expected ',' or ')' in the IN list at position %zu",
			    t.at + 1);
	}
	return add_where(c, ")");
}

static int
parse_clause(struct ctx *c)
{
	struct ident id = { 0 };
	struct token op, v;
	const char *sop;
	enum vtype want;
	int pk, pv, rc;

	if (parse_ident(c, &id) == -1)
		return -1;
	if (next(c, &op) == -1)
		return -1;
	if (word_is(&op, "in") || word_is(&op, "not")) {
		int negate = word_is(&op, "not");

		if (negate) {
			if (next(c, &op) == -1)
				return -1;
			if (!word_is(&op, "in"))
				return fail(c, "expected IN after NOT at position %zu", op.at + 1);
		}
		if (id.kind != K_ATTR)
			return fail(c, "IN is only supported for run_id (position %zu)", op.at + 1);
		return parse_in(c, &id, negate, op.at + 1);
	}
	if ((sop = sql_op(&op)) == NULL)
		return fail(c, "expected a comparison operator (=, !=, <, <=, >, >=, LIKE, "
		    "ILIKE) at position %zu", op.at + 1);
	want = id.kind == K_METRIC ? V_FLOAT : id.kind == K_ATTR ? id.attr->type : V_TEXT;
	if (want == V_TEXT && !is_string_op(sop))
		return fail(c, "invalid comparator '%s' for %s %s at position %zu: only =, "
		    "!=, LIKE and ILIKE compare strings", sop, kind_name(&id),
		    id.key ? id.key : id.attr->name, op.at + 1);
	if (want != V_TEXT && (!strcmp(sop, "LIKE") || !strcmp(sop, "ILIKE")))
		return fail(c, "invalid comparator '%s' for %s %s at position %zu: "
		    "numbers compare with =, !=, <, <=, > and >=", sop, kind_name(&id),
		    id.key ? id.key : id.attr->name, op.at + 1);
	if (next(c, &v) == -1)
		return -1;
	if (want == V_TEXT && v.t != T_STRING)
		return fail(c, "expected a quoted string value for %s at position %zu "
		    "(e.g. 'my-value')", kind_name(&id), v.at + 1);
	if (want != V_TEXT && v.t != T_NUMBER)
		return fail(c, "expected a numeric value for %s at position %zu", kind_name(&id),
		    v.at + 1);
	if (want == V_INT && strspn(v.s + (v.s[0] == '-' || v.s[0] == '+'),
	    "0123456789") != v.len - (v.s[0] == '-' || v.s[0] == '+'))
		return fail(c, "expected an integer (milliseconds) for %s at position %zu",
		    id.attr->name, v.at + 1);
	if (want == V_INT && v.len > 19)
		return fail(c, "integer out of range at position %zu", v.at + 1);
	if (id.kind == K_ATTR) {
		if ((pv = param(c, v.s)) == -1)
			return -1;
		return add_where(c, " AND %s %s $%d%s", id.attr->sql, sop, pv,
		    want == V_INT ? "::bigint" : "");
	}
	if ((pk = param(c, id.key)) == -1 || (pv = param(c, v.s)) == -1)
		return -1;
	if (c->entity == SEARCH_RUNS && c->nexists++ == 0) {
		/* The first such clause can drive the filter (split_with_metric). */
		c->drive = arena_printf(c->a, "%s r WHERE r.key = $%d AND r.value %s $%d%s",
		    id.kind == K_METRIC ? "latest_metrics" : id.kind == K_PARAM ? "params" :
		    "tags", pk, sop, pv, id.kind == K_METRIC ? "::float8 AND r.experiment_id "
		    "= ANY($1::bigint[])" : "");
		c->drive_at = c->where.len;
		if (c->drive == NULL)
			return fail(c, "search too large");
	}
	if (id.kind == K_METRIC)
		rc = add_where(c, " AND EXISTS (SELECT 1 FROM latest_metrics f WHERE "
		    "f.run_uuid = r.run_uuid AND f.key = $%d AND f.value %s $%d::float8)",
		    pk, sop, pv);
	else if (id.kind == K_PARAM)
		rc = add_where(c, " AND EXISTS (SELECT 1 FROM params f WHERE f.run_uuid = "
		    "r.run_uuid AND f.key = $%d AND f.value %s $%d)", pk, sop, pv);
	else
		rc = add_where(c, entities[c->entity].tag_exists, pk, sop, pv);
	if (c->entity == SEARCH_RUNS && c->nexists == 1)
		c->drive_end = c->where.len;
	return rc;
}

static int
parse_filter(struct ctx *c)
{
	struct token t;
	int n = 0;

	if (c->src == NULL)
		return 0;
	if (strlen(c->src) > SEARCH_FILTER_MAX)
		return fail(c, "filter longer than %d bytes", SEARCH_FILTER_MAX);
	if (!utf8_valid(c->src, strlen(c->src)))
		return fail(c, "filter is not valid UTF-8");
	c->pos = 0;
	if (peek(c, &t) == -1)
		return -1;
	if (t.t == T_END)
		return 0;
	for (;;) {
		if (++n > SEARCH_MAX_CLAUSES)
			return fail(c, "filter has more than %d clauses", SEARCH_MAX_CLAUSES);
		if (parse_clause(c) == -1)
			return -1;
		c->nclauses = n;
		if (next(c, &t) == -1)
			return -1;
		if (t.t == T_END)
			return 0;
		if (word_is(&t, "or"))
			return fail(c, "OR is not supported (position %zu): filters are "
			    "clauses joined by AND", t.at + 1);
		if (!word_is(&t, "and"))
			return fail(c, "expected AND or the end of the filter at position %zu",
			    t.at + 1);
	}
}

/* ---- order_by ---- */

static int
add_term(struct ctx *c, const char *expr, const char *cast, int desc, int nullable)
{
	struct term *t;

	if (c->nterms >= (int)ARRAY_LEN(c->terms))
		return fail(c, "too many order_by clauses (at most %d)", SEARCH_MAX_ORDER);
	t = &c->terms[c->nterms++];
	t->expr = expr;
	t->cast = cast;
	t->desc = desc;
	t->nullable = nullable;
	return 0;
}

static const char *
cast_of(enum vtype t)
{
	return t == V_FLOAT ? "::float8" : t == V_INT ? "::bigint" : "";
}

/* "metrics.rmse DESC", "attributes.start_time", "params.`lr` ASC" */
static int
parse_order(struct ctx *c, const char *clause)
{
	struct ident id = { 0 };
	struct token t;
	char saved[SEARCH_ERR_MAX];
	int desc = 0, pk, j;
	const char *expr;

	c->src = clause;
	c->pos = 0;
	if (strlen(clause) > 1000 || !utf8_valid(clause, strlen(clause)))
		return fail(c, "invalid order_by clause: longer than 1000 bytes or not UTF-8");
	if (parse_ident(c, &id) == -1)
		goto bad;
	if (next(c, &t) == -1)
		goto bad;
	if (word_is(&t, "desc") || word_is(&t, "asc")) {
		desc = word_is(&t, "desc");
		if (next(c, &t) == -1)
			goto bad;
	}
	if (t.t != T_END) {
		fail(c, "unexpected '%.40s' at position %zu", c->src + t.at, t.at + 1);
		goto bad;
	}
	if (id.kind == K_ATTR)
		return add_term(c, id.attr->sql, cast_of(id.attr->type), desc,
		    id.attr->nullable);
	if ((pk = param(c, id.key)) == -1)
		return -1;
	j = ++c->njoins;
	/* Sorted first on a metric: the runs that have it come from its rows (split). */
	if (id.kind == K_METRIC && c->nterms == 0 && j == 1 && c->entity == SEARCH_RUNS) {
		c->lead_metric = 1;
		c->lead_key = pk;
	}
	if (id.kind == K_TAG) {
		int rc = c->entity == SEARCH_VERSIONS ?
		    buf_printf(&c->joins, entities[c->entity].tag_join, j, j, j, j, pk) :
		    buf_printf(&c->joins, entities[c->entity].tag_join, j, j, j, pk);

		if (rc == -1)
			return fail(c, "search too large");
	} else if (buf_printf(&c->joins, " LEFT JOIN %s o%d ON o%d.run_uuid = r.run_uuid "
	    "AND o%d.key = $%d", id.kind == K_METRIC ? "latest_metrics" : "params",
	    j, j, j, pk) == -1)
		return fail(c, "search too large");
	if ((expr = arena_printf(c->a, "o%d.value", j)) == NULL)
		return fail(c, "search too large");
	return add_term(c, expr, id.kind == K_METRIC ? "::float8" : "", desc, 1);
bad:
	snprintf(saved, sizeof(saved), "%s", c->err);
	return fail(c, "invalid order_by clause '%.200s': %s", clause, saved);
}

/* ---- page tokens ---- */

char *
search_page_token(struct arena *a, const char *const *keys, int nkeys)
{
	json_t *arr = json_array();
	char *js = NULL, *out = NULL;
	size_t n, cap;

	if (arr == NULL)
		return NULL;
	for (int i = 0; i < nkeys; i++)
		if (json_array_append_new(arr, keys[i] ? json_string(keys[i]) :
		    json_null()) == -1)
			goto out;
	if ((js = json_dumps(arr, JSON_COMPACT)) == NULL)
		goto out;
	n = strlen(js);
	cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (cap > SEARCH_TOKEN_MAX || (out = arena_alloc(a, cap)) == NULL)
		goto out;
	sodium_bin2base64(out, cap, (const unsigned char *)js, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
out:
	free(js);
	json_decref(arr);
	return out;
}

int
search_token_decode(struct arena *a, const char *tok, const char **keys, int nkeys)
{
	size_t len = strlen(tok), n;
	unsigned char *raw;
	json_t *arr;
	int rc = -1;

	if (len > SEARCH_TOKEN_MAX || (raw = arena_alloc(a, len + 1)) == NULL)
		return -1;
	if (sodium_base642bin(raw, len, tok, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	arr = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(arr) || json_array_size(arr) != (size_t)nkeys)
		goto out;
	for (int i = 0; i < nkeys; i++) {
		json_t *v = json_array_get(arr, (size_t)i);

		if (json_is_null(v))
			keys[i] = NULL;
		else if (json_is_string(v) && utf8_valid(json_string_value(v),
		    json_string_length(v))) {
			if ((keys[i] = arena_strdup(a, json_string_value(v))) == NULL)
				goto out;
		} else
			goto out;
	}
	rc = 0;
out:
	json_decref(arr);
	return rc;
}

/* A token's values: one per term, NULL only where the term may be NULL. */
static int
decode_token(struct ctx *c, const char *tok, const char **keys)
{
	if (search_token_decode(c->a, tok, keys, c->nterms) == -1)
		return fail(c, "invalid page token (it may belong to a search with "
		    "another order_by)");
	for (int i = 0; i < c->nterms; i++)
		if (keys[i] == NULL && !c->terms[i].nullable)
			return fail(c, "invalid page token");
	return 0;
}

/*
 * The rows after the token on terms[from..]: "(t < k) OR (t = k AND u < l)
 * OR ..." in each term's direction, NULLs last; FALSE for an empty chain.
 */
static int
keyset_chain(struct ctx *c, struct buf *b, int from, const char *const *keys, const int *p)
{
	if (from >= c->nterms)
		return buf_adds(b, "FALSE");
	if (buf_addc(b, '(') == -1)
		return -1;
	for (int i = from; i < c->nterms; i++) {
		const struct term *t = &c->terms[i];

		if (buf_printf(b, "%s(", i > from ? " OR " : "") == -1)
			return -1;
		for (int j = from; j < i; j++) {
			const struct term *u = &c->terms[j];

			if (keys[j] == NULL ? buf_printf(b, "%s IS NULL AND ", u->expr) == -1 :
			    buf_printf(b, "%s = $%d%s AND ", u->expr, p[j], u->cast) == -1)
				return -1;
		}
		if (keys[i] == NULL) {
			if (buf_adds(b, "FALSE)") == -1)
				return -1;
		} else if (buf_printf(b, "%s %s $%d%s", t->expr, t->desc ? "<" : ">", p[i],
		    t->cast) == -1 || (t->nullable && buf_printf(b, " OR %s IS NULL",
		    t->expr) == -1) || buf_addc(b, ')') == -1)
			return -1;
	}
	return buf_addc(b, ')');
}

/*
 * Rows strictly after keys in the ORDER BY: for terms t1..tn,
 * OR over i of (t1 = k1 AND ... AND t(i-1) = k(i-1) AND ti after ki), where
 * NULLs sort last in either direction. A token value is compared as the
 * column's type (the text Postgres wrote round-trips exactly, floats included).
 */
static int
add_keyset(struct ctx *c, const char *const *keys)
{
	int *p = arena_alloc(c->a, sizeof(int) * (size_t)c->nterms);

	if (p == NULL)
		return fail(c, "search too large");
	for (int i = 0; i < c->nterms; i++)
		if (keys[i] != NULL && (p[i] = param(c, keys[i])) == -1)
			return -1;
	/*
	 * The runs that have the leading metric (search_query.split) get the
	 * token as "t0 <= k0 AND (t0 <> k0 OR later on the ties)": the first
	 * half bounds the (key, value) index scan, and the planner estimates
	 * the whole as that bound alone. The chain below, ANDed with the bound,
	 * was estimated as the bound's square (0.3 of the rows for 0.54 on
	 * issue 7's next page), which turned the join order around: 103 ms
	 * instead of 63.
	 */
	if (c->lead_metric && keys[0] == NULL)
		c->lead_null = 1;
	else if (c->lead_metric) {
		const struct term *t = &c->terms[0];
		struct buf b;

		buf_init(&b, SQL_MAX);
		if (buf_printf(&b, " AND %s %s $%d%s AND (%s <> $%d%s OR ", t->expr,
		    t->desc ? "<=" : ">=", p[0], t->cast, t->expr, p[0], t->cast) == -1 ||
		    keyset_chain(c, &b, 1, keys, p) == -1 || buf_addc(&b, ')') == -1 ||
		    (c->lead_keyset = arena_strdup(c->a, buf_str(&b))) == NULL) {
			buf_free(&b);
			return fail(c, "search too large");
		}
		buf_free(&b);
	}
	/* An index-friendly bound on the leading term. */
	if (!c->terms[0].nullable && add_where(c, " AND %s %s $%d%s", c->terms[0].expr,
	    c->terms[0].desc ? "<=" : ">=", p[0], c->terms[0].cast) == -1)
		return -1;
	if (add_where(c, " AND ") == -1 || keyset_chain(c, &c->where, 0, keys, p) == -1)
		return fail(c, "search too large");
	return 0;
}

/*
 * How the leading term's NULLs are ordered in a split part, where it is a
 * NOT NULL value: as in the whole query (NULLs last); as the direction's
 * default, which the (key, value) index serves in either direction; or
 * against it, which keeps the planner off an ordered walk of that index.
 */
enum lead_nulls { LEAD_NULLS_LAST, LEAD_AS_INDEX, LEAD_AGAINST_INDEX };

/*
 * SELECT id, keys FROM ... WHERE ... ORDER BY ... LIMIT: the FROM/WHERE
 * (from_where, %s the joins), the joins and an extra condition vary between
 * the whole query and its split parts.
 */
static const char *
assemble(struct ctx *c, const char *from_where, const char *joins, const char *where,
    const char *extra, enum lead_nulls lead)
{
	const struct entity_def *e = &entities[c->entity];
	const char *out = NULL;
	struct buf b;

	buf_init(&b, SQL_MAX);
	if (buf_printf(&b, "SELECT %s", e->select) == -1)
		goto out;
	for (int i = 0; i < c->nterms; i++)
		if (buf_printf(&b, ", (%s)::text", c->terms[i].expr) == -1)
			goto out;
	if (buf_printf(&b, from_where, joins) == -1 || buf_adds(&b, where) == -1 ||
	    buf_adds(&b, extra) == -1 || buf_adds(&b, " ORDER BY ") == -1)
		goto out;
	for (int i = 0; i < c->nterms; i++) {
		const struct term *t = &c->terms[i];
		const char *nulls = t->nullable ? " NULLS LAST" : "";

		if (i == 0 && lead == LEAD_AS_INDEX)
			nulls = "";
		else if (i == 0 && lead == LEAD_AGAINST_INDEX)
			nulls = t->desc ? " NULLS LAST" : " NULLS FIRST";
		if (buf_printf(&b, "%s%s %s%s", i ? ", " : "", t->expr, t->desc ? "DESC" : "ASC",
		    nulls) == -1)
			goto out;
	}
	if (buf_printf(&b, " LIMIT $%d::int", e->nfixed) == -1)
		goto out;
	out = arena_strdup(c->a, buf_str(&b));
out:
	buf_free(&b);
	return out;
}

/*
 * The runs that have the leading metric, driven from its latest_metrics rows
 * (o1): their copies of the run's experiment, stage and start time decide
 * membership and ties, so runs is joined only for other attributes. r is
 * then a name for o1's columns, which every condition and key already uses.
 * Unfiltered, the order follows the (key, value) index and the walk stops at
 * the page. Filtered, it goes against it: the planner would walk and probe
 * each run against the filter, estimating few probes per match, and that
 * read most of the index on issue 7's data, where m0 < 0.5 rejects the top of
 * m1 (2.7 s); hash joins of the filter's indexes are bounded by what the
 * filter keeps. NULL when the page token lies past these runs (or on error).
 */
static const char *
split_with_metric(struct ctx *c)
{
	const char *joins = buf_str(&c->joins), *from, *where;
	size_t skip;

	if (c->lead_null)
		return NULL;
	/* o1 is the first join; the rest join to r.run_uuid. */
	if (strncmp(joins, " LEFT JOIN latest_metrics o1 ", 29) != 0)
		return NULL;
	skip = strlen(" LEFT JOIN latest_metrics o1 ON o1.run_uuid = r.run_uuid AND o1.key = $");
	skip += strspn(joins + skip, "0123456789");
	from = arena_printf(c->a, " FROM latest_metrics o1 %s%%s WHERE o1.key = $%d AND "
	    "o1.experiment_id = ANY($1::bigint[]) AND o1.run_stage = ANY($2::text[])",
	    c->needs_runs ? "JOIN runs r ON r.run_uuid = o1.run_uuid" : "CROSS JOIN LATERAL "
	    "(SELECT o1.run_uuid, o1.run_stage AS lifecycle_stage, o1.run_start AS start_time) r",
	    c->lead_key);
	if (from == NULL)
		return NULL;
	where = arena_printf(c->a, "%.*s%s", (int)c->filter_len, buf_str(&c->where),
	    c->lead_keyset != NULL ? c->lead_keyset : "");
	/*
	 * A filter of metric, param and tag clauses alone is fenced: the runs
	 * it keeps are computed first (driven from its first clause's rows) and
	 * only then matched with the leading metric's. Left to itself, the
	 * planner may join the leading metric's rows with a filter metric's
	 * first when it takes them for independent; on issue 7's data (m1
	 * follows m0) that choice flipped with each ANALYZE sample and cost the
	 * next page 100 ms instead of 63.
	 */
	if (c->nclauses > 0 && c->nexists == c->nclauses && c->drive != NULL)
		where = arena_printf(c->a, " AND o1.run_uuid IN (SELECT r.run_uuid FROM %s "
		    "%.*s%.*s OFFSET 0)%s", c->drive, (int)c->drive_at, buf_str(&c->where),
		    (int)(c->filter_len - c->drive_end), buf_str(&c->where) + c->drive_end,
		    c->lead_keyset != NULL ? c->lead_keyset : "");
	if (where == NULL)
		return NULL;
	return assemble(c, from, joins + skip, where, "",
	    c->nclauses == 0 ? LEAD_AS_INDEX : LEAD_AGAINST_INDEX);
}

int
search_compile(struct arena *a, enum search_entity entity, const char *filter,
    const char *const *order_by, size_t norder, const char *page_token,
    struct search_query *q, char *err, size_t errlen)
{
	struct ctx c;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	memset(q, 0, sizeof(*q));
	c.a = a;
	c.entity = entity;
	c.err = err;
	c.errlen = errlen;
	buf_init(&c.where, SQL_MAX);
	buf_init(&c.joins, SQL_MAX);
	if ((c.vals = arena_alloc(a, sizeof(char *) * SEARCH_MAX_PARAMS)) == NULL) {
		fail(&c, "search too large");
		goto out;
	}
	c.nvals = q->nfixed = entities[entity].nfixed;
	c.src = filter;
	if (filter != NULL && parse_filter(&c) == -1)
		goto out;
	c.filter_len = c.where.len;
	if (norder > SEARCH_MAX_ORDER) {
		fail(&c, "too many order_by clauses (at most %d)", SEARCH_MAX_ORDER);
		goto out;
	}
	for (size_t i = 0; i < norder; i++)
		if (parse_order(&c, order_by[i]) == -1)
			goto out;
	/* Tie-breakers make the order total, which keyset pages need. */
	for (int i = 0; i < 2; i++)
		if (entities[entity].ties[i][0] != NULL &&
		    add_term(&c, entities[entity].ties[i][0], entities[entity].ties[i][1],
		    entities[entity].ties_desc[i], 0) == -1)
			goto out;
	if (page_token != NULL && *page_token != '\0') {
		const char **keys = arena_alloc(a, sizeof(char *) * (size_t)c.nterms);

		if (keys == NULL || decode_token(&c, page_token, keys) == -1 ||
		    add_keyset(&c, keys) == -1)
			goto out;
	}
	if ((q->sql = assemble(&c, entities[entity].from_where, buf_str(&c.joins),
	    buf_str(&c.where), "", LEAD_NULLS_LAST)) == NULL)
		goto toolarge;
	if (c.lead_metric && (q->split[0] = split_with_metric(&c)) == NULL && !c.lead_null)
		goto toolarge;
	if (c.lead_metric) {
		if ((q->split[1] = assemble(&c, entities[entity].from_where, buf_str(&c.joins),
		    buf_str(&c.where), " AND o1.run_uuid IS NULL", LEAD_NULLS_LAST)) == NULL)
			goto toolarge;
		q->nsplit = 2;
	}
	q->entity = entity;
	q->vals = c.vals;
	q->nvals = c.nvals;
	q->nkeys = c.nterms;
	rc = 0;
	goto out;
toolarge:
	fail(&c, "search too large");
out:
	buf_free(&c.where);
	buf_free(&c.joins);
	return rc;
}
