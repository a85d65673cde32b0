/* page-experiments.c: HTML pages of experiment tracking — the experiments list and an experiment's runs table (filter, sort, columns, keyset pages, CSV). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "handlers.h"
#include "search.h"
#include "tracking.h"

#define PAGE_DEFAULT 100
#define PREV_MAX 20             /* previous-page tokens carried in the URL */
#define COLS_MAX 60             /* chosen columns */
#define DEFAULT_COLS 5          /* metrics, then params, shown when none are chosen */
#define CSV_MAX_RUNS 10000      /* one export; the page says so */
#define CSV_CHUNK 1000
#define URL_MAX (64 * 1024)

/* Fields of GET /experiments/{id} and runs.csv, in routes.c's order. */
enum { F_FILTER, F_ORDER, F_COLS, F_VIEW, F_TOKEN, F_PREV, F_N };

static enum trk_view
view_of(struct req *r, int field)
{
	const char *v = r->in[field].present ? r->in[field].s : "active";

	return !strcmp(v, "deleted") ? TRK_DELETED_ONLY : !strcmp(v, "all") ? TRK_ALL :
	    TRK_ACTIVE_ONLY;
}

/* ---- /experiments ---- */

int
page_experiments(struct req *r)
{
	const char *q = r->in[0].present ? r->in[0].s : "";
	enum trk_view view = view_of(r, 1);
	json_t *list, *rows;
	int rc;

	if ((rc = tracking_experiment_overview(r, view, q, TRK_OVERVIEW_MAX, &list)) != 0)
		return rc == 1 ? 0 : -1;
	rows = json_array();
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		long long upd = json_integer_value(json_object_get(e, "last_update_time"));

		json_array_append_new(rows, json_pack("{s:O, s:O, s:O, s:o?, s:b}", "id",
		    json_object_get(e, "experiment_id"), "name", json_object_get(e, "name"),
		    "runs", json_object_get(e, "runs"), "updated", chart_time_ms(r->a, upd),
		    "deleted", !strcmp(json_string_value(json_object_get(e, "lifecycle_stage")),
		    "deleted")));
	}
	json_decref(list);
	return resp_html(r, 200, "experiments", json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, "
	    "s:s, s:b}", "title", "Experiments", "q", q, "experiments", rows, "view_active",
	    view == TRK_ACTIVE_ONLY, "view_deleted", view == TRK_DELETED_ONLY, "view_all",
	    view == TRK_ALL, "view", view == TRK_DELETED_ONLY ? "deleted" : view == TRK_ALL ?
	    "all" : "active", "capped", json_array_size(rows) >= TRK_OVERVIEW_MAX));
}

int
page_experiments_create(struct req *r)
{
	json_t *out;
	const char *url;
	int rc = tracking_experiment_create(r, r->in[0].s, NULL, NULL, &out);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	url = arena_printf(r->a, "/experiments/%s", json_string_value(json_object_get(out,
	    "experiment_id")));
	json_decref(out);
	if (url == NULL || resp_flash(r, "ok", "Experiment created: log runs to it from "
	    "any MLflow client.") == -1)
		return -1;
	return resp_redirect(r, url);
}

static int
experiment_stage(struct req *r, int restore)
{
	const char *id = req_path_param(r, "id");
	int rc = tracking_experiment_delete(r, id, restore);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if (resp_flash(r, "ok", restore ? "Experiment restored, with the runs it had." :
	    "Experiment deleted: find it under “deleted” to restore it.") == -1)
		return -1;
	return resp_redirect(r, restore ? arena_printf(r->a, "/experiments/%s", id) :
	    "/experiments");
}

int
page_experiment_delete(struct req *r)
{
	return experiment_stage(r, 0);
}

int
page_experiment_restore(struct req *r)
{
	return experiment_stage(r, 1);
}

/* ---- the runs table ---- */

enum col_kind { COL_PARAM = TRK_PARAMS, COL_METRIC = TRK_METRICS, COL_TAG = TRK_TAGS };

struct col {
	enum col_kind kind;
	const char *key;
	const char *name;       /* "params.lr" as the URL says it */
};

static const char *const col_prefix[] = { "params.", "metrics.", "tags." };

/* cols from the URL: items of the list, each comma-separated. 0, or 1 after a 400. */
static int
cols_parse(struct req *r, const struct value *v, struct col *cols, size_t *n)
{
	*n = 0;
	for (size_t i = 0; v->present && i < v->nlist; i++) {
		const char *p = v->list[i];

		while (*p != '\0') {
			size_t len = strcspn(p, ","), k;
			const char *item = arena_strndup(r->a, p, len);

			p += len + (p[len] == ',');
			if (item == NULL)
				return -1;
			while (*item == ' ')
				item++;
			if (*item == '\0')
				continue;
			for (k = 0; k < ARRAY_LEN(col_prefix); k++)
				if (!strncmp(item, col_prefix[k], strlen(col_prefix[k])) &&
				    item[strlen(col_prefix[k])] != '\0')
					break;
			if (k == ARRAY_LEN(col_prefix)) {
				resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'cols': '%.100s' "
				    "is not a column: use params.<key>, metrics.<key> or tags.<key>",
				    item);
				return 1;
			}
			if (*n == COLS_MAX) {
				resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'cols': at most "
				    "%d columns", COLS_MAX);
				return 1;
			}
			cols[*n].kind = (enum col_kind)k;
			cols[*n].key = item + strlen(col_prefix[k]);
			cols[*n].name = item;
			(*n)++;
		}
	}
	return 0;
}

/* The value of key in run.data.<list> ([{key, value}]); NULL when absent. */
static json_t *
data_value(json_t *run, const char *list, const char *key)
{
	json_t *a = json_object_get(json_object_get(run, "data"), list);

	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);

		if (!strcmp(json_string_value(json_object_get(o, "key")), key))
			return json_object_get(o, "value");
	}
	return NULL;
}

static const char *const col_list[] = { "params", "metrics", "tags" };

/* A cell's text: metrics as numbers, NaN spelled; NULL when the run lacks it. */
static const char *
cell_text(struct req *r, json_t *run, const struct col *c)
{
	json_t *v = data_value(run, col_list[c->kind], c->key);

	if (v == NULL)
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	return chart_num(r->a, json_number_value(v));
}

/* The keys of cols[0..n) by kind: what a runs table loads of each run. */
static int
cols_keys(struct req *r, const struct col *cols, size_t n, struct trk_keys *only)
{
	memset(only, 0, sizeof(*only));
	for (int kind = 0; kind < TRK_KINDS; kind++)
		if ((only->key[kind] = arena_alloc(r->a, sizeof(char *) * (n + 1))) == NULL)
			return -1;
	for (size_t c = 0; c < n; c++)
		only->key[cols[c].kind][only->n[cols[c].kind]++] = cols[c].key;
	return 0;
}

/* The columns shown when the URL chooses none: a few metrics, then a few params. */
static size_t
default_cols(struct req *r, const struct trk_keys *all, struct col *cols)
{
	size_t n = 0;

	for (int kind = COL_METRIC; kind >= COL_PARAM; kind--) {
		size_t nk = all->n[kind];
		const char **keys = all->key[kind];

		for (size_t i = 0; i < nk && i < DEFAULT_COLS; i++) {
			cols[n].kind = (enum col_kind)kind;
			cols[n].key = keys[i];
			cols[n].name = arena_printf(r->a, "%s%s", col_prefix[kind], keys[i]);
			n++;
		}
	}
	return n;
}

/* The grammar's identifier for a key: plain when it is a dotted name, else backquoted. */
static const char *
ident(struct req *r, const char *prefix, const char *key)
{
	size_t n = strlen(key);
	int plain = n > 0 && strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.") == n && key[0] != '.' && key[n - 1] != '.' && strstr(key, "..") == NULL;

	return plain ? arena_printf(r->a, "%s.%s", prefix, key) :
	    arena_printf(r->a, "%s.`%s`", prefix, key);
}

/* Query-string state of the runs view; every link is built from it. */
struct view {
	const char *id, *filter, *order, *cols, *view, *token;
	const char **prev;
	size_t nprev;
	long long n;
};

static int
qadd(struct buf *b, const char *name, const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;
	if (buf_addc(b, b->len == 0 ? '?' : '&') == -1 || buf_adds(b, name) == -1 ||
	    buf_addc(b, '=') == -1)
		return -1;
	return url_encode(b, v, strlen(v));
}

/*
 * The view's URL with order, page token and previous tokens replaced (base
 * "/experiments/ID" or ".../runs.csv"); arena memory, NULL when too long.
 */
static const char *
view_url(struct req *r, const struct view *v, const char *suffix, const char *order,
    const char *token, const char *const *prev, size_t nprev)
{
	struct buf q;
	const char *s = NULL;
	char n[24];

	buf_init(&q, URL_MAX);
	snprintf(n, sizeof(n), "%lld", v->n);
	if (qadd(&q, "filter", v->filter) == -1 || qadd(&q, "order", order) == -1 ||
	    qadd(&q, "cols", v->cols) == -1 || qadd(&q, "view", strcmp(v->view, "active") ?
	    v->view : NULL) == -1 || qadd(&q, "n", v->n != PAGE_DEFAULT ? n : NULL) == -1 ||
	    qadd(&q, "page_token", token) == -1)
		goto out;
	for (size_t i = 0; i < nprev; i++)
		if (qadd(&q, "prev", prev[i]) == -1)
			goto out;
	s = arena_printf(r->a, "/experiments/%s%s%s", v->id, suffix, buf_str(&q));
out:
	buf_free(&q);
	return s;
}

/* A sortable header: the order it links to, and whether it is the current one. */
static json_t *
sort_head(struct req *r, const struct view *v, const char *label, const char *ident_s,
    const char *cls)
{
	const char *asc = arena_printf(r->a, "%s ASC", ident_s),
	    *desc = arena_printf(r->a, "%s DESC", ident_s);
	int is_asc = v->order != NULL && (!strcmp(v->order, asc) || !strcmp(v->order, ident_s)),
	    is_desc = v->order != NULL && !strcmp(v->order, desc);

	return json_pack("{s:s, s:s, s:s, s:s?}", "label", label, "href", view_url(r, v, "",
	    is_asc ? desc : asc, NULL, NULL, 0), "sort", is_asc ? "ascending" : is_desc ? "descending" :
	    "none", "cls", cls);
}

static int
csv_field(struct buf *b, const char *s, int first)
{
	double d;
	char *end;
	int guard;

	if (!first && buf_addc(b, ',') == -1)
		return -1;
	if (s == NULL)
		return 0;
	d = strtod(s, &end);
	(void)d;
	/* A spreadsheet would run a cell starting with = + - @ as a formula: not numbers. */
	guard = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0' && (*end != '\0' || end == s);
	if (!guard && strpbrk(s, ",\"\r\n") == NULL)
		return buf_adds(b, s);
	if (buf_addc(b, '"') == -1 || (guard && buf_addc(b, '\'') == -1))
		return -1;
	for (const char *p = s; *p != '\0'; p++)
		if ((*p == '"' && buf_addc(b, '"') == -1) || buf_addc(b, *p) == -1)
			return -1;
	return buf_addc(b, '"');
}

/* Attribute cells of a run, shared by the table and the CSV. */
struct attrs {
	const char *id, *name, *status, *user, *start, *end, *duration;
	long long start_ms, end_ms;
};

static void
run_attrs(struct req *r, json_t *run, struct attrs *a)
{
	json_t *info = json_object_get(run, "info"), *end = json_object_get(info, "end_time");

	a->id = json_string_value(json_object_get(info, "run_id"));
	a->name = json_string_value(json_object_get(info, "run_name"));
	a->status = json_string_value(json_object_get(info, "status"));
	a->user = json_string_value(json_object_get(info, "user_id"));
	a->start_ms = json_integer_value(json_object_get(info, "start_time"));
	a->start = chart_iso_ms(r->a, a->start_ms);
	a->end_ms = end != NULL ? json_integer_value(end) : -1;
	a->end = end != NULL ? chart_iso_ms(r->a, a->end_ms) : NULL;
	a->duration = end != NULL && a->end_ms >= a->start_ms ?
	    chart_duration_ms(r->a, a->end_ms - a->start_ms) : NULL;
}

/* Reads the view's fields; 0, or 1 after answering a 400. */
static int
view_read(struct req *r, struct view *v, struct col *cols, size_t *ncols, int *explicit_cols)
{
	struct buf cs;
	int rc;

	memset(v, 0, sizeof(*v));
	v->id = req_path_param(r, "id");
	v->filter = r->in[F_FILTER].present ? r->in[F_FILTER].s : "";
	v->order = r->in[F_ORDER].present && r->in[F_ORDER].s[0] != '\0' ? r->in[F_ORDER].s :
	    NULL;
	v->view = r->in[F_VIEW].present ? r->in[F_VIEW].s : "active";
	v->token = r->in[F_TOKEN].present ? r->in[F_TOKEN].s : "";
	v->n = r->in[F_N].present ? r->in[F_N].i : PAGE_DEFAULT;
	v->prev = r->in[F_PREV].present ? r->in[F_PREV].list : NULL;
	v->nprev = r->in[F_PREV].present ? r->in[F_PREV].nlist : 0;
	if (v->nprev > PREV_MAX) {
		v->prev += v->nprev - PREV_MAX;
		v->nprev = PREV_MAX;
	}
	if ((rc = cols_parse(r, &r->in[F_COLS], cols, ncols)) != 0)
		return rc;
	*explicit_cols = *ncols > 0;
	buf_init(&cs, URL_MAX);
	for (size_t i = 0; i < *ncols; i++)
		if ((i > 0 && buf_addc(&cs, ',') == -1) || buf_adds(&cs, cols[i].name) == -1) {
			buf_free(&cs);
			return -1;
		}
	v->cols = arena_strdup(r->a, buf_str(&cs));
	buf_free(&cs);
	return v->cols == NULL ? -1 : 0;
}

int
page_experiment(struct req *r)
{
	struct view v;
	struct col cols[COLS_MAX + 2 * DEFAULT_COLS];
	size_t ncols;
	int explicit_cols, rc, status = 200;
	json_t *exp = NULL, *res = NULL, *runs, *ctx, *heads, *rows, *picker, *colnames;
	const char *ids[1], *order[1];
	char err[SEARCH_ERR_MAX];
	const char *next;
	struct trk_keys only, all;

	if ((rc = view_read(r, &v, cols, &ncols, &explicit_cols)) != 0)
		return rc == 1 ? 0 : -1;
	if ((rc = tracking_experiment_get(r, v.id, &exp)) != 0)
		return rc == 1 ? 0 : -1;
	ids[0] = v.id;
	order[0] = v.order;
	ctx = json_pack("{s:s, s:O, s:O, s:s, s:s?, s:s, s:b, s:b, s:b, s:b, s:I}", "title",
	    json_string_value(json_object_get(exp, "name")), "name", json_object_get(exp,
	    "name"), "id", json_object_get(exp, "experiment_id"), "filter", v.filter, "order",
	    v.order, "view", v.view, "view_active", !strcmp(v.view, "active"), "view_deleted",
	    !strcmp(v.view, "deleted"), "view_all", !strcmp(v.view, "all"), "deleted",
	    !strcmp(json_string_value(json_object_get(exp, "lifecycle_stage")), "deleted"),
	    "n", (json_int_t)v.n);
	json_decref(exp);
	if (tracking_run_search_check(r, v.filter, order, v.order ? 1 : 0, err,
	    sizeof(err)) == -1) {
		/* Shown at its place under the filter box; the page stays usable. */
		size_t pos = tracking_search_error_position(err), len = strlen(v.filter);

		json_object_set_new(ctx, "error", json_string(err));
		if (pos > 0 && pos <= len + 1 && strstr(err, "order_by") == NULL) {
			json_object_set_new(ctx, "err_before", json_stringn(v.filter, pos - 1));
			json_object_set_new(ctx, "err_at", json_stringn(v.filter + pos - 1,
			    pos <= len ? 1 : 0));
			json_object_set_new(ctx, "err_after", json_string(pos <= len ?
			    v.filter + pos : ""));
			json_object_set_new(ctx, "err_pos", json_integer((json_int_t)pos));
		}
		return resp_html(r, 400, "experiment", ctx);
	}
	/* Chosen columns: each run's data holds those keys alone. */
	if ((explicit_cols && cols_keys(r, cols, ncols, &only) == -1) ||
	    (rc = tracking_run_search(r, ids, 1, v.filter, view_of(r, F_VIEW), v.n, order,
	    v.order ? 1 : 0, v.token, explicit_cols ? &only : NULL, &res)) != 0) {
		json_decref(ctx);
		return rc == 1 ? 0 : -1;
	}
	runs = json_object_get(res, "runs");
	if (tracking_run_keys(r, runs, &all) == -1)
		goto fail;
	if (!explicit_cols) {
		ncols = default_cols(r, &all, cols);
		for (size_t i = 0; i < ncols; i++)
			v.cols = arena_printf(r->a, "%s%s%s", i ? v.cols : "", i ? "," : "",
			    cols[i].name);
	}
	heads = json_array();
	json_array_append_new(heads, sort_head(r, &v, "Run", "attributes.run_name", NULL));
	json_array_append_new(heads, sort_head(r, &v, "Started", "attributes.start_time", NULL));
	json_array_append_new(heads, json_pack("{s:s, s:s}", "label", "Duration", "sort",
	    "none"));
	json_array_append_new(heads, sort_head(r, &v, "Status", "attributes.status", NULL));
	json_array_append_new(heads, sort_head(r, &v, "User", "attributes.user_id", NULL));
	for (size_t c = 0; c < ncols; c++)
		json_array_append_new(heads, sort_head(r, &v, cols[c].name, ident(r,
		    col_list[cols[c].kind], cols[c].key), cols[c].kind == COL_METRIC ? "num" :
		    NULL));
	rows = json_array();
	for (size_t i = 0; i < json_array_size(runs); i++) {
		json_t *run = json_array_get(runs, i), *cells = json_array();
		struct attrs at;

		run_attrs(r, run, &at);
		for (size_t c = 0; c < ncols; c++) {
			const char *t = cell_text(r, run, &cols[c]);

			json_array_append_new(cells, json_pack("{s:s?, s:b}", "v", t, "num",
			    cols[c].kind == COL_METRIC));
		}
		json_array_append_new(rows, json_pack("{s:s, s:s, s:o?, s:s?, s:s, s:s, "
		    "s:o}", "run_id", at.id, "run_name", at.name, "start", chart_time(at.start),
		    "duration", at.duration, "status", at.status, "user", at.user,
		    "cells", cells));
	}
	/* The column picker offers every key the page's runs have. */
	picker = json_array();
	colnames = json_object();
	for (size_t c = 0; c < ncols; c++)
		json_object_set_new(colnames, cols[c].name, json_true());
	for (int kind = COL_PARAM; kind <= COL_TAG; kind++) {
		size_t nk = all.n[kind];
		const char **keys = all.key[kind];

		for (size_t i = 0; i < nk; i++) {
			const char *name = arena_printf(r->a, "%s%s", col_prefix[kind], keys[i]);

			if (kind == COL_TAG && !strncmp(keys[i], "mlflow.", 7) &&
			    strcmp(keys[i], "mlflow.source.name") != 0)
				continue;
			json_array_append_new(picker, json_pack("{s:s, s:b}", "name", name,
			    "checked", json_object_get(colnames, name) != NULL));
		}
	}
	json_decref(colnames);
	next = json_string_value(json_object_get(res, "next_page_token"));
	{
		const char **np = arena_alloc(r->a, sizeof(char *) * (v.nprev + 2));

		if (np == NULL)
			goto fail;
		for (size_t i = 0; i < v.nprev; i++)
			np[i] = v.prev[i];
		np[v.nprev] = v.token[0] != '\0' ? v.token : "-";
		if (next != NULL)
			json_object_set_new(ctx, "next_url", json_string(view_url(r, &v, "",
			    v.order, next, np, v.nprev + 1)));
		if (v.token[0] != '\0') {
			const char *pt = v.nprev > 0 && strcmp(v.prev[v.nprev - 1], "-") ? v.prev[
			    v.nprev - 1] : NULL;

			json_object_set_new(ctx, "prev_url", json_string(view_url(r, &v, "",
			    v.order, pt, v.prev, v.nprev > 0 ? v.nprev - 1 : 0)));
			json_object_set_new(ctx, "first_url", json_string(view_url(r, &v, "",
			    v.order, NULL, NULL, 0)));
		}
	}
	json_object_set_new(ctx, "heads", heads);
	json_object_set_new(ctx, "rows", rows);
	json_object_set_new(ctx, "picker", picker);
	json_object_set_new(ctx, "cols", json_string(v.cols));
	json_object_set_new(ctx, "ncols", json_integer((json_int_t)ncols + 6));
	json_object_set_new(ctx, "csv_url", json_string(view_url(r, &v, "/runs.csv", v.order,
	    NULL, NULL, 0)));
	json_object_set_new(ctx, "csv_max", json_integer(CSV_MAX_RUNS));
	json_object_set_new(ctx, "shown", json_integer((json_int_t)json_array_size(runs)));
	json_decref(res);
	return resp_html(r, status, "experiment", ctx);
fail:
	json_decref(res);
	json_decref(ctx);
	return -1;
}

/*
 * The view as CSV: attribute columns, then the chosen ones (the page's link
 * names them), every run the filter matches in the view's order, at most
 * CSV_MAX_RUNS (X-Verdict-Truncated: true says there were more).
 */
int
page_experiment_csv(struct req *r)
{
	struct view v;
	struct col cols[COLS_MAX + 2 * DEFAULT_COLS];
	size_t ncols, total = 0;
	int explicit_cols, rc = -1;
	const char *ids[1], *order[1], *token = NULL;
	struct buf out;
	json_t *exp = NULL, *res = NULL;
	char disp[128];
	struct trk_keys only;

	if ((rc = view_read(r, &v, cols, &ncols, &explicit_cols)) != 0)
		return rc == 1 ? 0 : -1;
	if (cols_keys(r, cols, ncols, &only) == -1)
		return -1;
	if ((rc = tracking_experiment_get(r, v.id, &exp)) != 0)
		return rc == 1 ? 0 : -1;
	json_decref(exp);
	ids[0] = v.id;
	order[0] = v.order;
	buf_init(&out, 256u << 20);
	rc = -1;
	if (buf_adds(&out, "run_id,run_name,status,start_time,end_time,duration_s,user") == -1)
		goto out;
	for (size_t c = 0; c < ncols; c++)
		if (csv_field(&out, cols[c].name, 0) == -1)
			goto out;
	if (buf_adds(&out, "\r\n") == -1)
		goto out;
	do {
		json_t *runs;
		int src = tracking_run_search(r, ids, 1, v.filter, view_of(r, F_VIEW), CSV_CHUNK,
		    order, v.order ? 1 : 0, token, &only, &res);

		if (src != 0) {
			rc = src == 1 ? 0 : -1;
			goto out;
		}
		runs = json_object_get(res, "runs");
		for (size_t i = 0; i < json_array_size(runs) && total < CSV_MAX_RUNS; i++, total++) {
			json_t *run = json_array_get(runs, i);
			struct attrs at;
			char dur[32] = "";

			run_attrs(r, run, &at);
			if (at.end != NULL && at.end_ms >= at.start_ms)
				snprintf(dur, sizeof(dur), "%.3f", (at.end_ms - at.start_ms) / 1000.0);
			if (csv_field(&out, at.id, 1) == -1 || csv_field(&out, at.name, 0) == -1 ||
			    csv_field(&out, at.status, 0) == -1 || csv_field(&out, at.start, 0) == -1 ||
			    csv_field(&out, at.end, 0) == -1 || csv_field(&out, dur, 0) == -1 ||
			    csv_field(&out, at.user, 0) == -1)
				goto out;
			for (size_t c = 0; c < ncols; c++) {
				json_t *val = data_value(run, col_list[cols[c].kind], cols[c].key);
				const char *t = val == NULL ? NULL : json_is_string(val) ?
				    json_string_value(val) : chart_exact(r->a,
				    json_number_value(val));

				if (csv_field(&out, t, 0) == -1)
					goto out;
			}
			if (buf_adds(&out, "\r\n") == -1)
				goto out;
		}
		token = json_string_value(json_object_get(res, "next_page_token"));
		token = token != NULL ? arena_strdup(r->a, token) : NULL;
		json_decref(res);
		res = NULL;
	} while (token != NULL && total < CSV_MAX_RUNS);
	snprintf(disp, sizeof(disp), "attachment; filename=\"experiment-%s-runs.csv\"", v.id);
	if (resp_header(&r->resp, "Content-Disposition", disp) == -1 ||
	    (token != NULL && resp_header(&r->resp, "X-Verdict-Truncated", "true") == -1) ||
	    resp_text(r, 200, "text/csv; charset=utf-8", buf_str(&out), out.len) == -1)
		goto out;
	rc = 0;
out:
	json_decref(res);
	buf_free(&out);
	return rc;
}
