/* page-drift.c: the data-drift page of a model — the latest reports with reference-vs-current histograms, the trend, and the forms that run a check or upload a reference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "drift.h"
#include "handlers.h"

/* Histogram geometry (SVG user units). */
#define HIST_W 320
#define HIST_H 110
#define HIST_PLOT 90            /* bar area height; labels below */
#define HIST_PAD 4
/* Trend geometry. */
#define TREND_W 640
#define TREND_H 160
#define TREND_PAD 24

/* "/models/<name><suffix>", the name percent-encoded; arena memory, NULL when full. */
static const char *
drift_url(struct req *r, const char *name, const char *suffix)
{
	struct buf b;
	const char *s = NULL;

	buf_init(&b, 4096);
	if (buf_adds(&b, "/models/") == 0 && url_encode(&b, name, strlen(name)) == 0 &&
	    buf_adds(&b, suffix) == 0)
		s = arena_strdup(r->a, buf_str(&b));
	buf_free(&b);
	return s;
}

static const char *
num(struct req *r, double d, const char *fmt)
{
	if (!isfinite(d))
		return "—";
	return arena_printf(r->a, fmt, d);
}

/*
 * Bars of one feature's histogram: reference and current side by side per
 * bin, heights scaled to the largest share. Only numbers are generated
 * here; the bin labels go through the template, which escapes them.
 */
static json_t *
hist_svg(struct req *r, json_t *h)
{
	json_t *ref = json_object_get(h, "reference"), *cur = json_object_get(h, "current");
	json_t *labels = json_object_get(h, "labels"), *edges = json_object_get(h, "edges");
	json_t *bars = json_array();
	size_t k = json_array_size(ref);
	double max = 0, slot;

	if (k == 0 || k != json_array_size(cur)) {
		json_decref(bars);
		return NULL;
	}
	for (size_t i = 0; i < k; i++) {
		double a = json_number_value(json_array_get(ref, i));
		double b = json_number_value(json_array_get(cur, i));

		if (a > max)
			max = a;
		if (b > max)
			max = b;
	}
	slot = (double)(HIST_W - 2 * HIST_PAD) / (double)k;
	for (size_t i = 0; i < k; i++) {
		double a = json_number_value(json_array_get(ref, i));
		double b = json_number_value(json_array_get(cur, i));
		double ha = max > 0 ? a / max * HIST_PLOT : 0, hb = max > 0 ? b / max * HIST_PLOT : 0;
		double x = HIST_PAD + slot * (double)i, w = slot * 0.42;
		const char *label;

		if (labels != NULL)
			label = json_string_value(json_array_get(labels, i));
		else
			label = arena_printf(r->a, "%.4g … %.4g", json_number_value(
			    json_array_get(edges, i)), json_number_value(json_array_get(edges, i + 1)));
		json_array_append_new(bars, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
		    "s:s}", "label", label != NULL ? label : "", "ref_pct", num(r, a * 100, "%.1f%%"),
		    "cur_pct", num(r, b * 100, "%.1f%%"),
		    "xr", arena_printf(r->a, "%.1f", x + slot * 0.06),
		    "xc", arena_printf(r->a, "%.1f", x + slot * 0.52),
		    "w", arena_printf(r->a, "%.1f", w),
		    "yr", arena_printf(r->a, "%.1f", HIST_PAD + HIST_PLOT - ha),
		    "yc", arena_printf(r->a, "%.1f", HIST_PAD + HIST_PLOT - hb),
		    "hr", arena_printf(r->a, "%.1f", ha)));
		json_object_set_new(json_array_get(bars, i), "hc", json_string(arena_printf(r->a,
		    "%.1f", hb)));
	}
	return json_pack("{s:o, s:i, s:i, s:i, s:s, s:s}", "bars", bars, "width", HIST_W,
	    "height", HIST_H, "axis_y", HIST_PAD + HIST_PLOT, "low", edges != NULL ?
	    num(r, json_number_value(json_array_get(edges, 0)), "%.4g") : "",
	    "high", edges != NULL ? num(r, json_number_value(json_array_get(edges, k)),
	    "%.4g") : "");
}

/* One row of the features table (and its histogram). */
static json_t *
feature_row(struct req *r, json_t *f)
{
	const char *test = json_string_value(json_object_get(f, "test"));
	json_t *h = json_object_get(f, "histogram"), *o;
	double p = json_number_value(json_object_get(f, "p_value"));
	int has_p = json_is_number(json_object_get(f, "p_value"));

	o = json_pack("{s:O, s:O, s:s, s:s, s:s, s:s, s:b, s:b, s:O, s:O}",
	    "name", json_object_get(f, "name"), "kind", json_object_get(f, "kind"),
	    "test", test != NULL ? test : "—",
	    "statistic", num(r, json_number_value(json_object_get(f, "statistic")), "%.4g"),
	    "p_value", has_p ? (p < 1e-4 ? num(r, p, "%.2e") : num(r, p, "%.4f")) : "—",
	    "psi", num(r, json_number_value(json_object_get(f, "psi")), "%.4f"),
	    "drifted", json_is_true(json_object_get(f, "drifted")),
	    "psi_drifted", json_is_true(json_object_get(f, "psi_drifted")),
	    "reference_n", json_object_get(f, "reference_n"),
	    "current_n", json_object_get(f, "current_n"));
	if (o == NULL)
		return NULL;
	if (json_object_get(f, "note") != NULL)
		json_object_set(o, "note", json_object_get(f, "note"));
	if (h != NULL)
		json_object_set_new(o, "chart", hist_svg(r, h));
	return o;
}

static json_t *
report_ctx(struct req *r, json_t *rep)
{
	json_t *feats = json_array(), *f, *o, *pred = json_object_get(rep, "prediction");
	size_t i;

	json_array_foreach(json_object_get(rep, "features"), i, f)
		json_array_append_new(feats, feature_row(r, f));
	o = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:s, s:O, s:o}",
	    "report_id", json_object_get(rep, "report_id"),
	    "version", json_object_get(rep, "version"),
	    "created_at", json_object_get(rep, "created_at"),
	    "window", json_object_get(rep, "window"),
	    "reference_rows", json_object_get(rep, "reference_rows"),
	    "current_rows", json_object_get(rep, "current_rows"),
	    "n_features", json_object_get(rep, "n_features"),
	    "n_drifted", json_object_get(rep, "n_drifted"),
	    "share_pct", num(r, json_number_value(json_object_get(rep, "share")) * 100, "%.0f%%"),
	    "dataset_drift", json_object_get(rep, "dataset_drift"),
	    "features", feats);
	if (o != NULL && json_is_object(pred))
		json_object_set_new(o, "prediction", feature_row(r, pred));
	return o;
}

/* The share of drifted inputs per report, oldest to newest, as a polyline. */
static json_t *
trend_ctx(struct req *r, json_t *history)
{
	size_t n = json_array_size(history);
	double pw = TREND_W - 2 * TREND_PAD, ph = TREND_H - 2 * TREND_PAD;
	struct buf pts;
	json_t *dots = json_array(), *o;

	if (n < 2) {
		json_decref(dots);
		return NULL;
	}
	buf_init(&pts, 64 * 1024);
	for (size_t k = 0; k < n; k++) {
		json_t *h = json_array_get(history, n - 1 - k);     /* newest first in history */
		double s = json_number_value(json_object_get(h, "share"));
		double x = TREND_PAD + pw * (double)k / (double)(n - 1), y = TREND_PAD + ph * (1 - s);

		if (buf_printf(&pts, "%s%.1f,%.1f", k ? " " : "", x, y) == -1)
			break;
		json_array_append_new(dots, json_pack("{s:s, s:s, s:b, s:O, s:O, s:s}",
		    "x", arena_printf(r->a, "%.1f", x), "y", arena_printf(r->a, "%.1f", y),
		    "drift", json_is_true(json_object_get(h, "dataset_drift")),
		    "created_at", json_object_get(h, "created_at"),
		    "version", json_object_get(h, "version"),
		    "share_pct", num(r, s * 100, "%.0f%%")));
	}
	o = json_pack("{s:s, s:o, s:i, s:i, s:s, s:s, s:s, s:i, s:i}", "points",
	    arena_strdup(r->a, buf_str(&pts)), "dots", dots, "width", TREND_W, "height",
	    TREND_H, "half_y", arena_printf(r->a, "%.1f", TREND_PAD + ph * 0.5), "top_y",
	    arena_printf(r->a, "%d", TREND_PAD), "bottom_y", arena_printf(r->a, "%.1f",
	    TREND_PAD + ph), "left", TREND_PAD, "right", TREND_W - TREND_PAD);
	buf_free(&pts);
	return o;
}

int
page_drift(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const char *vals[1] = { name };
	json_t *d, *ctx, *reports, *rep, *versions;
	PGresult *res;
	size_t i;
	int rc = drift_get(r, name, &d);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if ((res = db_exec(r->db, STMT_MODEL_VERSIONS, 1, vals)) == NULL) {
		json_decref(d);
		return -1;
	}
	versions = json_array();
	for (int k = 0; k < PQntuples(res); k++)
		json_array_append_new(versions, json_pack("{s:i, s:s}", "version",
		    atoi(PQgetvalue(res, k, 0)), "stage", PQgetvalue(res, k, 1)));
	PQclear(res);
	reports = json_array();
	json_array_foreach(json_object_get(d, "reports"), i, rep)
		json_array_append_new(reports, report_ctx(r, rep));
	ctx = json_pack("{s:s, s:s, s:s, s:o, s:O, s:o, s:b}", "title", arena_printf(r->a,
	    "Drift · %s", name), "name", name, "action", drift_url(r, name, "/drift"),
	    "reports", reports, "references", json_object_get(d, "references"), "versions",
	    versions, "has_references", json_array_size(json_object_get(d, "references")) > 0);
	json_object_set_new(ctx, "upload_action", json_string(drift_url(r, name,
	    "/drift/reference")));
	json_object_set_new(ctx, "model_url", json_string(drift_url(r, name, "")));
	json_object_set_new(ctx, "trend", trend_ctx(r, json_object_get(d, "history")));
	json_decref(d);
	return resp_html(r, 200, "drift", ctx);
}

/* POST /models/{name}/drift: run now, then back to the page with the outcome. */
int
page_drift_run(struct req *r)
{
	const char *name = req_path_param(r, "name"), *url;
	json_t *out, *rep;
	size_t i, drifted = 0, n;
	char msg[256];
	int rc = drift_run(r, name, r->in[1].present ? (int)r->in[1].i : 0,
	    r->in[0].present && r->in[0].s[0] != '\0' ? r->in[0].s : "7d", &out);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	n = json_array_size(json_object_get(out, "reports"));
	json_array_foreach(json_object_get(out, "reports"), i, rep)
		drifted += json_is_true(json_object_get(rep, "dataset_drift"));
	if (n == 0)
		snprintf(msg, sizeof(msg), "No report: no version with a reference had "
		    "predictions in the last %s", json_string_value(json_object_get(out, "window")));
	else
		snprintf(msg, sizeof(msg), "Drift check done: %zu report%s, %zu with dataset drift",
		    n, n == 1 ? "" : "s", drifted);
	json_decref(out);
	if ((url = drift_url(r, name, "/drift")) == NULL || resp_flash(r, drifted ? "error" :
	    "ok", msg) == -1)
		return -1;
	return resp_redirect(r, url);
}

/* POST /models/{name}/drift/reference: a file, CSV with a header or a JSON list. */
int
page_drift_reference(struct req *r)
{
	const char *name = req_path_param(r, "name"), *url, *s = r->in[1].s;
	size_t len = r->in[1].len, k = 0;
	json_t *out, *list;
	json_error_t je;
	char msg[128];
	int rc;

	while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r' || s[k] == '\n'))
		k++;
	if (k < len && s[k] == '[') {
		if ((list = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "the file is not valid JSON: "
			    "%s (line %d)", je.text, je.line);
			return 0;
		}
		rc = drift_reference_json(r, name, (int)r->in[0].i, list, &out);
		json_decref(list);
	} else
		rc = drift_reference_csv(r, name, (int)r->in[0].i, s, len, &out);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(msg, sizeof(msg), "Reference for version %lld stored: %lld rows", r->in[0].i,
	    (long long)json_integer_value(json_object_get(out, "rows")));
	json_decref(out);
	if ((url = drift_url(r, name, "/drift")) == NULL || resp_flash(r, "ok", msg) == -1)
		return -1;
	return resp_redirect(r, url);
}
