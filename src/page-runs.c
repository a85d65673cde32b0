/* page-runs.c: HTML pages of one run, one metric's chart (overlays, smoothing, downsampled), and the comparison of runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "chart.h"
#include "handlers.h"
#include "registry.h"
#include "tracking.h"

#define SPARK_POINTS 40
#define CHILDREN_MAX 100
#define OVERLAY_MAX CHART_SERIES_MAX
#define COMPARE_MAX 100
#define PC_AXES_MAX 12
#define HISTORY_PAGE TRK_HISTORY_MAX
#define PREVIEW_MAX (64u << 10)         /* bytes of a file shown as text */

static const char *
info_str(json_t *run, const char *k)
{
	const char *s = json_string_value(json_object_get(json_object_get(run, "info"), k));

	return s != NULL ? s : "";
}

static json_t *
data_list(json_t *run, const char *list)
{
	return json_object_get(json_object_get(run, "data"), list);
}

static const char *
tag_of(json_t *run, const char *key)
{
	json_t *a = data_list(run, "tags");

	for (size_t i = 0; i < json_array_size(a); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(a, i), "key")), key))
			return json_string_value(json_object_get(json_array_get(a, i), "value"));
	return NULL;
}

/* "/runs/<id>/metrics/<key>", or ".../metric?key=" for keys with a '/' (a path segment cannot hold one). */
static const char *
metric_url(struct req *r, const char *run_id, const char *key, const char *extra)
{
	struct buf b;
	const char *s = NULL;

	buf_init(&b, 8192);
	if (strchr(key, '/') == NULL) {
		if (buf_printf(&b, "/runs/%s/metrics/", run_id) == 0 &&
		    url_encode(&b, key, strlen(key)) == 0 &&
		    (extra == NULL || buf_printf(&b, "?%s", extra) == 0))
			s = arena_strdup(r->a, buf_str(&b));
	} else if (buf_printf(&b, "/runs/%s/metric?key=", run_id) == 0 &&
	    url_encode(&b, key, strlen(key)) == 0 &&
	    (extra == NULL || buf_printf(&b, "&%s", extra) == 0))
		s = arena_strdup(r->a, buf_str(&b));
	buf_free(&b);
	return s;
}

/* A run's list of {key, value} as template rows (metrics with their number formatted). */
static json_t *
kv_rows(struct req *r, json_t *run, const char *list, int system)
{
	json_t *a = data_list(run, list), *out = json_array();

	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);
		const char *k = json_string_value(json_object_get(o, "key"));
		json_t *v = json_object_get(o, "value");

		if (system >= 0 && (!strncmp(k, "mlflow.", 7)) != system)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:s}", "key", k, "value",
		    json_is_string(v) ? json_string_value(v) : chart_num(r->a,
		    json_number_value(v))));
	}
	return out;
}

/* ---- a run's artifacts ---- */

/* prefix + each segment of rel percent-encoded, '/' kept between them; arena memory. */
static const char *
path_url(struct req *r, const char *prefix, const char *rel)
{
	struct buf b;
	const char *s = NULL;
	int ok;

	if (prefix == NULL)
		return NULL;
	buf_init(&b, 4 * ARTIFACT_PATH_MAX + 256);
	ok = buf_adds(&b, prefix) == 0;
	for (const char *p = rel; ok && *p != '\0';) {
		size_t n = strcspn(p, "/");

		ok = url_encode(&b, p, n) == 0 && (p[n] == '\0' || buf_adds(&b, "/") == 0);
		p += n + (p[n] == '/');
	}
	if (ok)
		s = arena_strdup(r->a, buf_str(&b));
	buf_free(&b);
	return s;
}

/* The run page showing directory rel of the artifact tree ("" = the root). */
static const char *
tree_url(struct req *r, const char *run_id, const char *rel)
{
	struct buf b;
	const char *s = NULL;

	if (rel == NULL)
		return NULL;
	buf_init(&b, 4 * ARTIFACT_PATH_MAX + 256);
	if (buf_printf(&b, "/runs/%s", run_id) == 0 && (*rel == '\0' ||
	    (buf_adds(&b, "?path=") == 0 && url_encode(&b, rel, strlen(rel)) == 0)) &&
	    buf_adds(&b, "#artifacts") == 0)
		s = arena_strdup(r->a, buf_str(&b));
	buf_free(&b);
	return s;
}

/*
 * Breadcrumbs inside the tree for rel: "artifacts", then each directory of
 * rel linking to its listing; the last segment is not a link when last_here.
 */
static json_t *
tree_crumbs(struct req *r, const char *run_id, const char *rel, int last_here)
{
	json_t *a = json_array();
	size_t n = strlen(rel);

	json_array_append_new(a, json_pack("{s:s, s:s?}", "name", "artifacts", "href",
	    *rel == '\0' && last_here ? NULL : tree_url(r, run_id, "")));
	for (size_t i = 0; i < n;) {
		size_t len = strcspn(rel + i, "/");
		const char *upto = arena_strndup(r->a, rel, i + len);
		int last = rel[i + len] == '\0';

		json_array_append_new(a, json_pack("{s:s%, s:s?}", "name", rel + i, len, "href",
		    last && last_here ? NULL : tree_url(r, run_id, upto != NULL ? upto : "")));
		i += len + !last;
	}
	return a;
}

/*
 * The run page's artifact browser for directory rel: ctx gets "artifacts"
 * {entries [{name, dir, href | download, preview, size}], crumbs, path,
 * register_path} or "artifacts_elsewhere". 0, 1 (answered: a bad or
 * missing directory), -1.
 */
static int
run_artifacts(struct req *r, const char *id, const char *rel, json_t *ctx)
{
	const char *uri, *root, *dir, *why, *register_path = "model";
	json_t *files = NULL, *entries, *art;
	int rc;

	if ((why = artifact_path_check(rel, 1)) != NULL) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'path': %s", why);
		return 1;
	}
	if ((rc = artifact_run_root(r, id, &uri, &root)) == 2) {
		json_object_set_new(ctx, "artifacts_elsewhere", json_string(uri));
		return 0;
	}
	if (rc != 0)
		return rc;
	if ((dir = arena_printf(r->a, "%s%s%s", root, *root && *rel ? "/" : "", rel)) == NULL)
		return -1;
	if ((rc = artifact_list(r, dir, "", &files)) != 0)
		return rc;
	if (*rel != '\0' && json_array_size(files) == 0) {
		json_decref(files);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "run %s has no artifact directory "
		    "'%.300s'", id, rel);
		return 1;
	}
	entries = json_array();
	for (size_t i = 0; i < json_array_size(files); i++) {
		json_t *f = json_array_get(files, i);
		const char *name = json_string_value(json_object_get(f, "path"));
		const char *p = *rel ? arena_printf(r->a, "%s/%s", rel, name) : name;
		char size[32];

		if (p == NULL)
			goto fail;
		if (json_is_true(json_object_get(f, "is_dir"))) {
			json_array_append_new(entries, json_pack("{s:s, s:b, s:s?}", "name", name,
			    "dir", 1, "href", tree_url(r, id, p)));
			continue;
		}
		/* A directory holding a model is what the register form should offer. */
		if (!strcmp(name, "MLmodel") || !strcmp(name, "model.ubj") ||
		    !strcmp(name, "model.json"))
			register_path = rel;
		chart_bytes(json_integer_value(json_object_get(f, "file_size")), size,
		    sizeof(size));
		json_array_append_new(entries, json_pack("{s:s, s:b, s:s?, s:s?, s:s}", "name",
		    name, "dir", 0, "download", path_url(r, arena_printf(r->a,
		    "/runs/%s/artifacts/", id), p), "preview", path_url(r, arena_printf(r->a,
		    "/runs/%s/preview/", id), p), "size", size));
	}
	json_decref(files);
	art = json_pack("{s:o, s:o, s:s, s:s, s:b}", "entries", entries, "crumbs",
	    tree_crumbs(r, id, rel, 1), "path", rel, "register_path", *register_path ?
	    register_path : "model", "any", *rel != '\0' || json_array_size(entries) > 0);
	if (art == NULL)
		return -1;
	json_object_set_new(ctx, "artifacts", art);
	return 0;
fail:
	json_decref(files);
	return -1;
}

/* ---- /runs/{id} ---- */

int
page_run(struct req *r)
{
	const char *id = req_path_param(r, "id");
	json_t *res = NULL, *run, *exp = NULL, *kids = NULL, *sparks = NULL, *versions = NULL,
	    *ctx = NULL, *metrics, *m, *children, *datasets;
	const char *eid, *parent, *exps[1], *filter;
	long long start, end;
	json_t *info, *jend;
	int rc;

	if ((rc = tracking_run_get(r, id, &res)) != 0)
		return rc == 1 ? 0 : -1;
	run = json_object_get(res, "run");
	info = json_object_get(run, "info");
	eid = info_str(run, "experiment_id");
	if ((rc = tracking_experiment_get(r, eid, &exp)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	exps[0] = eid;
	if ((filter = arena_printf(r->a, "tags.mlflow.parentRunId = '%s'", id)) == NULL)
		goto out;
	/* id passed check_run_id in tracking_run_get: it holds no quote. */
	if ((rc = tracking_run_search(r, exps, 1, filter, TRK_ALL, CHILDREN_MAX, NULL, 0, NULL,
	    NULL, &kids)) != 0 || (rc = tracking_run_sparklines(r, id, SPARK_POINTS, &sparks)) != 0 ||
	    (rc = tracking_run_model_versions(r, id, &versions)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	rc = -1;
	start = json_integer_value(json_object_get(info, "start_time"));
	jend = json_object_get(info, "end_time");
	end = jend != NULL ? json_integer_value(jend) : -1;
	ctx = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:o?, s:s, s:s, s:b}", "title",
	    info_str(run, "run_name"), "run_id", id, "run_name", info_str(run, "run_name"),
	    "experiment_id", eid, "experiment_name", json_object_get(exp, "name"), "status",
	    info_str(run, "status"), "user", info_str(run, "user_id"), "start",
	    chart_time_ms(r->a, start), "artifact_uri", info_str(run, "artifact_uri"),
	    "lifecycle", info_str(run, "lifecycle_stage"), "deleted",
	    !strcmp(info_str(run, "lifecycle_stage"), "deleted"));
	if (ctx == NULL)
		goto out;
	if (end >= 0) {
		json_object_set_new(ctx, "end", chart_time_ms(r->a, end));
		if (end >= start)
			json_object_set_new(ctx, "duration", json_string(chart_duration_ms(r->a,
			    end - start)));
	}
	if (tag_of(run, "mlflow.source.name") != NULL)
		json_object_set_new(ctx, "source", json_pack("{s:s, s:s, s:s}", "name",
		    tag_of(run, "mlflow.source.name"), "type", tag_of(run, "mlflow.source.type") ?
		    tag_of(run, "mlflow.source.type") : "", "commit",
		    tag_of(run, "mlflow.source.git.commit") ? tag_of(run,
		    "mlflow.source.git.commit") : ""));
	if ((parent = tag_of(run, "mlflow.parentRunId")) != NULL) {
		json_t *pr = NULL;
		const char *pid[1] = { parent };

		/* A malformed or vanished parent is shown as the id the tag holds. */
		if (strlen(parent) <= 64 && strlen(parent) == strspn(parent,
		    "0123456789abcdefABCDEF") && tracking_runs_get(r, pid, 1, &pr) == -1)
			goto out;
		json_object_set_new(ctx, "parent", json_pack("{s:s, s:s, s:b}", "id", parent,
		    "name", json_array_size(pr) == 1 ? info_str(json_array_get(pr, 0),
		    "run_name") : parent, "exists", json_array_size(pr) == 1));
		json_decref(pr);
	}
	children = json_array();
	for (size_t i = 0; i < json_array_size(json_object_get(kids, "runs")); i++) {
		json_t *k = json_array_get(json_object_get(kids, "runs"), i);

		json_array_append_new(children, json_pack("{s:s, s:s, s:s}", "id", info_str(k,
		    "run_id"), "name", info_str(k, "run_name"), "status", info_str(k, "status")));
	}
	json_object_set_new(ctx, "children", children);
	json_object_set_new(ctx, "children_more", json_boolean(json_object_get(kids,
	    "next_page_token") != NULL));
	metrics = json_array();
	m = data_list(run, "metrics");
	for (size_t i = 0; i < json_array_size(m); i++) {
		json_t *o = json_array_get(m, i), *pts;
		const char *k = json_string_value(json_object_get(o, "key"));
		size_t n;
		double *xs, *ys;
		json_t *spark;

		pts = json_object_get(sparks, k);
		n = json_array_size(pts);
		xs = arena_alloc(r->a, sizeof(double) * (n + 1));
		ys = arena_alloc(r->a, sizeof(double) * (n + 1));
		if (xs == NULL || ys == NULL)
			goto out;
		for (size_t j = 0; j < n; j++) {
			xs[j] = json_number_value(json_array_get(json_array_get(pts, j), 0));
			ys[j] = json_is_number(json_array_get(json_array_get(pts, j), 1)) ?
			    json_number_value(json_array_get(json_array_get(pts, j), 1)) : NAN;
		}
		spark = chart_spark(r->a, xs, ys, n);
		json_array_append_new(metrics, json_pack("{s:s, s:s, s:O, s:s, s:o?}", "key", k,
		    "value", json_is_string(json_object_get(o, "value")) ?
		    json_string_value(json_object_get(o, "value")) : chart_num(r->a,
		    json_number_value(json_object_get(o, "value"))), "step",
		    json_object_get(o, "step"), "href", metric_url(r, id, k, NULL), "spark",
		    spark));
	}
	json_object_set_new(ctx, "metrics", metrics);
	json_object_set_new(ctx, "params", kv_rows(r, run, "params", -1));
	json_object_set_new(ctx, "tags", kv_rows(r, run, "tags", 0));
	json_object_set_new(ctx, "system_tags", kv_rows(r, run, "tags", 1));
	datasets = json_array();
	{
		json_t *in = json_object_get(json_object_get(run, "inputs"), "dataset_inputs");

		for (size_t i = 0; i < json_array_size(in); i++) {
			json_t *d = json_object_get(json_array_get(in, i), "dataset"),
			    *t = json_object_get(json_array_get(in, i), "tags"), *ctxv = NULL;

			for (size_t j = 0; j < json_array_size(t); j++)
				if (!strcmp(json_string_value(json_object_get(json_array_get(t, j),
				    "key")), "mlflow.data.context"))
					ctxv = json_object_get(json_array_get(t, j), "value");
			json_array_append_new(datasets, json_pack("{s:O, s:O, s:O, s:O, s:O*}",
			    "name", json_object_get(d, "name"), "digest", json_object_get(d,
			    "digest"), "source_type", json_object_get(d, "source_type"), "source",
			    json_object_get(d, "source"), "context", ctxv));
		}
	}
	json_object_set_new(ctx, "datasets", datasets);
	json_object_set(ctx, "versions", versions);
	if ((rc = run_artifacts(r, id, r->in[0].present ? r->in[0].s : "", ctx)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	rc = resp_html(r, 200, "run", ctx);
	ctx = NULL;
out:
	json_decref(ctx);
	json_decref(res);
	json_decref(exp);
	json_decref(kids);
	json_decref(sparks);
	json_decref(versions);
	return rc;
}

/* GET /runs/{id}/artifacts/{path...}: the file as a download (attachment, octet-stream). */
int
page_run_artifact(struct req *r)
{
	const char *id = req_path_param(r, "id"), *rel, *uri, *root, *prefix;
	int rc;

	if ((prefix = arena_printf(r->a, "/runs/%s/artifacts/", id)) == NULL)
		return -1;
	if ((rc = artifact_request_path(r, prefix, &rel)) != 0 ||
	    (rc = artifact_run_root(r, id, &uri, &root)) != 0) {
		if (rc == 2)
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "run %s keeps its artifacts "
			    "outside verdict (%.300s)", id, uri);
		return rc == -1 ? -1 : 0;
	}
	rc = artifact_get(r, *root ? arena_printf(r->a, "%s/%s", root, rel) : rel, 1);
	return rc == -1 ? -1 : 0;
}

/*
 * GET /runs/{id}/preview/{path...}: a small text file shown escaped in
 * <pre>; a large or binary one says why it is not shown.
 */
int
page_run_preview(struct req *r)
{
	const char *id = req_path_param(r, "id"), *rel, *uri, *root, *full, *prefix, *slash;
	json_t *res = NULL, *exp = NULL, *ctx;
	long long size;
	char hsize[32], *data;
	size_t len;
	int rc;

	if ((prefix = arena_printf(r->a, "/runs/%s/preview/", id)) == NULL)
		return -1;
	if ((rc = artifact_request_path(r, prefix, &rel)) != 0 ||
	    (rc = tracking_run_get(r, id, &res)) != 0)
		return rc == 1 ? 0 : -1;
	rc = -1;
	if (tracking_experiment_get(r, info_str(json_object_get(res, "run"), "experiment_id"),
	    &exp) != 0 || (rc = artifact_run_root(r, id, &uri, &root)) != 0) {
		if (rc == 2)
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "run %s keeps its artifacts "
			    "outside verdict (%.300s)", id, uri);
		rc = rc == -1 ? -1 : 0;
		goto out;
	}
	rc = -1;
	if ((full = *root ? arena_printf(r->a, "%s/%s", root, rel) : rel) == NULL ||
	    (rc = artifact_size(r, full, &size)) != 0) {
		if (rc == 1)
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "run %s has no artifact "
			    "'%.300s'", id, rel);
		rc = rc == -1 ? -1 : 0;
		goto out;
	}
	chart_bytes(size, hsize, sizeof(hsize));
	slash = strrchr(rel, '/');
	ctx = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:s?, s:s?, s:o}", "title",
	    slash ? slash + 1 : rel, "name", slash ? slash + 1 : rel, "run_id", id, "run_name",
	    info_str(json_object_get(res, "run"), "run_name"), "experiment_name",
	    json_object_get(exp, "name"), "experiment_id", info_str(json_object_get(res,
	    "run"), "experiment_id"), "size", hsize, "download", path_url(r,
	    arena_printf(r->a, "/runs/%s/artifacts/", id), rel), "tree", tree_url(r, id,
	    slash ? arena_strndup(r->a, rel, (size_t)(slash - rel)) : ""), "crumbs",
	    tree_crumbs(r, id, rel, 1));
	if (ctx == NULL)
		goto out;
	if (size > PREVIEW_MAX) {
		json_object_set_new(ctx, "why", json_sprintf("It is %s; files up to 64 KiB are "
		    "shown here.", hsize));
	} else if ((rc = artifact_read(r, full, PREVIEW_MAX, &data, &len)) != 0) {
		/* Replaced or deleted since it was looked up: the page says so. */
		json_decref(ctx);
		if (rc != -1)
			resp_error(r, 409, "ABORTED", "artifact '%.300s' changed while it was read; "
			    "reload", rel);
		rc = rc == -1 ? -1 : 0;
		goto out;
	} else if (memchr(data, '\0', len) != NULL)
		json_object_set_new(ctx, "why", json_string("It is a binary file (it holds NUL "
		    "bytes)."));
	else if (!utf8_valid(data, len))
		json_object_set_new(ctx, "why", json_string("It is not UTF-8 text."));
	else
		json_object_set_new(ctx, "text", json_stringn(data, len));
	rc = resp_html(r, 200, "artifact", ctx);
out:
	json_decref(res);
	json_decref(exp);
	return rc;
}

/* POST /runs/{id}/register: the run's model as a new version; 303 to it. */
int
page_run_register(struct req *r)
{
	const char *id = req_path_param(r, "id"), *name = r->in[0].s, *url;
	char msg[400];
	int version = 0, rc;
	struct buf b;

	if ((rc = registry_add_version_from_run(r, name, id, r->in[1].s, r->in[2].present ?
	    r->in[2].s : NULL, &version)) != 0)
		return rc == 1 ? 0 : -1;
	buf_init(&b, 4096);
	url = buf_adds(&b, "/models/") == 0 && url_encode(&b, name, strlen(name)) == 0 &&
	    buf_printf(&b, "/versions/%d", version) == 0 ? arena_strdup(r->a, buf_str(&b)) :
	    NULL;
	buf_free(&b);
	snprintf(msg, sizeof(msg), "Registered %.255s version %d from run %.64s", name, version,
	    id);
	if (url == NULL || resp_flash(r, "ok", msg) == -1)
		return -1;
	return resp_redirect(r, url);
}

/* ---- /runs/{id}/metrics/{key} ---- */

/* Fields of the metric page, in routes.c's order. */
enum { M_KEY, M_X, M_SMOOTH, M_LOG, M_RUNS };

/* List items, each comma-separated, into ids (deduplicated, first); n in/out; 1 after a 400. */
static int
id_list(struct req *r, const struct value *v, const char **ids, size_t *n, size_t max,
    const char *field)
{
	for (size_t i = 0; v->present && i < v->nlist; i++)
		for (const char *p = v->list[i]; *p != '\0';) {
			size_t len = strcspn(p, ", "), k;
			const char *id = arena_strndup(r->a, p, len);

			p += len + (p[len] != '\0');
			if (id == NULL)
				return -1;
			if (*id == '\0')
				continue;
			for (k = 0; k < *n && strcmp(ids[k], id) != 0; k++)
				;
			if (k < *n)
				continue;
			if (*n == max) {
				resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field '%s': at most %zu "
				    "runs", field, max);
				return 1;
			}
			ids[(*n)++] = id;
		}
	return 0;
}

/* The runs of ids that exist, in order; a missing one is a 404 naming it. 0, 1 or -1. */
static int
runs_all(struct req *r, const char *const *ids, size_t n, json_t **out)
{
	int rc = tracking_runs_get(r, ids, n, out);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < json_array_size(*out) && strcmp(info_str(json_array_get(*out, k),
		    "run_id"), ids[i]) != 0; k++)
			;
		if (k == json_array_size(*out)) {
			json_decref(*out);
			*out = NULL;
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "Run with id=%s not found",
			    ids[i]);
			return 1;
		}
	}
	return 0;
}

/* What the series of a chart stand for: their finite points, the smallest and largest. */
struct series_stats {
	long long total;
	double lo, hi;
};

/*
 * One series per run of key's history, aggregated to a bucket per plot
 * pixel; x "step", "time" or "relative" (ms since the run's first point).
 * *st gets the number of points behind the chart and their extremes. 0, 1 or -1.
 */
static int
metric_series(struct req *r, json_t *runs, const char *key, const char *x, double smooth,
    struct chart_series *s, struct series_stats *st, const char *extra)
{
	memset(st, 0, sizeof(*st));
	for (size_t k = 0; k < json_array_size(runs); k++) {
		json_t *run = json_array_get(runs, k), *b;
		const char *rid = info_str(run, "run_id");
		size_t n;
		double x0 = 0, *xs, *ys, *lo, *hi;
		int rc = tracking_metric_buckets(r, rid, key, !strcmp(x, "step") ? "step" : "time",
		    CHART_PLOT_W, &b);

		if (rc != 0)
			return rc;
		n = json_array_size(b);
		xs = arena_alloc(r->a, sizeof(double) * (n + 1));
		ys = arena_alloc(r->a, sizeof(double) * (n + 1));
		lo = arena_alloc(r->a, sizeof(double) * (n + 1));
		hi = arena_alloc(r->a, sizeof(double) * (n + 1));
		if (xs == NULL || ys == NULL || lo == NULL || hi == NULL) {
			json_decref(b);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *p = json_array_get(b, i);
			double a0 = json_real_value(json_array_get(p, 0));

			if (i == 0 || a0 < x0)
				x0 = a0;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *p = json_array_get(b, i);

			xs[i] = (json_real_value(json_array_get(p, 0)) +
			    json_real_value(json_array_get(p, 1))) / 2;
			if (!strcmp(x, "relative"))
				xs[i] -= x0;
			lo[i] = json_real_value(json_array_get(p, 2));
			hi[i] = json_real_value(json_array_get(p, 3));
			ys[i] = json_real_value(json_array_get(p, 4));
			if (st->total == 0 || lo[i] < st->lo)
				st->lo = lo[i];
			if (st->total == 0 || hi[i] > st->hi)
				st->hi = hi[i];
			st->total += json_integer_value(json_array_get(p, 5));
		}
		json_decref(b);
		chart_ema(ys, n, smooth);
		s[k].label = info_str(run, "run_name");
		s[k].href = extra != NULL ? metric_url(r, rid, key, extra) : arena_printf(r->a,
		    "/runs/%s", rid);
		s[k].n = n;
		s[k].x = xs;
		s[k].y = ys;
		s[k].ylo = lo;
		s[k].yhi = hi;
	}
	return 0;
}

static enum chart_x
xkind(const char *x)
{
	return !strcmp(x, "time") ? CHART_X_EPOCH_MS : !strcmp(x, "relative") ?
	    CHART_X_DURATION_MS : CHART_X_NUMBER;
}

int
page_metric(struct req *r)
{
	const char *id = req_path_param(r, "id"), *key = req_path_param(r, "key");
	const char *x = r->in[M_X].present ? r->in[M_X].s : "step";
	double smooth = r->in[M_SMOOTH].present ? r->in[M_SMOOTH].d : 0;
	int logy = r->in[M_LOG].present && r->in[M_LOG].b, rc = -1;
	const char *ids[OVERLAY_MAX + 1];
	size_t n = 1;
	json_t *runs = NULL, *chart, *ctx, *keys, *others;
	struct chart_series s[OVERLAY_MAX + 1];
	struct series_stats st;
	struct buf runsq;
	const char *extra;

	if (*key == '\0')
		key = r->in[M_KEY].present ? r->in[M_KEY].s : "";
	if (*key == '\0') {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'key': the metric to chart "
		    "is missing");
		return 0;
	}
	ids[0] = id;
	if ((rc = id_list(r, &r->in[M_RUNS], ids, &n, OVERLAY_MAX, "runs")) != 0 ||
	    (rc = runs_all(r, ids, n, &runs)) != 0)
		return rc == 1 ? 0 : -1;
	memset(s, 0, sizeof(s));
	buf_init(&runsq, 8192);
	for (size_t i = 1; i < n; i++)
		if (buf_printf(&runsq, "%s%s", i > 1 ? "," : "", ids[i]) == -1)
			goto out;
	extra = arena_printf(r->a, "x=%s&smooth=%g%s%s%s", x, smooth, logy ? "&log=1" : "",
	    n > 1 ? "&runs=" : "", buf_str(&runsq));
	if ((rc = metric_series(r, runs, key, x, smooth, s, &st, NULL)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	rc = -1;
	if ((chart = chart_lines(r->a, s, n, xkind(x), logy)) == NULL)
		goto out;
	keys = json_array();
	{
		json_t *m = data_list(json_array_get(runs, 0), "metrics");

		for (size_t i = 0; i < json_array_size(m); i++) {
			const char *k = json_string_value(json_object_get(json_array_get(m, i), "key"));

			json_array_append_new(keys, json_pack("{s:s, s:s, s:b}", "key", k, "href",
			    metric_url(r, id, k, extra), "current", !strcmp(k, key)));
		}
	}
	others = json_array();
	for (size_t i = 1; i < n; i++)
		json_array_append_new(others, json_pack("{s:s}", "id", ids[i]));
	ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:s, s:b, s:b, "
	    "s:b, s:b, s:s, s:s, s:s}", "title", arena_printf(r->a, "%s · %s", key,
	    info_str(json_array_get(runs, 0), "run_name")), "key", key, "run_id", id,
	    "run_name", info_str(json_array_get(runs, 0), "run_name"), "experiment_id",
	    info_str(json_array_get(runs, 0), "experiment_id"), "action", metric_url(r, id, key,
	    NULL), "chart", chart, "keys", keys, "others", others, "total", (json_int_t)st.total,
	    "x", x, "x_step", !strcmp(x, "step"), "x_time", !strcmp(x, "time"), "x_relative",
	    !strcmp(x, "relative"), "log", logy, "smooth", arena_printf(r->a, "%g", smooth),
	    "runs", buf_str(&runsq), "csv", "");
	if (ctx == NULL)
		goto out;
	/* The CSV link carries the key percent-encoded. */
	{
		struct buf u;

		buf_init(&u, 8192);
		if (buf_printf(&u, "/runs/%s/metric.csv?key=", id) == 0 &&
		    url_encode(&u, key, strlen(key)) == 0)
			json_object_set_new(ctx, "csv", json_string(buf_str(&u)));
		buf_free(&u);
	}
	json_object_set_new(ctx, "chart_label", json_string(arena_printf(r->a, "%s by %s",
	    key, x)));
	/* The extremes as the page says them, and exactly (data-min, data-max) for checks. */
	if (st.total > 0)
		json_object_set_new(ctx, "range", json_pack("{s:s, s:s, s:s, s:s}", "lo",
		    chart_num(r->a, st.lo), "hi", chart_num(r->a, st.hi), "lo_exact",
		    chart_exact(r->a, st.lo), "hi_exact", chart_exact(r->a, st.hi)));
	rc = resp_html(r, 200, "metric", ctx);
out:
	buf_free(&runsq);
	json_decref(runs);
	return rc;
}

/* The raw history as CSV (step, timestamp, ISO time, value), in pages of the API's size. */
int
page_metric_csv(struct req *r)
{
	const char *id = req_path_param(r, "id"), *key = r->in[0].s, *token = NULL;
	struct buf out;
	char disp[160];
	int rc = -1;

	buf_init(&out, 512u << 20);
	if (buf_adds(&out, "step,timestamp,time,value\r\n") == -1)
		goto out;
	do {
		json_t *res, *pts;
		int src = tracking_metric_history(r, id, key, HISTORY_PAGE, token, &res);

		if (src != 0) {
			rc = src == 1 ? 0 : -1;
			goto out;
		}
		pts = json_object_get(res, "metrics");
		for (size_t i = 0; i < json_array_size(pts); i++) {
			json_t *p = json_array_get(pts, i), *v = json_object_get(p, "value");
			long long ts = json_integer_value(json_object_get(p, "timestamp"));
			int e = json_is_string(v) ? buf_printf(&out, "%lld,%lld,%s,%s\r\n",
			    (long long)json_integer_value(json_object_get(p, "step")), ts,
			    chart_iso_ms(r->a, ts), json_string_value(v)) :
			    buf_printf(&out, "%lld,%lld,%s,%s\r\n",
			    (long long)json_integer_value(json_object_get(p, "step")), ts,
			    chart_iso_ms(r->a, ts), chart_exact(r->a, json_number_value(v)));

			if (e == -1) {
				json_decref(res);
				goto out;
			}
		}
		token = json_string_value(json_object_get(res, "next_page_token"));
		token = token != NULL ? arena_strdup(r->a, token) : NULL;
		json_decref(res);
	} while (token != NULL);
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-metric.csv\"", id);
	if (resp_header(&r->resp, "Content-Disposition", disp) == -1 ||
	    resp_text(r, 200, "text/csv; charset=utf-8", buf_str(&out), out.len) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&out);
	return rc;
}

/* ---- /compare ---- */

/* Fields of /compare, in routes.c's order. */
enum { C_RUNS, C_METRIC, C_PARAM, C_DIFF, C_AXES };

/* Distinct keys of data.<list> over runs, first seen first; arena array. */
static const char **
union_keys(struct req *r, json_t *runs, const char *list, size_t *n)
{
	size_t cap = 0;
	const char **keys;

	for (size_t i = 0; i < json_array_size(runs); i++)
		cap += json_array_size(data_list(json_array_get(runs, i), list));
	if ((keys = arena_alloc(r->a, sizeof(char *) * (cap + 1))) == NULL)
		return NULL;
	*n = 0;
	for (size_t i = 0; i < json_array_size(runs); i++) {
		json_t *a = data_list(json_array_get(runs, i), list);

		for (size_t j = 0; j < json_array_size(a); j++) {
			const char *k = json_string_value(json_object_get(json_array_get(a, j), "key"));
			size_t m;

			for (m = 0; m < *n && strcmp(keys[m], k) != 0; m++)
				;
			if (m == *n)
				keys[(*n)++] = k;
		}
	}
	return keys;
}

/* The value of a run's key as text; NULL when it lacks it. */
static const char *
value_text(struct req *r, json_t *run, const char *list, const char *key)
{
	json_t *a = data_list(run, list);

	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i), *v = json_object_get(o, "value");

		if (strcmp(json_string_value(json_object_get(o, "key")), key) != 0)
			continue;
		return json_is_string(v) ? json_string_value(v) :
		    chart_exact(r->a, json_number_value(v));
	}
	return NULL;
}

/* Rows of a side-by-side table; *ndiff gets how many differ. */
static json_t *
compare_rows(struct req *r, json_t *runs, const char *list, int diff_only, size_t *ndiff,
    const char ***diffkeys)
{
	size_t nk, nr = json_array_size(runs);
	const char **keys = union_keys(r, runs, list, &nk);
	json_t *rows = json_array();

	*ndiff = 0;
	if (keys == NULL || (*diffkeys = arena_alloc(r->a, sizeof(char *) * (nk + 1))) == NULL)
		return rows;
	for (size_t k = 0; k < nk; k++) {
		json_t *cells = json_array();
		const char *first = NULL;
		int differs = 0;

		for (size_t i = 0; i < nr; i++) {
			const char *v = value_text(r, json_array_get(runs, i), list, keys[k]);

			if (i == 0)
				first = v;
			else if ((v == NULL) != (first == NULL) || (v != NULL && strcmp(v, first)))
				differs = 1;
			json_array_append_new(cells, json_pack("{s:s?}", "v", v == NULL ? NULL :
			    !strcmp(list, "metrics") ? chart_num(r->a, strtod(v, NULL)) : v));
		}
		if (differs)
			(*diffkeys)[(*ndiff)++] = keys[k];
		if (diff_only && !differs) {
			json_decref(cells);
			continue;
		}
		json_array_append_new(rows, json_pack("{s:s, s:b, s:o}", "key", keys[k], "differs",
		    differs, "cells", cells));
	}
	return rows;
}

int
page_compare(struct req *r)
{
	const char *ids[COMPARE_MAX + 1], *metric, *param;
	size_t n = 0, nmk, npk, ndp, ndm;
	int diff = r->in[C_DIFF].present && r->in[C_DIFF].b, rc;
	json_t *runs = NULL, *ctx = NULL, *heads, *pick_m, *pick_p;
	const char **mkeys, **pkeys, **dparams, **dmetrics;
	struct chart_series s[OVERLAY_MAX + 1];
	struct series_stats st;
	struct buf runsq;

	if ((rc = id_list(r, &r->in[C_RUNS], ids, &n, COMPARE_MAX, "runs")) != 0)
		return rc == 1 ? 0 : -1;
	if (n < 2) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'runs': choose at least two "
		    "runs to compare (tick them in an experiment's runs table)");
		return 0;
	}
	if ((rc = runs_all(r, ids, n, &runs)) != 0)
		return rc == 1 ? 0 : -1;
	rc = -1;
	buf_init(&runsq, 8192);
	for (size_t i = 0; i < n; i++)
		if (buf_printf(&runsq, "%s%s", i ? "," : "", ids[i]) == -1)
			goto out;
	mkeys = union_keys(r, runs, "metrics", &nmk);
	pkeys = union_keys(r, runs, "params", &npk);
	if (mkeys == NULL || pkeys == NULL)
		goto out;
	metric = r->in[C_METRIC].present ? r->in[C_METRIC].s : nmk > 0 ? mkeys[0] : NULL;
	heads = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(heads, json_pack("{s:s, s:s}", "id", ids[i], "name",
		    info_str(json_array_get(runs, i), "run_name")));
	ctx = json_pack("{s:s, s:o, s:s, s:b, s:s?, s:s, s:s}", "title", "Compare runs",
	    "heads", heads, "runs", buf_str(&runsq), "diff", diff, "metric", metric,
	    "experiment_id", info_str(json_array_get(runs, 0), "experiment_id"), "n",
	    arena_printf(r->a, "%zu", n));
	if (ctx == NULL)
		goto out;
	json_object_set_new(ctx, "params", compare_rows(r, runs, "params", diff, &ndp, &dparams));
	json_object_set_new(ctx, "metrics", compare_rows(r, runs, "metrics", diff, &ndm,
	    &dmetrics));
	param = r->in[C_PARAM].present ? r->in[C_PARAM].s : ndp > 0 ? dparams[0] : npk > 0 ?
	    pkeys[0] : NULL;
	if (param != NULL)
		json_object_set_new(ctx, "param", json_string(param));
	pick_m = json_array();
	for (size_t i = 0; i < nmk; i++)
		json_array_append_new(pick_m, json_pack("{s:s, s:b}", "key", mkeys[i], "selected",
		    metric != NULL && !strcmp(metric, mkeys[i])));
	pick_p = json_array();
	for (size_t i = 0; i < npk; i++)
		json_array_append_new(pick_p, json_pack("{s:s, s:b}", "key", pkeys[i], "selected",
		    param != NULL && !strcmp(param, pkeys[i])));
	json_object_set_new(ctx, "metric_keys", pick_m);
	json_object_set_new(ctx, "param_keys", pick_p);
	if (metric != NULL) {
		/* The overlay: the first OVERLAY_MAX runs. */
		json_t *first = json_array(), *chart;

		for (size_t i = 0; i < n && i < OVERLAY_MAX; i++)
			json_array_append(first, json_array_get(runs, i));
		memset(s, 0, sizeof(s));
		rc = metric_series(r, first, metric, "step", 0, s, &st, NULL);
		json_decref(first);
		if (rc != 0) {
			rc = rc == 1 ? 0 : -1;
			goto out;
		}
		rc = -1;
		if ((chart = chart_lines(r->a, s, n < OVERLAY_MAX ? n : OVERLAY_MAX,
		    CHART_X_NUMBER, 0)) == NULL)
			goto out;
		json_object_set_new(ctx, "chart", chart);
		json_object_set_new(ctx, "chart_label", json_string(arena_printf(r->a, "%s by step",
		    metric)));
	}
	{
		const char **labels = arena_alloc(r->a, sizeof(char *) * (n + 1)),
		    **hrefs = arena_alloc(r->a, sizeof(char *) * (n + 1)),
		    **xv = arena_alloc(r->a, sizeof(char *) * (n + 1)),
		    **yv = arena_alloc(r->a, sizeof(char *) * (n + 1));
		struct chart_axis_in axes[PC_AXES_MAX];
		size_t na = 0;

		if (labels == NULL || hrefs == NULL || xv == NULL || yv == NULL)
			goto out;
		for (size_t i = 0; i < n; i++) {
			json_t *run = json_array_get(runs, i);

			labels[i] = info_str(run, "run_name");
			hrefs[i] = arena_printf(r->a, "/runs/%s", ids[i]);
			xv[i] = param != NULL ? value_text(r, run, "params", param) : NULL;
			yv[i] = metric != NULL ? value_text(r, run, "metrics", metric) : NULL;
		}
		if (param != NULL && metric != NULL) {
			struct chart_axis_in xa = { param, xv }, ya = { metric, yv };

			json_object_set_new(ctx, "scatter", chart_scatter(r->a, &xa, &ya, labels,
			    hrefs, n));
		}
		/* Parallel coordinates: the chosen axes, else the params that differ and the metric. */
		if (r->in[C_AXES].present) {
			for (size_t i = 0; i < r->in[C_AXES].nlist; i++)
				for (const char *p = r->in[C_AXES].list[i]; *p != '\0' && na < PC_AXES_MAX;) {
					size_t len = strcspn(p, ",");
					const char *item = arena_strndup(r->a, p, len), *list = NULL;

					p += len + (p[len] == ',');
					if (item == NULL)
						goto out;
					if (!strncmp(item, "params.", 7))
						list = "params";
					else if (!strncmp(item, "metrics.", 8))
						list = "metrics";
					if (list == NULL) {
						resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'axes': "
						    "'%.100s' is not params.<key> or metrics.<key>", item);
						rc = 0;
						goto out;
					}
					const char **vals = arena_alloc(r->a, sizeof(char *) * (n + 1));

					if (vals == NULL)
						goto out;
					for (size_t k = 0; k < n; k++)
						vals[k] = value_text(r, json_array_get(runs, k), list,
						    strchr(item, '.') + 1);
					axes[na].label = item;
					axes[na++].vals = vals;
				}
		} else {
			for (size_t i = 0; i < ndp && na < PC_AXES_MAX - 1; i++) {
				const char **vals = arena_alloc(r->a, sizeof(char *) * (n + 1));

				if (vals == NULL)
					goto out;
				for (size_t k = 0; k < n; k++)
					vals[k] = value_text(r, json_array_get(runs, k), "params", dparams[i]);
				axes[na].label = arena_printf(r->a, "params.%s", dparams[i]);
				axes[na++].vals = vals;
			}
			if (metric != NULL) {
				axes[na].label = arena_printf(r->a, "metrics.%s", metric);
				axes[na++].vals = yv;
			}
		}
		if (na >= 2)
			json_object_set_new(ctx, "parallel", chart_parallel(r->a, axes, na, labels, n));
	}
	rc = resp_html(r, 200, "compare", ctx);
	ctx = NULL;
out:
	buf_free(&runsq);
	json_decref(ctx);
	json_decref(runs);
	return rc;
}
