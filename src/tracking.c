/* tracking.c: experiments, runs, params, metrics, tags and datasets on Postgres, in MLflow's shapes and with its rules. */
#include "tracking.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "db.h"
#include "perm.h"
#include "search.h"

#define ARRAY_TEXT_MAX (8u << 20)   /* one Postgres array literal */

#define ERR_INVALID "INVALID_PARAMETER_VALUE"
#define ERR_MISSING "RESOURCE_DOES_NOT_EXIST"
#define ERR_EXISTS "RESOURCE_ALREADY_EXISTS"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int
trk_view_parse(const char *s, enum trk_view *v)
{
	if (s == NULL || !strcmp(s, "ACTIVE_ONLY") || !strcmp(s, "1"))
		*v = TRK_ACTIVE_ONLY;
	else if (!strcmp(s, "DELETED_ONLY") || !strcmp(s, "2"))
		*v = TRK_DELETED_ONLY;
	else if (!strcmp(s, "ALL") || !strcmp(s, "3"))
		*v = TRK_ALL;
	else
		return -1;
	return 0;
}

static const char *
view_stages(enum trk_view v)
{
	return v == TRK_ALL ? "{active,deleted}" : v == TRK_DELETED_ONLY ? "{deleted}" :
	    "{active}";
}

/* Characters (code points) of valid UTF-8: MLflow's limits count characters. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* ---- Postgres array literals: every element double-quoted ---- */

static int
arr_add(struct buf *b, const char *s)
{
	if (buf_adds(b, b->len == 0 ? "{\"" : ",\"") == -1)
		return -1;
	for (; *s != '\0'; s++)
		if (((*s == '"' || *s == '\\') && buf_addc(b, '\\') == -1) ||
		    buf_addc(b, *s) == -1)
			return -1;
	return buf_addc(b, '"');
}

static const char *
arr_end(struct buf *b)
{
	if (b->len == 0)
		return buf_adds(b, "{}") == 0 ? buf_str(b) : NULL;
	return buf_addc(b, '}') == 0 ? buf_str(b) : NULL;
}

/* An arena copy of the array literal of items[0..n). */
static const char *
arr_of(struct arena *a, const char *const *items, size_t n)
{
	struct buf b;
	const char *s = NULL;

	buf_init(&b, ARRAY_TEXT_MAX);
	for (size_t i = 0; i < n; i++)
		if (arr_add(&b, items[i]) == -1)
			goto out;
	if (arr_end(&b) != NULL)
		s = arena_strdup(a, buf_str(&b));
out:
	buf_free(&b);
	return s;
}

/* ---- identifiers and names ---- */

/* MLflow's run ids: [a-zA-Z0-9][\w-]{0,255}; ours are 32 lowercase hex. */
static int
check_run_id(struct req *r, const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 256 || !isalnum((unsigned char)id[0]) ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n) {
		resp_error_code(r, ERR_INVALID, "Invalid run ID: '%.300s'", id);
		return 1;
	}
	return 0;
}

/* 1 (answered) unless id is a well-formed experiment id; 2 for well-formed ids that cannot exist here. */
static int
check_exp_id(struct req *r, const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64 || !isalnum((unsigned char)id[0]) ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n) {
		resp_error_code(r, ERR_INVALID, "Invalid experiment ID: '%.100s'", id);
		return 1;
	}
	if (n > 18 || strspn(id, "0123456789") != n) {
		resp_error_code(r, ERR_MISSING, "No Experiment with id=%s exists", id);
		return 1;
	}
	return 0;
}

/*
 * MLflow's key rule: alphanumerics, '_', '-', '.', ' ' and '/', and a name
 * that means the same when read as a relative file path ("a/./b", "../x",
 * "/x", "a//b" and "a/" are refused). Non-ASCII letters count as
 * alphanumerics, as Python's \w does.
 */
static int
key_check(struct req *r, const char *what, const char *k)
{
	const char *seg = k;

	for (const char *p = k; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && (unsigned char)*p < 0x80 &&
		    strchr("_-. /", *p) == NULL) {
			resp_error_code(r, ERR_INVALID, "Invalid %s name: '%.250s'. Names may "
			    "only contain alphanumerics, underscores (_), dashes (-), periods "
			    "(.), spaces ( ), and slashes (/).", what, k);
			return 1;
		}
	for (const char *p = k; ; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - seg);

			if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' &&
			    seg[1] == '.')) {
				resp_error_code(r, ERR_INVALID, "Invalid %s name: '%.250s'. Names "
				    "may be treated as files in certain cases, and must not resolve "
				    "to other names when treated as such.", what, k);
				return 1;
			}
			if (*p == '\0')
				break;
			seg = p + 1;
		}
	}
	return 0;
}

/* MLflow: "<Entity> '<first 250>' had length N, which exceeded length limit of L". */
static int
length_check(struct req *r, const char *entity, const char *s, size_t limit)
{
	size_t n = chars(s);

	if (n > limit) {
		resp_error_code(r, ERR_INVALID, "%s '%.250s' had length %zu, which exceeded "
		    "length limit of %zu", entity, s, n, limit);
		return 1;
	}
	return 0;
}

/* A {key, value} object's strings; 1 (answered) when either is absent or not a string. */
static int
kv_of(struct req *r, json_t *o, const char *list, size_t i, const char **k,
    const char **v, int value_required)
{
	json_t *jk = json_object_get(o, "key"), *jv = json_object_get(o, "value");

	if (!json_is_object(o)) {
		resp_error_code(r, ERR_INVALID, "Invalid value for parameter '%s[%zu]': "
		    "expected an object", list, i);
		return 1;
	}
	if (!json_is_string(jk) || json_string_length(jk) == 0) {
		resp_error_code(r, ERR_INVALID, "Missing value for required parameter "
		    "'%s[%zu].key'. See the API docs for more information about request "
		    "parameters.", list, i);
		return 1;
	}
	if (jv != NULL && !json_is_null(jv) && !json_is_string(jv)) {
		resp_error_code(r, ERR_INVALID, "Invalid value for parameter '%s[%zu].value': "
		    "expected a string", list, i);
		return 1;
	}
	if (value_required && (jv == NULL || json_is_null(jv))) {
		resp_error_code(r, ERR_INVALID, "Missing value for required parameter "
		    "'%s[%zu].value'. See the API docs for more information about request "
		    "parameters.", list, i);
		return 1;
	}
	*k = json_string_value(jk);
	*v = jv != NULL && json_is_string(jv) ? json_string_value(jv) : "";
	return 0;
}

/* An int64 given as a JSON integer or a decimal string. */
static int
int64_of(json_t *j, long long *out)
{
	char *end;

	if (json_is_integer(j)) {
		*out = json_integer_value(j);
		return 0;
	}
	if (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)) &&
	    fabs(json_real_value(j)) < 9e18) {
		*out = (long long)json_real_value(j);
		return 0;
	}
	if (!json_is_string(j) || json_string_length(j) == 0 || json_string_length(j) > 20)
		return -1;
	errno = 0;
	*out = strtoll(json_string_value(j), &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/*
 * A metric value as Postgres float8 text: JSON numbers, and the strings
 * protobuf's JSON uses for what JSON cannot say ("NaN", "Infinity",
 * "-Infinity") or any decimal string.
 */
static int
metric_value(json_t *j, char *out, size_t len, int *is_nan)
{
	double d;
	char *end;

	*is_nan = 0;
	if (json_is_integer(j)) {
		snprintf(out, len, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return 0;
	}
	if (json_is_real(j))
		d = json_real_value(j);
	else if (json_is_string(j) && json_string_length(j) > 0 && json_string_length(j) < 64) {
		const char *s = json_string_value(j);

		if (!strcmp(s, "NaN") || !strcmp(s, "nan")) {
			*is_nan = 1;
			snprintf(out, len, "NaN");
			return 0;
		}
		if (!strcmp(s, "Infinity") || !strcmp(s, "inf")) {
			snprintf(out, len, "Infinity");
			return 0;
		}
		if (!strcmp(s, "-Infinity") || !strcmp(s, "-inf")) {
			snprintf(out, len, "-Infinity");
			return 0;
		}
		errno = 0;
		d = strtod(s, &end);
		if (*end != '\0' || isspace((unsigned char)s[0]) || !isfinite(d))
			return -1;
	} else
		return -1;
	snprintf(out, len, "%.17g", d);
	return 0;
}

/* A metric value for JSON: a number, or protobuf's strings for NaN and the infinities. */
static json_t *
metric_json_value(const char *pgtext)
{
	if (!strcmp(pgtext, "NaN"))
		return json_string("NaN");
	if (!strcmp(pgtext, "Infinity"))
		return json_string("Infinity");
	if (!strcmp(pgtext, "-Infinity"))
		return json_string("-Infinity");
	return json_real(strtod(pgtext, NULL));
}

static json_t *
i64(const char *s)
{
	return json_integer((json_int_t)strtoll(s, NULL, 10));
}

/* ---- experiments ---- */

/* Row of EXP_GET & co.: id, name, artifact_location, lifecycle_stage, creation, update. */
static json_t *
exp_json(PGresult *res, int i)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}",
	    "experiment_id", PQgetvalue(res, i, 0), "name", PQgetvalue(res, i, 1),
	    "artifact_location", PQgetvalue(res, i, 2), "lifecycle_stage",
	    PQgetvalue(res, i, 3), "creation_time", i64(PQgetvalue(res, i, 4)),
	    "last_update_time", i64(PQgetvalue(res, i, 5)));
}

/* Adds "tags" to each experiment object of byid (experiment_id → object). */
static int
exp_add_tags(struct req *r, json_t *byid, const char *ids_array)
{
	const char *vals[1] = { ids_array };
	PGresult *res = db_exec(r->db, STMT_EXP_TAGS, 1, vals);

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *e = json_object_get(byid, PQgetvalue(res, i, 0)), *tags;

		if (e == NULL)
			continue;
		if ((tags = json_object_get(e, "tags")) == NULL) {
			tags = json_array();
			json_object_set_new(e, "tags", tags);
		}
		json_array_append_new(tags, json_pack("{s:s, s:s}", "key",
		    PQgetvalue(res, i, 1), "value", PQgetvalue(res, i, 2)));
	}
	PQclear(res);
	return 0;
}

/* One experiment with its tags from a one-row result; NULL on failure. */
static json_t *
exp_one(struct req *r, PGresult *res)
{
	json_t *e = exp_json(res, 0), *byid = json_object();
	const char *ids = arena_printf(r->a, "{%s}", PQgetvalue(res, 0, 0));

	json_object_set(byid, PQgetvalue(res, 0, 0), e);
	if (ids == NULL || exp_add_tags(r, byid, ids) == -1) {
		json_decref(e);
		e = NULL;
	}
	json_decref(byid);
	return e;
}

static int
exp_tag_check(struct req *r, const char *key, const char *value)
{
	if (key_check(r, "tag", key) || length_check(r, "Tag key", key, TRK_KEY_MAX) ||
	    length_check(r, "Tag value", value, TRK_TAG_VALUE_MAX))
		return 1;
	return 0;
}

int
tracking_experiment_create(struct req *r, const char *name, const char *artifact_location,
    json_t *tags, json_t **out)
{
	char now[24], uid[24];
	const char *vals[4] = { name, artifact_location ? artifact_location : "", now, uid };
	PGresult *res;
	char id[24];
	size_t n = json_array_size(tags);

	*out = NULL;
	if (chars(name) > TRK_EXP_NAME_MAX) {
		resp_error_code(r, ERR_INVALID, "Experiment name exceeds the maximum length "
		    "of %d characters", TRK_EXP_NAME_MAX);
		return 1;
	}
	if (artifact_location != NULL && !strncmp(artifact_location, "runs:", 5)) {
		resp_error_code(r, ERR_INVALID, "Artifact location cannot be a runs:/ URI. "
		    "Given: '%.200s'", artifact_location);
		return 1;
	}
	if (tags != NULL && !json_is_array(tags)) {
		resp_error_code(r, ERR_INVALID, "Invalid value for parameter 'tags': expected "
		    "a list of {key, value} objects");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *k, *v;

		if (kv_of(r, json_array_get(tags, i), "tags", i, &k, &v, 0) ||
		    exp_tag_check(r, k, v))
			return 1;
	}
	snprintf(now, sizeof(now), "%lld", now_ms());
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	if ((res = db_exec(r->db, STMT_EXP_INSERT, 4, vals)) == NULL) {
		int taken = !strcmp(db_sqlstate(r->db), "23505");

		db_rollback(r->db);
		if (!taken)
			return -1;
		if ((res = db_exec(r->db, STMT_EXP_BY_NAME, 1, vals)) == NULL)
			return -1;
		if (PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 3), "deleted"))
			resp_error_code(r, ERR_EXISTS, "Experiment(name=%.500s) already exists "
			    "in deleted state (id %s): restore it, or choose another name", name,
			    PQgetvalue(res, 0, 0));
		else
			resp_error_code(r, ERR_EXISTS, "Experiment(name=%.500s) already exists.",
			    name);
		PQclear(res);
		return 1;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	for (size_t i = 0; i < n; i++) {
		const char *k, *v;
		const char *tv[3] = { id, NULL, NULL };

		(void)kv_of(r, json_array_get(tags, i), "tags", i, &k, &v, 0);
		tv[1] = k;
		tv[2] = v;
		if ((res = db_exec(r->db, STMT_EXP_TAG_SET, 3, tv)) == NULL)
			goto fail;
		PQclear(res);
	}
	/* The creator manages it; granted in the experiment's own transaction. */
	if (perm_grant_creator_experiment(r, id) == -1)
		goto fail;
	if (db_command(r->db, "COMMIT") == -1)
		return -1;
	*out = json_pack("{s:s}", "experiment_id", id);
	return *out != NULL ? 0 : -1;
fail:
	db_rollback(r->db);
	return -1;
}

int
tracking_experiment_get(struct req *r, const char *id, json_t **out)
{
	const char *vals[1] = { id };
	PGresult *res;
	int rc;

	*out = NULL;
	if ((rc = check_exp_id(r, id)) != 0)
		return rc;
	if ((rc = perm_require_experiment(r, id, PERM_READ)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_EXP_GET, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, ERR_MISSING, "No Experiment with id=%s exists", id);
		return 1;
	}
	*out = exp_one(r, res);
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

int
tracking_experiment_get_by_name(struct req *r, const char *name, json_t **out)
{
	const char *vals[1] = { name };
	PGresult *res;

	*out = NULL;
	if ((res = db_exec(r->db, STMT_EXP_BY_NAME, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, ERR_MISSING, "Could not find experiment with name '%.500s'",
		    name);
		return 1;
	}
	{
		int rc = perm_require_experiment(r, PQgetvalue(res, 0, 0), PERM_READ);

		if (rc != 0) {
			PQclear(res);
			return rc;
		}
	}
	*out = exp_one(r, res);
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

static int
max_results_check(struct req *r, long long max)
{
	if (max < 1 || max > TRK_MAX_RESULTS) {
		resp_error_code(r, ERR_INVALID, "Invalid value for request parameter "
		    "max_results. It must be at most %d and at least 1, but got value %lld",
		    TRK_MAX_RESULTS, max);
		return 1;
	}
	return 0;
}

/*
 * Runs a compiled search with LIMIT max + 1; *ids gets the first max ids
 * (arena) and *token the next page's token ("" when this is the last page).
 * A split search runs its parts in order, the second only for what the first
 * left of the page.
 */
static int
search_run(struct req *r, struct search_query *q, long long max, const char ***ids,
    int *n, const char **token)
{
	const char *parts[2] = { q->sql, NULL }, **keys;
	long long got = 0;

	if (q->nsplit == 2) {
		parts[0] = q->split[0];
		parts[1] = q->split[1];
	}
	*token = "";
	*n = 0;
	if ((*ids = arena_alloc(r->a, sizeof(char *) * ((size_t)max + 1))) == NULL ||
	    (keys = arena_alloc(r->a, sizeof(char *) * (size_t)q->nkeys)) == NULL)
		return -1;
	for (int part = 0; part < 2 && got <= max; part++) {
		char lim[24];
		PGresult *res;
		int rows;

		if (parts[part] == NULL)
			continue;
		snprintf(lim, sizeof(lim), "%lld", max + 1 - got);
		q->vals[q->nfixed - 1] = lim;
		if ((res = db_query(r->db, parts[part], q->nvals, q->vals)) == NULL)
			return -1;
		rows = PQntuples(res);
		for (int i = 0; i < rows && got <= max; i++, got++) {
			if (got == max)
				continue;
			if (((*ids)[got] = arena_strdup(r->a, PQgetvalue(res, i, 0))) == NULL)
				goto fail;
			/* The sort keys of the page's last row make the token. */
			for (int k = 0; got == max - 1 && k < q->nkeys; k++) {
				keys[k] = NULL;
				if (!PQgetisnull(res, i, k + 1) && (keys[k] = arena_strdup(r->a,
				    PQgetvalue(res, i, k + 1))) == NULL)
					goto fail;
			}
		}
		PQclear(res);
		continue;
fail:
		PQclear(res);
		return -1;
	}
	*n = (int)(got > max ? max : got);
	if (got > max && (*token = search_page_token(r->a, keys, q->nkeys)) == NULL)
		return -1;
	return 0;
}

int
tracking_experiment_search(struct req *r, enum trk_view view, long long max_results,
    const char *filter, const char *const *order_by, size_t norder, const char *page_token,
    json_t **out)
{
	struct search_query q;
	char err[SEARCH_ERR_MAX];
	const char **ids, *token, *idarr, *vals[1];
	json_t *byid = NULL, *list;
	PGresult *res;
	int n;

	*out = NULL;
	if (max_results_check(r, max_results))
		return 1;
	if (search_compile(r->a, SEARCH_EXPERIMENTS, filter, order_by, norder, page_token,
	    &q, err, sizeof(err)) == -1) {
		resp_error_code(r, ERR_INVALID, "%s", err);
		return 1;
	}
	q.vals[0] = view_stages(view);
	if (search_run(r, &q, max_results, &ids, &n, &token) == -1)
		return -1;
	if ((idarr = arr_of(r->a, ids, (size_t)n)) == NULL)
		return -1;
	vals[0] = idarr;
	if ((res = db_exec(r->db, STMT_EXP_BY_IDS, 1, vals)) == NULL)
		return -1;
	byid = json_object();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_set_new(byid, PQgetvalue(res, i, 0), exp_json(res, i));
	PQclear(res);
	if (exp_add_tags(r, byid, idarr) == -1) {
		json_decref(byid);
		return -1;
	}
	list = json_array();
	for (int i = 0; i < n; i++) {
		json_t *e = json_object_get(byid, ids[i]);
		enum perm p;

		/* Only what the caller may read (a page may come out short). */
		if (perm_experiment(r, ids[i], &p) == -1) {
			json_decref(list);
			json_decref(byid);
			return -1;
		}
		if (e != NULL && p >= PERM_READ)
			json_array_append(list, e);
	}
	json_decref(byid);
	*out = json_pack("{s:o}", "experiments", list);
	if (*out != NULL && token[0] != '\0')
		json_object_set_new(*out, "next_page_token", json_string(token));
	return *out != NULL ? 0 : -1;
}

/* Locks the experiment row; fills stage (and the deletion time). 0, 1 (answered) or -1. */
static int
exp_lock(struct req *r, const char *id, char *stage, size_t slen, char *updated, size_t ulen)
{
	const char *vals[1] = { id };
	PGresult *res = db_exec(r->db, STMT_EXP_GET_FOR_UPDATE, 1, vals);

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, ERR_MISSING, "No Experiment with id=%s exists", id);
		return 1;
	}
	snprintf(stage, slen, "%s", PQgetvalue(res, 0, 3));
	snprintf(updated, ulen, "%s", PQgetvalue(res, 0, 5));
	PQclear(res);
	return 0;
}

/* BEGIN + exp_lock; on 1 or -1 the transaction is already rolled back. */
static int
exp_begin(struct req *r, const char *id, char *stage, size_t slen, char *upd, size_t ulen)
{
	int rc;

	if ((rc = check_exp_id(r, id)) != 0)
		return rc;
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	if ((rc = exp_lock(r, id, stage, slen, upd, ulen)) != 0)
		db_rollback(r->db);
	return rc;
}

/* EDIT on the experiment, BEGIN + lock, and the experiment must be active (tags). */
static int
exp_begin_active(struct req *r, const char *id)
{
	char stage[16], upd[24];
	int rc;

	if ((rc = perm_require_experiment(r, id, PERM_EDIT)) != 0)
		return rc;
	if ((rc = exp_begin(r, id, stage, sizeof(stage), upd, sizeof(upd))) != 0)
		return rc;
	if (strcmp(stage, "active") != 0) {
		db_rollback(r->db);
		resp_error_code(r, ERR_INVALID, "The experiment %s must be in the 'active' "
		    "state. Current state is %s.", id, stage);
		return 1;
	}
	return 0;
}

static int
commit(struct req *r)
{
	return db_command(r->db, "COMMIT") == -1 ? -1 : 0;
}

int
tracking_experiment_rename(struct req *r, const char *id, const char *new_name)
{
	char stage[16], upd[24], now[24];
	const char *vals[3] = { id, new_name, now };
	PGresult *res;
	int rc;

	if (chars(new_name) > TRK_EXP_NAME_MAX) {
		resp_error_code(r, ERR_INVALID, "Experiment name exceeds the maximum length "
		    "of %d characters", TRK_EXP_NAME_MAX);
		return 1;
	}
	if ((rc = perm_require_experiment(r, id, PERM_EDIT)) != 0)
		return rc;
	if ((rc = exp_begin(r, id, stage, sizeof(stage), upd, sizeof(upd))) != 0)
		return rc;
	if (strcmp(stage, "active") != 0) {
		db_rollback(r->db);
		resp_error_code(r, ERR_INVALID, "Cannot rename a non-active experiment.");
		return 1;
	}
	snprintf(now, sizeof(now), "%lld", now_ms());
	if ((res = db_exec(r->db, STMT_EXP_RENAME, 3, vals)) == NULL) {
		int taken = !strcmp(db_sqlstate(r->db), "23505");

		db_rollback(r->db);
		if (!taken)
			return -1;
		resp_error_code(r, ERR_EXISTS, "Experiment(name=%.500s) already exists.",
		    new_name);
		return 1;
	}
	PQclear(res);
	return commit(r);
}

/*
 * Deleting an experiment deletes its active runs with the same deletion
 * time; restoring brings back exactly those (runs deleted one by one
 * before stay deleted).
 */
int
tracking_experiment_delete(struct req *r, const char *id, int restore)
{
	char stage[16], upd[24], now[24];
	const char *vals[3] = { id, restore ? "active" : "deleted", now };
	const char *rv[2] = { id, NULL };
	PGresult *res;
	int rc;

	if (!restore && !strcmp(id, "0")) {
		resp_error_code(r, ERR_INVALID, "Cannot delete the default experiment '0'.");
		return 1;
	}
	if ((rc = perm_require_experiment(r, id, PERM_MANAGE)) != 0)
		return rc;
	if ((rc = exp_begin(r, id, stage, sizeof(stage), upd, sizeof(upd))) != 0)
		return rc;
	if (!strcmp(stage, restore ? "active" : "deleted")) {
		db_rollback(r->db);
		resp_error_code(r, ERR_INVALID, "The experiment %s must be in the '%s' "
		    "state. Current state is %s.", id, restore ? "deleted" : "active", stage);
		return 1;
	}
	snprintf(now, sizeof(now), "%lld", now_ms());
	if ((res = db_exec(r->db, STMT_EXP_SET_STAGE, 3, vals)) == NULL)
		goto fail;
	PQclear(res);
	rv[1] = restore ? upd : now;
	if ((res = db_exec(r->db, restore ? STMT_EXP_RUNS_RESTORE : STMT_EXP_RUNS_DELETE,
	    2, rv)) == NULL)
		goto fail;
	PQclear(res);
	return commit(r);
fail:
	db_rollback(r->db);
	return -1;
}

int
tracking_experiment_set_tag(struct req *r, const char *id, const char *key,
    const char *value)
{
	const char *vals[3] = { id, key, value };
	PGresult *res;
	int rc;

	if (exp_tag_check(r, key, value))
		return 1;
	if ((rc = exp_begin_active(r, id)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_EXP_TAG_SET, 3, vals)) == NULL) {
		db_rollback(r->db);
		return -1;
	}
	PQclear(res);
	return commit(r);
}

int
tracking_experiment_delete_tag(struct req *r, const char *id, const char *key)
{
	const char *vals[2] = { id, key };
	PGresult *res;
	int rc;

	if ((rc = exp_begin_active(r, id)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_EXP_TAG_DELETE, 2, vals)) == NULL) {
		db_rollback(r->db);
		return -1;
	}
	rc = atoi(PQcmdTuples(res));
	PQclear(res);
	if (rc == 0) {
		db_rollback(r->db);
		resp_error_code(r, ERR_MISSING, "No tag with name: %.250s in experiment with "
		    "id %s", key, id);
		return 1;
	}
	return commit(r);
}

/* ---- runs ---- */

static json_t *
run_info_json(PGresult *res, int i)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}",
	    "run_id", PQgetvalue(res, i, 0), "run_uuid", PQgetvalue(res, i, 0),
	    "experiment_id", PQgetvalue(res, i, 1), "run_name", PQgetvalue(res, i, 2),
	    "user_id", PQgetvalue(res, i, 3), "status", PQgetvalue(res, i, 4),
	    "start_time", i64(PQgetvalue(res, i, 5)), "lifecycle_stage",
	    PQgetvalue(res, i, 7), "artifact_uri", PQgetvalue(res, i, 8));

	if (o != NULL && !PQgetisnull(res, i, 6))
		json_object_set_new(o, "end_time", i64(PQgetvalue(res, i, 6)));
	return o;
}

/* Appends obj to run[section][list], creating both on first use. */
static void
run_append(json_t *run, const char *section, const char *list, json_t *obj)
{
	json_t *s = json_object_get(run, section), *l;

	if (s == NULL) {
		s = json_object();
		json_object_set_new(run, section, s);
	}
	if ((l = json_object_get(s, list)) == NULL) {
		l = json_array();
		json_object_set_new(s, list, l);
	}
	json_array_append_new(l, obj);
}

/*
 * Full runs (info, data, inputs) for ids[0..n), in that order; unknown ids
 * are skipped. With only, data holds those keys alone and inputs stay empty.
 */
static int
runs_load(struct req *r, const char *const *ids, size_t n, const struct trk_keys *only,
    json_t **out)
{
	const char *idarr = arr_of(r->a, ids, n), *vals[2] = { idarr, NULL };
	json_t *byid = NULL, *list;
	PGresult *res;
	static const char *const lists[TRK_KINDS] = { "params", "metrics", "tags" };
	static const enum stmt all[TRK_KINDS] = { STMT_RUNS_PARAMS, STMT_RUNS_METRICS,
	    STMT_RUNS_TAGS };
	static const enum stmt some[TRK_KINDS] = { STMT_RUNS_PARAMS_OF, STMT_RUNS_METRICS_OF,
	    STMT_RUNS_TAGS_OF };

	*out = NULL;
	if (idarr == NULL || (res = db_exec(r->db, STMT_RUNS_BY_IDS, 1, vals)) == NULL)
		return -1;
	byid = json_object();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_set_new(byid, PQgetvalue(res, i, 0), json_pack("{s:o, s:{}, s:{}}",
		    "info", run_info_json(res, i), "data", "inputs"));
	PQclear(res);
	for (int k = 0; k <= TRK_KINDS; k++) {
		int inputs = k == TRK_KINDS;

		if (only != NULL && (inputs || only->n[k] == 0))
			continue;
		if (only != NULL && (vals[1] = arr_of(r->a, only->key[k], only->n[k])) == NULL)
			goto fail;
		if ((res = db_exec(r->db, inputs ? STMT_RUNS_INPUTS : only != NULL ? some[k] :
		    all[k], only != NULL ? 2 : 1, vals)) == NULL)
			goto fail;
		for (int i = 0; i < PQntuples(res); i++) {
			json_t *run = json_object_get(byid, PQgetvalue(res, i, 0)), *tags;

			if (run == NULL)
				continue;
			if (k == TRK_PARAMS || k == TRK_TAGS)
				run_append(run, "data", lists[k], json_pack("{s:s, s:s}", "key",
				    PQgetvalue(res, i, 1), "value", PQgetvalue(res, i, 2)));
			else if (k == TRK_METRICS)
				run_append(run, "data", lists[k], json_pack("{s:s, s:o, s:o, s:o}",
				    "key", PQgetvalue(res, i, 1), "value",
				    metric_json_value(PQgetvalue(res, i, 2)), "timestamp",
				    i64(PQgetvalue(res, i, 3)), "step", i64(PQgetvalue(res, i, 4))));
			else {
				tags = json_loads(PQgetvalue(res, i, 7), 0, NULL);
				run_append(run, "inputs", "dataset_inputs", json_pack("{s:o, s:{s:s, "
				    "s:s, s:s, s:s, s:s, s:s}}", "tags", tags ? tags : json_array(),
				    "dataset", "name", PQgetvalue(res, i, 1), "digest",
				    PQgetvalue(res, i, 2), "source_type", PQgetvalue(res, i, 3),
				    "source", PQgetvalue(res, i, 4), "schema", PQgetvalue(res, i, 5),
				    "profile", PQgetvalue(res, i, 6)));
			}
		}
		PQclear(res);
	}
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *run = json_object_get(byid, ids[i]);

		if (run != NULL)
			json_array_append(list, run);
	}
	json_decref(byid);
	*out = list;
	return 0;
fail:
	json_decref(byid);
	return -1;
}

/*
 * Checks that the run exists and is active; exp (when non-NULL, 24 bytes)
 * gets its experiment id. 0, 1 (answered) or -1.
 */
static int
run_active(struct req *r, const char *run_id, char *exp)
{
	const char *vals[1] = { run_id };
	PGresult *res = db_exec(r->db, STMT_RUN_STATE, 1, vals);

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, ERR_MISSING, "Run with id=%s not found", run_id);
		return 1;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "active") != 0) {
		resp_error_code(r, ERR_INVALID, "The run %s must be in the 'active' state. "
		    "Current state is %s.", run_id, PQgetvalue(res, 0, 0));
		PQclear(res);
		return 1;
	}
	if (exp != NULL)
		snprintf(exp, 24, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/* "<adjective>-<noun>-<number>", as MLflow names runs nobody named. */
static void
random_run_name(char *out, size_t len)
{
	static const char *const adj[] = { "amber", "bold", "brisk", "calm", "clever",
		"crisp", "eager", "gentle", "keen", "lucid", "merry", "nimble", "quiet",
		"rapid", "steady", "sunny", "tidy", "vivid", "warm", "witty" };
	static const char *const noun[] = { "badger", "crane", "dolphin", "falcon",
		"finch", "fox", "gecko", "heron", "ibis", "koala", "lynx", "mole", "otter",
		"owl", "panda", "quail", "robin", "seal", "stork", "wren" };

	snprintf(out, len, "%s-%s-%u", adj[randombytes_uniform(ARRAY_LEN(adj))],
	    noun[randombytes_uniform(ARRAY_LEN(noun))], randombytes_uniform(1000));
}

static const char *
tag_value(json_t *tags, const char *key)
{
	for (size_t i = 0; i < json_array_size(tags); i++) {
		json_t *t = json_array_get(tags, i);

		if (json_is_string(json_object_get(t, "key")) &&
		    !strcmp(json_string_value(json_object_get(t, "key")), key) &&
		    json_is_string(json_object_get(t, "value")))
			return json_string_value(json_object_get(t, "value"));
	}
	return NULL;
}

int
tracking_run_create(struct req *r, const char *experiment_id, const char *run_name,
    long long start_time, int has_start, json_t *tags, json_t **out)
{
	unsigned char rnd[16];
	char id[33], start[24], name[64], exp_id[24];
	const char *user, *uri, *vals[6];
	const char *idp[1] = { id };
	json_t *all_tags = NULL, *runs = NULL;
	PGresult *res;
	int rc;

	*out = NULL;
	if (experiment_id == NULL || *experiment_id == '\0')
		experiment_id = "0";
	if ((rc = check_exp_id(r, experiment_id)) != 0)
		return rc;
	if ((rc = perm_require_experiment(r, experiment_id, PERM_EDIT)) != 0)
		return rc;
	if (tags != NULL && !json_is_array(tags)) {
		resp_error_code(r, ERR_INVALID, "Invalid value for parameter 'tags': expected "
		    "a list of {key, value} objects");
		return 1;
	}
	/* The user is the mlflow.user tag the client sets, else whoever is logged in. */
	user = tag_value(tags, "mlflow.user");
	if (user == NULL || *user == '\0')
		user = r->user.username;
	if (run_name == NULL || *run_name == '\0')
		run_name = tag_value(tags, "mlflow.runName");
	if (run_name == NULL || *run_name == '\0') {
		random_run_name(name, sizeof(name));
		run_name = name;
	}
	if (length_check(r, "Run name", run_name, TRK_TAG_VALUE_MAX))
		return 1;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, sizeof(id), rnd, sizeof(rnd));
	snprintf(start, sizeof(start), "%lld", has_start ? start_time : now_ms());
	/* Tags are written by the batch path, with the run name as mlflow.runName. */
	all_tags = json_array();
	for (size_t i = 0; i < json_array_size(tags); i++) {
		json_t *t = json_array_get(tags, i);

		if (json_is_object(t) && json_is_string(json_object_get(t, "key")) &&
		    !strcmp(json_string_value(json_object_get(t, "key")), "mlflow.runName"))
			continue;
		json_array_append(all_tags, t);
	}
	json_array_append_new(all_tags, json_pack("{s:s, s:s}", "key", "mlflow.runName",
	    "value", run_name));
	if (db_command(r->db, "BEGIN") == -1) {
		rc = -1;
		goto out;
	}
	vals[0] = experiment_id;
	if ((res = db_exec(r->db, STMT_EXP_GET, 1, vals)) == NULL)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(r->db);
		resp_error_code(r, ERR_MISSING, "No Experiment with id=%s exists", experiment_id);
		rc = 1;
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 3), "active") != 0) {
		PQclear(res);
		db_rollback(r->db);
		resp_error_code(r, ERR_INVALID, "The experiment %s must be in the 'active' "
		    "state. Current state is deleted.", experiment_id);
		rc = 1;
		goto out;
	}
	snprintf(exp_id, sizeof(exp_id), "%s", PQgetvalue(res, 0, 0));
	uri = arena_printf(r->a, "%s/%s/artifacts", PQgetvalue(res, 0, 2), id);
	PQclear(res);
	if (uri == NULL)
		goto fail;
	vals[0] = id;
	vals[1] = exp_id;
	vals[2] = run_name;
	vals[3] = user;
	vals[4] = start;
	vals[5] = uri;
	if ((res = db_exec(r->db, STMT_RUN_INSERT, 6, vals)) == NULL)
		goto fail;
	PQclear(res);
	/* Inside our transaction: log_batch sees it open and neither begins nor commits. */
	if ((rc = tracking_log_batch(r, id, NULL, NULL, all_tags)) != 0) {
		db_rollback(r->db);
		goto out;
	}
	if (commit(r) == -1 || runs_load(r, idp, 1, NULL, &runs) == -1) {
		rc = -1;
		goto out;
	}
	*out = json_pack("{s:O}", "run", json_array_get(runs, 0));
	rc = *out != NULL ? 0 : -1;
	goto out;
fail:
	db_rollback(r->db);
	rc = -1;
out:
	json_decref(all_tags);
	json_decref(runs);
	return rc;
}

int
tracking_run_get(struct req *r, const char *run_id, json_t **out)
{
	json_t *runs;
	int rc;

	*out = NULL;
	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_READ)) != 0)
		return rc;
	if (runs_load(r, &run_id, 1, NULL, &runs) == -1)
		return -1;
	if (json_array_size(runs) != 1) {
		json_decref(runs);
		resp_error_code(r, ERR_MISSING, "Run with id=%s not found", run_id);
		return 1;
	}
	*out = json_pack("{s:O}", "run", json_array_get(runs, 0));
	json_decref(runs);
	return *out != NULL ? 0 : -1;
}

int
tracking_run_update(struct req *r, const char *run_id, const char *status,
    const long long *end_time, const char *run_name, json_t **run_info)
{
	static const char *const statuses[] = { "RUNNING", "SCHEDULED", "FINISHED",
		"FAILED", "KILLED" };
	char end[24];
	const char *vals[4] = { run_id, NULL, NULL, NULL };
	json_t *runs = NULL, *tag = NULL;
	PGresult *res;
	int rc, ok = status == NULL;

	*run_info = NULL;
	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_EDIT)) != 0)
		return rc;
	for (size_t i = 0; !ok && i < ARRAY_LEN(statuses); i++)
		ok = !strcmp(status, statuses[i]);
	if (!ok) {
		resp_error_code(r, ERR_INVALID, "Invalid value '%.40s' for parameter 'status': "
		    "expected RUNNING, SCHEDULED, FINISHED, FAILED or KILLED", status);
		return 1;
	}
	if (run_name != NULL && *run_name == '\0')
		run_name = NULL;
	if (run_name != NULL && length_check(r, "Run name", run_name, TRK_TAG_VALUE_MAX))
		return 1;
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	if ((rc = run_active(r, run_id, NULL)) != 0)
		goto rollback;
	vals[1] = status;
	if (end_time != NULL) {
		snprintf(end, sizeof(end), "%lld", *end_time);
		vals[2] = end;
	}
	vals[3] = run_name;
	if ((res = db_exec(r->db, STMT_RUN_UPDATE, 4, vals)) == NULL) {
		rc = -1;
		goto rollback;
	}
	PQclear(res);
	if (run_name != NULL) {
		tag = json_pack("[{s:s, s:s}]", "key", "mlflow.runName", "value", run_name);
		if ((rc = tracking_log_batch(r, run_id, NULL, NULL, tag)) != 0)
			goto rollback;
	}
	if (commit(r) == -1 || runs_load(r, &run_id, 1, NULL, &runs) == -1) {
		rc = -1;
		goto out;
	}
	*run_info = json_incref(json_object_get(json_array_get(runs, 0), "info"));
	rc = *run_info != NULL ? 0 : -1;
	goto out;
rollback:
	db_rollback(r->db);
out:
	json_decref(tag);
	json_decref(runs);
	return rc;
}

int
tracking_run_delete(struct req *r, const char *run_id, int restore)
{
	char now[24];
	const char *vals[3] = { run_id, restore ? "active" : "deleted",
	    restore ? NULL : now };
	const char *sv[1] = { run_id };
	PGresult *res;
	int rc;

	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_EDIT)) != 0)
		return rc;
	snprintf(now, sizeof(now), "%lld", now_ms());
	if ((res = db_exec(r->db, STMT_RUN_STATE, 1, sv)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, ERR_MISSING, "Run with id=%s not found", run_id);
		return 1;
	}
	PQclear(res);
	if ((res = db_exec(r->db, STMT_RUN_SET_STAGE, 3, vals)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
tracking_run_search(struct req *r, const char *const *experiment_ids, size_t nexp,
    const char *filter, enum trk_view view, long long max_results,
    const char *const *order_by, size_t norder, const char *page_token,
    const struct trk_keys *only, json_t **out)
{
	struct search_query q;
	char err[SEARCH_ERR_MAX];
	const char **ids, *token, *exparr;
	json_t *runs;
	int n, rc;

	*out = NULL;
	if (max_results_check(r, max_results))
		return 1;
	for (size_t i = 0; i < nexp; i++) {
		size_t len = strlen(experiment_ids[i]);

		if (len == 0 || len > 18 || strspn(experiment_ids[i], "0123456789") != len) {
			if ((rc = check_exp_id(r, experiment_ids[i])) != 0)
				return rc;
		}
		/* Searching an experiment needs READ on it, as reading it does. */
		if ((rc = perm_require_experiment(r, experiment_ids[i], PERM_READ)) != 0)
			return rc;
	}
	if (search_compile(r->a, SEARCH_RUNS, filter, order_by, norder, page_token, &q,
	    err, sizeof(err)) == -1) {
		resp_error_code(r, ERR_INVALID, "%s", err);
		return 1;
	}
	if ((exparr = arr_of(r->a, experiment_ids, nexp)) == NULL)
		return -1;
	q.vals[0] = exparr;
	q.vals[1] = view_stages(view);
	if (search_run(r, &q, max_results, &ids, &n, &token) == -1)
		return -1;
	if (runs_load(r, ids, (size_t)n, only, &runs) == -1)
		return -1;
	*out = json_pack("{s:o}", "runs", runs);
	if (*out != NULL && token[0] != '\0')
		json_object_set_new(*out, "next_page_token", json_string(token));
	return *out != NULL ? 0 : -1;
}

int
tracking_run_keys(struct req *r, json_t *runs, struct trk_keys *out)
{
	size_t n = json_array_size(runs);
	const char **ids = arena_alloc(r->a, sizeof(char *) * (n + 1)), *vals[1];
	PGresult *res;
	int rows;

	memset(out, 0, sizeof(*out));
	if (ids == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		ids[i] = json_string_value(json_object_get(json_object_get(json_array_get(runs, i),
		    "info"), "run_id"));
	if ((vals[0] = arr_of(r->a, ids, n)) == NULL ||
	    (res = db_exec(r->db, STMT_RUNS_KEYS, 1, vals)) == NULL)
		return -1;
	rows = PQntuples(res);
	for (int k = 0; k < TRK_KINDS; k++)
		if ((out->key[k] = arena_alloc(r->a, sizeof(char *) * ((size_t)rows + 1))) == NULL)
			goto fail;
	for (int i = 0; i < rows; i++) {
		int k = atoi(PQgetvalue(res, i, 0));

		if (k < 0 || k >= TRK_KINDS ||
		    (out->key[k][out->n[k]++] = arena_strdup(r->a, PQgetvalue(res, i, 1))) == NULL)
			goto fail;
	}
	PQclear(res);
	return 0;
fail:
	PQclear(res);
	return -1;
}

/* ---- the write path ---- */

static int
batch_limit(struct req *r, const char *what, size_t limit, size_t n)
{
	if (n > limit) {
		resp_error_code(r, ERR_INVALID, "A batch logging request can contain at most "
		    "%zu %s. Got %zu %s. Please split up %s across multiple requests and try "
		    "again.", limit, what, n, what, what);
		return 1;
	}
	return 0;
}

static int
list_arg(struct req *r, json_t *j, const char *name)
{
	if (j != NULL && !json_is_array(j)) {
		resp_error_code(r, ERR_INVALID, "Invalid value for parameter '%s': expected a "
		    "list", name);
		return 1;
	}
	return 0;
}

/* One validated metric point of a batch. */
struct point {
	const char *key;
	const char *text;             /* the value as float8 text */
	double v;
	long long ts, step;
	int nan;
};

/* Postgres' float8 order, which latest_metrics' "latest" follows: NaN above all. */
static int
pg_float_cmp(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return (a > b) - (a < b);
}

/* By key, then in history order: step, timestamp, value (Postgres' float8 order). */
static int
point_cmp(const void *pa, const void *pb)
{
	const struct point *a = *(const struct point *const *)pa;
	const struct point *b = *(const struct point *const *)pb;
	int c = strcmp(a->key, b->key);

	if (c != 0)
		return c;
	if (a->step != b->step)
		return a->step < b->step ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return pg_float_cmp(a->v, b->v);
}

/* Is a later than b as latest_metrics counts it: timestamp, then value? */
static int
point_later(const struct point *a, const struct point *b)
{
	if (a->ts != b->ts)
		return a->ts > b->ts;
	return pg_float_cmp(a->v, b->v) > 0;
}

static int
put_be(struct buf *b, uint64_t v, int bytes)
{
	unsigned char o[8];

	for (int i = 0; i < bytes; i++)
		o[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	return buf_add(b, o, (size_t)bytes);
}

/* A field of binary COPY: its length, then its bytes. */
static int
put_field(struct buf *b, const void *data, size_t n)
{
	return put_be(b, n, 4) == -1 || buf_add(b, data, n) == -1 ? -1 : 0;
}

/* Points per metric_chunks row: 128 are about 3.2 kB, inline and uncompressed
 * (sql/014_metric_chunks.sql). */
#define METRIC_CHUNK_POINTS 128

/* Array columns of metric_chunks in binary COPY. */
enum chunk_col { CHUNK_STEPS, CHUNK_TS, CHUNK_VALS };

/*
 * A one-dimensional array field of binary COPY: header (dimensions, no NULLs,
 * element type, length, lower bound 1), then each 8-byte element with its
 * length: column col of pts[0..n).
 */
static int
put_array(struct buf *b, const struct point **pts, size_t n, enum chunk_col col)
{
	static const uint32_t oid[] = { 20, 20, 701 };      /* int8, int8, float8 */

	if (put_be(b, 20 + 12 * n, 4) == -1 || put_be(b, 1, 4) == -1 || put_be(b, 0, 4) == -1 ||
	    put_be(b, oid[col], 4) == -1 || put_be(b, n, 4) == -1 || put_be(b, 1, 4) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t bits;

		if (col == CHUNK_STEPS)
			bits = (uint64_t)pts[i]->step;
		else if (col == CHUNK_TS)
			bits = (uint64_t)pts[i]->ts;
		else
			memcpy(&bits, &pts[i]->v, sizeof(bits));
		if (put_be(b, 8, 4) == -1 || put_be(b, bits, 8) == -1)
			return -1;
	}
	return 0;
}

static int
put_i64(struct buf *b, long long v)
{
	return put_be(b, 8, 4) == -1 || put_be(b, (uint64_t)v, 8) == -1 ? -1 : 0;
}

/* The columns of CHUNK_COLS for pts[0..n) of one key, sorted (point_cmp). */
static int
put_chunk(struct buf *b, const char *run_id, const struct point **pts, size_t n)
{
	const struct point *fin = NULL;

	for (size_t i = n; i-- > 0 && fin == NULL;)
		if (!pts[i]->nan && isfinite(pts[i]->v))
			fin = pts[i];
	if (put_be(b, 12, 2) == -1 || put_field(b, run_id, strlen(run_id)) == -1 ||
	    put_field(b, pts[0]->key, strlen(pts[0]->key)) == -1 ||
	    put_i64(b, pts[0]->step) == -1 || put_i64(b, pts[0]->ts) == -1 ||
	    put_i64(b, pts[n - 1]->step) == -1 || put_i64(b, pts[n - 1]->ts) == -1)
		return -1;
	if (fin != NULL ? put_i64(b, fin->step) == -1 || put_i64(b, fin->ts) == -1 :
	    put_be(b, 0xffffffff, 4) == -1 || put_be(b, 0xffffffff, 4) == -1)  /* NULLs */
		return -1;
	if (put_be(b, 4, 4) == -1 || put_be(b, n, 4) == -1 ||
	    put_array(b, pts, n, CHUNK_STEPS) == -1 || put_array(b, pts, n, CHUNK_TS) == -1 ||
	    put_array(b, pts, n, CHUNK_VALS) == -1)
		return -1;
	return 0;
}

/* metric_chunks' columns as the writer sends them: all of them, so the
 * normalizing trigger (for rows without n) does not run. */
#define CHUNK_COLS "run_uuid, key, step_lo, ts_lo, step_hi, ts_hi, fin_step, fin_ts, n, " \
	"steps, timestamps, vals"

/*
 * Writes pts[0..n) of run_id: per key, chunks of up to METRIC_CHUNK_POINTS
 * points in history order with one binary COPY into metric_chunks. The
 * writer sorts in Postgres' order (point_cmp) and sends each chunk's summary
 * columns itself: the trigger that computes them for rows inserted without
 * them (sql/014_metric_chunks.sql) cost about 135 us per chunk, 15 % of a
 * 1000-point batch. test_tracking checks that both give the same rows.
 * Then per key its latest point and its count of finite points into
 * latest_metrics. A 1000-point batch of 10 keys is 10 rows. Inside the
 * caller's transaction; 0 or -1.
 */
static int
metrics_write(struct req *r, const char *run_id, struct point *pts, size_t n)
{
	static const char sig[] = "PGCOPY\n\377\r\n";
	const struct point **ord;
	struct buf cp, lk, lv, lts, lst, lnan, ln;
	PGresult *res;
	int rc = -1;

	buf_init(&cp, ARRAY_TEXT_MAX);
	buf_init(&lk, ARRAY_TEXT_MAX);
	buf_init(&lv, ARRAY_TEXT_MAX);
	buf_init(&lts, ARRAY_TEXT_MAX);
	buf_init(&lst, ARRAY_TEXT_MAX);
	buf_init(&lnan, ARRAY_TEXT_MAX);
	buf_init(&ln, ARRAY_TEXT_MAX);
	if ((ord = arena_alloc(r->a, sizeof(*ord) * (n + 1))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		ord[i] = &pts[i];
	qsort(ord, n, sizeof(*ord), point_cmp);
	/* Header: signature (with its NUL), flags, extension length. */
	if (buf_add(&cp, sig, sizeof(sig)) == -1 || put_be(&cp, 0, 4) == -1 ||
	    put_be(&cp, 0, 4) == -1)
		goto out;
	for (size_t i = 0, j; i < n; i = j) {
		const struct point *latest = ord[i];
		long long finite = 0;
		char num[24];

		for (j = i; j < n && !strcmp(ord[j]->key, ord[i]->key); j++) {
			finite += !ord[j]->nan && isfinite(ord[j]->v);
			if (point_later(ord[j], latest))
				latest = ord[j];
		}
		for (size_t k = i; k < j; k += METRIC_CHUNK_POINTS) {
			size_t m = j - k < METRIC_CHUNK_POINTS ? j - k : METRIC_CHUNK_POINTS;

			if (put_chunk(&cp, run_id, ord + k, m) == -1)
				goto out;
		}
		if (arr_add(&lk, latest->key) == -1 || arr_add(&lv, latest->text) == -1 ||
		    arr_add(&lnan, latest->nan ? "t" : "f") == -1)
			goto out;
		snprintf(num, sizeof(num), "%lld", latest->ts);
		if (arr_add(&lts, num) == -1)
			goto out;
		snprintf(num, sizeof(num), "%lld", latest->step);
		if (arr_add(&lst, num) == -1)
			goto out;
		snprintf(num, sizeof(num), "%lld", finite);
		if (arr_add(&ln, num) == -1)
			goto out;
	}
	if (put_be(&cp, 0xffff, 2) == -1)
		goto out;
	if (db_copy_in(r->db, "COPY metric_chunks (" CHUNK_COLS ") FROM STDIN (FORMAT binary)",
	    cp.p, cp.len) == -1)
		goto out;
	{
		const char *vals[7] = { run_id, arr_end(&lk), arr_end(&lv), arr_end(&lts),
		    arr_end(&lst), arr_end(&lnan), arr_end(&ln) };

		for (int i = 1; i < 7; i++)
			if (vals[i] == NULL)
				goto out;
		if ((res = db_exec(r->db, STMT_LATEST_UPSERT, 7, vals)) == NULL)
			goto out;
		PQclear(res);
	}
	rc = 0;
out:
	buf_free(&cp);
	buf_free(&lk);
	buf_free(&lv);
	buf_free(&lts);
	buf_free(&lst);
	buf_free(&lnan);
	buf_free(&ln);
	return rc;
}

int
tracking_log_batch(struct req *r, const char *run_id, json_t *metrics, json_t *params,
    json_t *tags)
{
	size_t nm = json_array_size(metrics), np = json_array_size(params),
	    nt = json_array_size(tags);
	struct buf pk, pv, tk, tv;
	struct point *pts = NULL;
	const char **pkeys = NULL, **pvals = NULL;
	const char *run_name = NULL;
	int rc = 1, own_tx;
	PGresult *res;

	buf_init(&pk, ARRAY_TEXT_MAX);
	buf_init(&pv, ARRAY_TEXT_MAX);
	buf_init(&tk, ARRAY_TEXT_MAX);
	buf_init(&tv, ARRAY_TEXT_MAX);
	if (check_run_id(r, run_id) || list_arg(r, metrics, "metrics") ||
	    list_arg(r, params, "params") || list_arg(r, tags, "tags") ||
	    batch_limit(r, "metrics", TRK_BATCH_METRICS, nm) ||
	    batch_limit(r, "params", TRK_BATCH_PARAMS_TAGS, np) ||
	    batch_limit(r, "tags", TRK_BATCH_PARAMS_TAGS, nt) ||
	    batch_limit(r, "metrics, params, and tags", TRK_BATCH_ITEMS, nm + np + nt))
		goto out;
	if ((rc = perm_require_run(r, run_id, PERM_EDIT)) != 0)
		goto out;
	rc = 1;
	if (nm > 0 && (pts = arena_alloc(r->a, sizeof(*pts) * nm)) == NULL)
		goto fail;
	/* Validate everything before the first write. */
	for (size_t i = 0; i < nm; i++) {
		json_t *m = json_array_get(metrics, i), *jk = json_object_get(m, "key");
		const char *k = json_string_value(jk);
		char val[64];
		long long ts, step = 0;
		int nan;

		if (!json_is_string(jk) || *k == '\0') {
			resp_error_code(r, ERR_INVALID, "Missing value for required parameter "
			    "'metrics[%zu].key'. See the API docs for more information about "
			    "request parameters.", i);
			goto out;
		}
		if (key_check(r, "metric", k) || length_check(r, "Metric name", k, TRK_KEY_MAX))
			goto out;
		if (metric_value(json_object_get(m, "value"), val, sizeof(val), &nan) == -1) {
			resp_error_code(r, ERR_INVALID, "Got invalid value for metric '%.250s'. "
			    "Please specify value as a valid double (64-bit floating point)", k);
			goto out;
		}
		if (int64_of(json_object_get(m, "timestamp"), &ts) == -1 || ts < 0) {
			resp_error_code(r, ERR_INVALID, "Got invalid timestamp for metric "
			    "'%.250s' (value=%s). Timestamp must be a nonnegative long (64-bit "
			    "integer) ", k, val);
			goto out;
		}
		if (json_object_get(m, "step") != NULL && !json_is_null(json_object_get(m,
		    "step")) && int64_of(json_object_get(m, "step"), &step) == -1) {
			resp_error_code(r, ERR_INVALID, "Got invalid step for metric '%.250s' "
			    "(value=%s). Step must be a valid long (64-bit integer).", k, val);
			goto out;
		}
		/* strtod reads "NaN" and "Infinity" too, and rounds as float8in does. */
		pts[i] = (struct point){ k, arena_strdup(r->a, val), strtod(val, NULL), ts, step,
		    nan };
		if (pts[i].text == NULL)
			goto fail;
	}
	pkeys = arena_alloc(r->a, sizeof(char *) * (np + 1));
	pvals = arena_alloc(r->a, sizeof(char *) * (np + 1));
	if (pkeys == NULL || pvals == NULL)
		goto fail;
	for (size_t i = 0; i < np; i++) {
		if (kv_of(r, json_array_get(params, i), "params", i, &pkeys[i], &pvals[i], 0) ||
		    key_check(r, "parameter", pkeys[i]) ||
		    length_check(r, "Param key", pkeys[i], TRK_KEY_MAX) ||
		    length_check(r, "Param value", pvals[i], TRK_PARAM_VALUE_MAX))
			goto out;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(pkeys[i], pkeys[j])) {
				resp_error_code(r, ERR_INVALID, "Duplicate parameter keys have been "
				    "submitted: ['%.250s']. Please ensure the request contains only "
				    "one param value per param key.", pkeys[i]);
				goto out;
			}
		if (arr_add(&pk, pkeys[i]) == -1 || arr_add(&pv, pvals[i]) == -1)
			goto fail;
	}
	for (size_t i = 0; i < nt; i++) {
		const char *k, *v;
		int later = 0;

		if (kv_of(r, json_array_get(tags, i), "tags", i, &k, &v, 0) ||
		    key_check(r, "tag", k) || length_check(r, "Tag key", k, TRK_KEY_MAX) ||
		    length_check(r, "Tag value", v, TRK_TAG_VALUE_MAX))
			goto out;
		/* The same key twice: the last value wins, as successive set-tags would. */
		for (size_t j = i + 1; j < nt && !later; j++)
			later = json_equal(json_object_get(json_array_get(tags, j), "key"),
			    json_object_get(json_array_get(tags, i), "key"));
		if (later)
			continue;
		if (!strcmp(k, "mlflow.runName"))
			run_name = v;
		if (arr_add(&tk, k) == -1 || arr_add(&tv, v) == -1)
			goto fail;
	}
	/* runs/create and runs/update call this inside their own transaction. */
	own_tx = PQtransactionStatus(db_conn(r->db)) == PQTRANS_IDLE;
	if (own_tx && db_command(r->db, "BEGIN") == -1)
		goto fail;
	if ((rc = run_active(r, run_id, NULL)) != 0)
		goto rollback;
	rc = -1;
	if (np > 0) {
		const char *vals[3] = { run_id, arr_end(&pk), arr_end(&pv) };
		const char *gv[2] = { run_id, vals[1] };

		if (vals[1] == NULL || vals[2] == NULL ||
		    (res = db_exec(r->db, STMT_PARAMS_INSERT, 3, vals)) == NULL)
			goto rollback;
		PQclear(res);
		/* Rows that were there already (or a concurrent writer's) must agree. */
		if ((res = db_exec(r->db, STMT_PARAMS_GET, 2, gv)) == NULL)
			goto rollback;
		for (int i = 0; i < PQntuples(res); i++)
			for (size_t j = 0; j < np; j++)
				if (!strcmp(PQgetvalue(res, i, 0), pkeys[j]) &&
				    strcmp(PQgetvalue(res, i, 1), pvals[j]) != 0) {
					resp_error_code(r, ERR_INVALID, "Changing param values is not "
					    "allowed. Param with key='%.250s' was already logged with "
					    "value='%.250s' for run ID='%s'. Attempted logging new value "
					    "'%.250s'.", pkeys[j], PQgetvalue(res, i, 1), run_id, pvals[j]);
					PQclear(res);
					rc = 1;
					goto rollback;
				}
		PQclear(res);
	}
	if (buf_str(&tk)[0] != '\0') {
		const char *vals[3] = { run_id, arr_end(&tk), arr_end(&tv) };

		if (vals[1] == NULL || vals[2] == NULL ||
		    (res = db_exec(r->db, STMT_TAGS_UPSERT, 3, vals)) == NULL)
			goto rollback;
		PQclear(res);
		if (run_name != NULL) {
			const char *uv[4] = { run_id, NULL, NULL, run_name };

			if ((res = db_exec(r->db, STMT_RUN_UPDATE, 4, uv)) == NULL)
				goto rollback;
			PQclear(res);
		}
	}
	if (nm > 0 && metrics_write(r, run_id, pts, nm) == -1)
		goto rollback;
	if (own_tx && commit(r) == -1)
		goto out;
	rc = 0;
	goto out;
rollback:
	if (own_tx)
		db_rollback(r->db);
	goto out;
fail:
	rc = -1;
out:
	buf_free(&pk);
	buf_free(&pv);
	buf_free(&tk);
	buf_free(&tv);
	return rc;
}

int
tracking_delete_tag(struct req *r, const char *run_id, const char *key)
{
	const char *vals[2] = { run_id, key };
	PGresult *res;
	int rc;

	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_EDIT)) != 0)
		return rc;
	if ((rc = run_active(r, run_id, NULL)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_TAG_DELETE, 2, vals)) == NULL)
		return -1;
	rc = atoi(PQcmdTuples(res));
	PQclear(res);
	if (rc == 0) {
		resp_error_code(r, ERR_MISSING, "No tag with name: %.250s in run with id %s",
		    key, run_id);
		return 1;
	}
	return 0;
}

/* A dataset's string field: required ones must be non-empty; limits in bytes of text. */
static int
ds_field(struct req *r, json_t *ds, size_t i, const char *name, int required, size_t max,
    const char **out)
{
	json_t *j = json_object_get(ds, name);

	*out = json_is_string(j) ? json_string_value(j) : "";
	if (j != NULL && !json_is_null(j) && !json_is_string(j)) {
		resp_error_code(r, ERR_INVALID, "Invalid value for parameter "
		    "'datasets[%zu].dataset.%s': expected a string", i, name);
		return 1;
	}
	if (required && **out == '\0') {
		resp_error_code(r, ERR_INVALID, "Missing value for required parameter "
		    "'datasets[%zu].dataset.%s'. See the API docs for more information about "
		    "request parameters.", i, name);
		return 1;
	}
	if (chars(*out) > max) {
		resp_error_code(r, ERR_INVALID, "Dataset %s '%.100s' had length %zu, which "
		    "exceeded length limit of %zu", name, *out, chars(*out), max);
		return 1;
	}
	return 0;
}

int
tracking_log_inputs(struct req *r, const char *run_id, json_t *datasets)
{
	size_t n = json_array_size(datasets);
	char exp[24], dsid[24];
	PGresult *res;
	int rc;

	if ((rc = check_run_id(r, run_id)) != 0 || (rc = list_arg(r, datasets, "datasets")) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_EDIT)) != 0)
		return rc;
	if (n > 1000) {
		resp_error_code(r, ERR_INVALID, "A batch logging request can contain at most "
		    "1000 datasets. Got %zu datasets.", n);
		return 1;
	}
	/* Validate all first. */
	for (size_t i = 0; i < n; i++) {
		json_t *in = json_array_get(datasets, i), *ds = json_object_get(in, "dataset"),
		    *tags = json_object_get(in, "tags");
		const char *v;

		if (!json_is_object(ds)) {
			resp_error_code(r, ERR_INVALID, "Missing value for required parameter "
			    "'datasets[%zu].dataset'. See the API docs for more information about "
			    "request parameters.", i);
			return 1;
		}
		if (ds_field(r, ds, i, "name", 1, 500, &v) || ds_field(r, ds, i, "digest", 1,
		    36, &v) || ds_field(r, ds, i, "source_type", 1, 500, &v) ||
		    ds_field(r, ds, i, "source", 1, 65535, &v) ||
		    ds_field(r, ds, i, "schema", 0, 1048575, &v) ||
		    ds_field(r, ds, i, "profile", 0, 16777215, &v) || list_arg(r, tags, "tags"))
			return 1;
		for (size_t t = 0; t < json_array_size(tags); t++) {
			const char *k;

			if (kv_of(r, json_array_get(tags, t), "datasets.tags", t, &k, &v, 1) ||
			    length_check(r, "Input tag key", k, 255) ||
			    length_check(r, "Input tag value", v, 500))
				return 1;
		}
	}
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	if ((rc = run_active(r, run_id, exp)) != 0) {
		db_rollback(r->db);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *in = json_array_get(datasets, i), *ds = json_object_get(in, "dataset"),
		    *tags = json_object_get(in, "tags");
		const char *vals[7] = { exp };
		static const char *const names[] = { "name", "digest", "source_type", "source",
		    "schema", "profile" };

		for (int f = 0; f < 6; f++) {
			json_t *j = json_object_get(ds, names[f]);

			vals[f + 1] = json_is_string(j) ? json_string_value(j) : "";
		}
		if ((res = db_exec(r->db, STMT_DATASET_UPSERT, 7, vals)) == NULL)
			goto fail;
		snprintf(dsid, sizeof(dsid), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		vals[0] = run_id;
		vals[1] = dsid;
		if ((res = db_exec(r->db, STMT_INPUT_INSERT, 2, vals)) == NULL)
			goto fail;
		PQclear(res);
		for (size_t t = 0; t < json_array_size(tags); t++) {
			json_t *tag = json_array_get(tags, t);

			vals[2] = json_string_value(json_object_get(tag, "key"));
			vals[3] = json_string_value(json_object_get(tag, "value"));
			if ((res = db_exec(r->db, STMT_INPUT_TAG_SET, 4, vals)) == NULL)
				goto fail;
			PQclear(res);
		}
	}
	return commit(r);
fail:
	db_rollback(r->db);
	return -1;
}

/* ---- metric history ---- */

static json_t *
point_json(PGresult *res, int i, const char *key, const char *run_id)
{
	json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "key", key, "value",
	    metric_json_value(PQgetvalue(res, i, 0)), "timestamp", i64(PQgetvalue(res, i, 1)),
	    "step", i64(PQgetvalue(res, i, 2)));

	if (o != NULL && run_id != NULL)
		json_object_set_new(o, "run_id", json_string(run_id));
	return o;
}

int
tracking_metric_history(struct req *r, const char *run_id, const char *key,
    long long max_results, const char *page_token, json_t **out)
{
	const char *keys[4] = { NULL, NULL, NULL, "0" };
	char lim[24], skip[24];
	const char *vals[7] = { run_id, key };
	const char *sv[1] = { run_id };
	json_t *list;
	PGresult *res;
	int rows, n, rc;

	*out = NULL;
	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_READ)) != 0)
		return rc;
	if (max_results < 1 || max_results > TRK_HISTORY_MAX) {
		resp_error_code(r, ERR_INVALID, "Invalid value for request parameter "
		    "max_results. It must be at most %d and at least 1, but got value %lld",
		    TRK_HISTORY_MAX, max_results);
		return 1;
	}
	if (page_token != NULL && *page_token != '\0' && (search_token_decode(r->a,
	    page_token, keys, 4) == -1 || keys[0] == NULL || keys[1] == NULL ||
	    keys[2] == NULL || keys[3] == NULL || strspn(keys[3], "0123456789") !=
	    strlen(keys[3]) || strlen(keys[3]) > 9)) {
		resp_error_code(r, ERR_INVALID, "invalid page token");
		return 1;
	}
	if ((res = db_exec(r->db, STMT_RUN_STATE, 1, sv)) == NULL)
		return -1;
	rows = PQntuples(res);
	PQclear(res);
	if (rows != 1) {
		resp_error_code(r, ERR_MISSING, "Run with id=%s not found", run_id);
		return 1;
	}
	snprintf(lim, sizeof(lim), "%lld", max_results + 1);
	snprintf(skip, sizeof(skip), "%s", keys[3]);
	vals[2] = keys[0];
	vals[3] = keys[1];
	vals[4] = keys[2];
	vals[5] = skip;
	vals[6] = lim;
	if ((res = db_exec(r->db, STMT_METRIC_HISTORY, 7, vals)) == NULL)
		return -1;
	rows = PQntuples(res);
	n = rows > max_results ? (int)max_results : rows;
	list = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(list, point_json(res, i, key, NULL));
	*out = json_pack("{s:o}", "metrics", list);
	if (*out != NULL && rows > max_results) {
		/* The last point's key, and how many equal points this page already gave. */
		int dup = 0;
		char d[24];
		const char *tk[4];
		const char *tok;

		for (int i = n - 1; i >= 0 && !strcmp(PQgetvalue(res, i, 0),
		    PQgetvalue(res, n - 1, 0)) && !strcmp(PQgetvalue(res, i, 1),
		    PQgetvalue(res, n - 1, 1)) && !strcmp(PQgetvalue(res, i, 2),
		    PQgetvalue(res, n - 1, 2)); i--)
			dup++;
		/* Equal to the previous page's last key: those were skipped too. */
		if (keys[0] != NULL && !strcmp(keys[0], PQgetvalue(res, n - 1, 2)) &&
		    !strcmp(keys[1], PQgetvalue(res, n - 1, 1)) &&
		    !strcmp(keys[2], PQgetvalue(res, n - 1, 0)))
			dup += atoi(keys[3]);
		snprintf(d, sizeof(d), "%d", dup);
		tk[0] = PQgetvalue(res, n - 1, 2);
		tk[1] = PQgetvalue(res, n - 1, 1);
		tk[2] = PQgetvalue(res, n - 1, 0);
		tk[3] = d;
		if ((tok = search_page_token(r->a, tk, 4)) == NULL) {
			PQclear(res);
			json_decref(*out);
			*out = NULL;
			return -1;
		}
		json_object_set_new(*out, "next_page_token", json_string(tok));
	}
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

/*
 * Per run, at most max_results points of [start_step, end_step]: all of them
 * when they fit, else the first, the last, the smallest and the largest value
 * and evenly spaced points between (the query pre-selects at most
 * max_results + 4; here the surplus spaced points are dropped).
 */
int
tracking_metric_bulk(struct req *r, const char *const *run_ids, size_t nruns,
    const char *key, const long long *start_step, const long long *end_step,
    long long max_results, json_t **out)
{
	char lo[24], hi[24], lim[24];
	json_t *list;
	int rc;

	*out = NULL;
	if (nruns == 0) {
		resp_error_code(r, ERR_INVALID, "Missing value for required parameter "
		    "'run_ids'. See the API docs for more information about request parameters.");
		return 1;
	}
	if (nruns > TRK_BULK_RUNS) {
		resp_error_code(r, ERR_INVALID, "GetMetricHistoryBulkInterval request must "
		    "specify at most %d run_ids. Received %zu run_ids.", TRK_BULK_RUNS, nruns);
		return 1;
	}
	if (max_results < 1 || max_results > TRK_BULK_MAX) {
		resp_error_code(r, ERR_INVALID, "Invalid value for request parameter "
		    "max_results. It must be at most %d and at least 1, but got value %lld",
		    TRK_BULK_MAX, max_results);
		return 1;
	}
	if (start_step != NULL && end_step != NULL && *start_step > *end_step) {
		resp_error_code(r, ERR_INVALID, "end_step must be greater than start_step. "
		    "Found start_step=%lld and end_step=%lld.", *start_step, *end_step);
		return 1;
	}
	for (size_t i = 0; i < nruns; i++)
		if ((rc = check_run_id(r, run_ids[i])) != 0 ||
		    (rc = perm_require_run(r, run_ids[i], PERM_READ)) != 0)
			return rc;
	snprintf(lo, sizeof(lo), "%lld", start_step ? *start_step : (long long)-9223372036854775807LL - 1);
	snprintf(hi, sizeof(hi), "%lld", end_step ? *end_step : 9223372036854775807LL);
	snprintf(lim, sizeof(lim), "%lld", max_results);
	list = json_array();
	for (size_t i = 0; i < nruns; i++) {
		const char *vals[5] = { run_ids[i], key, lo, hi, lim };
		PGresult *res = db_exec(r->db, STMT_METRIC_SAMPLE, 5, vals);
		int rows, drop;

		if (res == NULL) {
			json_decref(list);
			return -1;
		}
		/* Drop spaced points (never first/last/extremes), from the end, until it fits. */
		rows = PQntuples(res);
		drop = rows > max_results ? rows - (int)max_results : 0;
		{
			char *keep = arena_alloc(r->a, (size_t)rows + 1);
			int kept = 0;

			if (keep == NULL) {
				PQclear(res);
				json_decref(list);
				return -1;
			}
			for (int k = rows - 1; k >= 0; k--) {
				int special = !strcmp(PQgetvalue(res, k, 4), "t") ||
				    !strcmp(PQgetvalue(res, k, 5), "t");

				keep[k] = 1;
				if (drop > 0 && !special) {
					keep[k] = 0;
					drop--;
				}
			}
			for (int k = 0; k < rows; k++)
				if (keep[k] && kept < max_results) {
					json_array_append_new(list, point_json(res, k, key, run_ids[i]));
					kept++;
				}
		}
		PQclear(res);
	}
	*out = json_pack("{s:o}", "metrics", list);
	return *out != NULL ? 0 : -1;
}

/* ---- reads for the HTML pages ---- */

int
tracking_experiment_overview(struct req *r, enum trk_view view, const char *name_part,
    long long limit, json_t **out)
{
	struct buf like;
	char lim[24];
	const char *vals[3] = { view_stages(view), NULL, lim };
	PGresult *res;
	json_t *list;
	int rc = -1;

	*out = NULL;
	/* The name part is literal: LIKE's own characters are escaped. */
	buf_init(&like, 4 * TRK_EXP_NAME_MAX + 16);
	for (const char *p = name_part; *p != '\0'; p++)
		if ((strchr("\\%_", *p) != NULL && buf_addc(&like, '\\') == -1) ||
		    buf_addc(&like, *p) == -1) {
			resp_error_code(r, ERR_INVALID, "the name to search for is too long");
			rc = 1;
			goto out;
		}
	if ((vals[1] = arena_strdup(r->a, buf_str(&like))) == NULL)
		goto out;
	snprintf(lim, sizeof(lim), "%lld", limit < 1 ? 1 : limit > TRK_OVERVIEW_MAX ?
	    TRK_OVERVIEW_MAX : limit);
	if ((res = db_exec(r->db, STMT_EXP_OVERVIEW, 3, vals)) == NULL)
		goto out;
	list = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		enum perm p;

		/* Only what the caller may read, as experiments/search. */
		if (perm_experiment(r, PQgetvalue(res, i, 0), &p) == -1) {
			PQclear(res);
			json_decref(list);
			goto out;
		}
		if (p < PERM_READ)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}",
		    "experiment_id", PQgetvalue(res, i, 0), "name", PQgetvalue(res, i, 1),
		    "lifecycle_stage", PQgetvalue(res, i, 2), "creation_time",
		    i64(PQgetvalue(res, i, 3)), "last_update_time", i64(PQgetvalue(res, i, 4)),
		    "runs", i64(PQgetvalue(res, i, 5))));
	}
	PQclear(res);
	*out = list;
	rc = 0;
out:
	buf_free(&like);
	return rc;
}

int
tracking_run_search_check(struct req *r, const char *filter, const char *const *order_by,
    size_t norder, char *err, size_t errlen)
{
	struct search_query q;

	return search_compile(r->a, SEARCH_RUNS, filter, order_by, norder, NULL, &q, err,
	    errlen);
}

size_t
tracking_search_error_position(const char *err)
{
	const char *p = strstr(err, "at position ");

	return p != NULL ? (size_t)strtoul(p + 12, NULL, 10) : 0;
}

int
tracking_runs_get(struct req *r, const char *const *ids, size_t n, json_t **out)
{
	int rc;

	*out = NULL;
	for (size_t i = 0; i < n; i++)
		if ((rc = check_run_id(r, ids[i])) != 0 ||
		    (rc = perm_require_run(r, ids[i], PERM_READ)) != 0)
			return rc;
	return runs_load(r, ids, n, NULL, out) == -1 ? -1 : 0;
}

int
tracking_run_model_versions(struct req *r, const char *run_id, json_t **out)
{
	const char *vals[1] = { run_id };
	PGresult *res;
	int rc;

	*out = NULL;
	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_READ)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_RUN_MODEL_VERSIONS, 1, vals)) == NULL)
		return -1;
	*out = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(*out, json_pack("{s:s, s:o, s:s}", "name",
		    PQgetvalue(res, i, 0), "version", i64(PQgetvalue(res, i, 1)), "stage",
		    PQgetvalue(res, i, 2)));
	PQclear(res);
	return 0;
}

int
tracking_run_sparklines(struct req *r, const char *run_id, int npoints, json_t **out)
{
	char np[16];
	const char *vals[2] = { run_id, np };
	PGresult *res;
	int rc;

	*out = NULL;
	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_READ)) != 0)
		return rc;
	snprintf(np, sizeof(np), "%d", npoints < 2 ? 2 : npoints > 500 ? 500 : npoints);
	if ((res = db_exec(r->db, STMT_METRIC_SPARKS, 2, vals)) == NULL)
		return -1;
	*out = json_object();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *k = PQgetvalue(res, i, 0);
		json_t *a = json_object_get(*out, k), *last;

		if (a == NULL) {
			a = json_array();
			json_object_set_new(*out, k, a);
		}
		/* Sparse steps make neighbouring probes land on one point: keep it once. */
		last = json_array_get(a, json_array_size(a) - 1);
		if (last != NULL && json_integer_value(json_array_get(last, 0)) ==
		    strtoll(PQgetvalue(res, i, 1), NULL, 10))
			continue;
		json_array_append_new(a, json_pack("[o, o]", i64(PQgetvalue(res, i, 1)),
		    json_number_or_null(strtod(PQgetvalue(res, i, 2), NULL))));
	}
	PQclear(res);
	return 0;
}

/*
 * Makes the block summary of (run_id, key) current when the history is large
 * enough to be drawn from it (latest_metrics.n >= chart_summary_min_points).
 * Returns 1 when the blocks are current (the chart reads them), 0 when the
 * chart reads every point (a small history, or another request is refreshing
 * this one), -1 on a database error.
 */
static int
chart_summary(struct req *r, const char *run_id, const char *key)
{
	const char *vals[2] = { run_id, key };
	PGresult *res;
	long long logged, covered, past;
	int fresh, locked;

	if ((res = db_exec(r->db, STMT_METRIC_SUMMARY_STATE, 2, vals)) == NULL)
		return -1;
	fresh = PQntuples(res) == 1 && !PQgetisnull(res, 0, 1) &&
	    strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) == 0;
	logged = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	if (logged < r->app->cfg.chart_summary_min_points)
		return 0;
	if (fresh)
		return 1;
	/* Stale: refresh in one transaction, under the (run, key) lock. */
	if (PQtransactionStatus(db_conn(r->db)) != PQTRANS_IDLE)
		return 0;
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	if ((res = db_exec(r->db, STMT_METRIC_SUMMARY_LOCK, 2, vals)) == NULL)
		goto fail;
	locked = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	if (!locked) {
		db_rollback(r->db);
		return 0;
	}
	/*
	 * Again under the lock: each statement sees what an earlier holder
	 * committed. (A read-only statement is retried on a new connection after
	 * a lost one, outside this transaction: then give up.)
	 */
	if ((res = db_exec(r->db, STMT_METRIC_SUMMARY_STATE, 2, vals)) == NULL)
		goto fail;
	if (PQtransactionStatus(db_conn(r->db)) != PQTRANS_INTRANS) {
		PQclear(res);
		goto fail;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(r->db);
		return 0;
	}
	logged = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	covered = PQgetisnull(res, 0, 1) ? -1 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	past = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	if (covered != logged) {
		if (covered >= 0 && covered + past == logged)
			res = db_exec(r->db, STMT_METRIC_BLOCKS_APPEND, 2, vals);
		else if ((res = db_exec(r->db, STMT_METRIC_BLOCKS_CLEAR, 2, vals)) != NULL) {
			PQclear(res);
			res = db_exec(r->db, STMT_METRIC_BLOCKS_BUILD, 2, vals);
		}
		if (res == NULL)
			goto fail;
		PQclear(res);
	}
	if (commit(r) == -1)
		return -1;
	return 1;
fail:
	db_rollback(r->db);
	return -1;
}

int
tracking_metric_buckets(struct req *r, const char *run_id, const char *key, const char *x,
    int nbuckets, json_t **out)
{
	char nb[16];
	const char *vals[4] = { run_id, key, x, nb };
	const char *sv[1] = { run_id };
	PGresult *res;
	int rc, rows, blocks;

	*out = NULL;
	if ((rc = check_run_id(r, run_id)) != 0)
		return rc;
	if ((rc = perm_require_run(r, run_id, PERM_READ)) != 0)
		return rc;
	if (strcmp(x, "step") != 0 && strcmp(x, "time") != 0) {
		resp_error_code(r, ERR_INVALID, "x must be step or time, not '%.40s'", x);
		return 1;
	}
	if ((res = db_exec(r->db, STMT_RUN_STATE, 1, sv)) == NULL)
		return -1;
	rows = PQntuples(res);
	PQclear(res);
	if (rows != 1) {
		resp_error_code(r, ERR_MISSING, "Run with id=%s not found", run_id);
		return 1;
	}
	snprintf(nb, sizeof(nb), "%d", nbuckets < 1 ? 1 : nbuckets > TRK_BUCKETS_MAX ?
	    TRK_BUCKETS_MAX : nbuckets);
	if ((blocks = chart_summary(r, run_id, key)) == -1)
		return -1;
	if ((res = db_exec(r->db, blocks ? STMT_METRIC_BLOCK_BUCKETS : STMT_METRIC_BUCKETS, 4,
	    vals)) == NULL)
		return -1;
	*out = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(*out, json_pack("[f, f, f, f, f, I]",
		    strtod(PQgetvalue(res, i, 1), NULL), strtod(PQgetvalue(res, i, 2), NULL),
		    strtod(PQgetvalue(res, i, 3), NULL), strtod(PQgetvalue(res, i, 4), NULL),
		    strtod(PQgetvalue(res, i, 5), NULL),
		    (json_int_t)strtoll(PQgetvalue(res, i, 6), NULL, 10)));
	PQclear(res);
	return 0;
}
