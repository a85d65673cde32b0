/* page-home.c: the start page — a landing page for visitors, a dashboard for users: predictions per model over 24 h, latency, live quality of the serving versions, recent events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "metrics.h"

#define DASH_MODELS 50          /* models shown */
#define SPARK_W 240             /* 24 hourly bars */
#define SPARK_H 40

/* The 24 hourly bars of one model as SVG geometry (numbers only; the template escapes). */
static json_t *
spark(const long long *n)
{
	json_t *bars = json_array();
	long long max = 1;

	for (int h = 0; h < 24; h++)
		if (n[h] > max)
			max = n[h];
	for (int h = 0; h < 24; h++) {
		/* index 0 is the current hour: draw oldest first, left to right */
		long long v = n[23 - h];
		int hgt = v > 0 ? (int)ceil((double)v * (SPARK_H - 2) / (double)max) : 0;

		json_array_append_new(bars, json_pack("{s:i, s:i, s:i, s:I, s:i}", "x", h * 10,
		    "y", SPARK_H - hgt, "h", hgt, "n", (json_int_t)v, "ago", 23 - h));
	}
	return bars;
}

static json_t *
fmt(double v, const char *f)
{
	char b[32];

	if (isnan(v) || isinf(v))
		return json_string("–");
	snprintf(b, sizeof(b), f, v);
	return json_string(b);
}

static int
dashboard(struct req *r)
{
	PGresult *models = NULL, *hourly = NULL, *quality = NULL, *ids = NULL, *events = NULL;
	PGresult *drift = NULL;
	json_t *ctx = NULL, *list, *ev;
	int rc = -1;

	if ((models = db_exec(r->db, STMT_MODEL_LIST_PAGE, 0, NULL)) == NULL ||
	    (hourly = db_exec(r->db, STMT_DASH_HOURLY, 0, NULL)) == NULL ||
	    (quality = db_exec(r->db, STMT_DASH_QUALITY, 0, NULL)) == NULL ||
	    (ids = db_exec(r->db, STMT_DASH_VERSION_IDS, 0, NULL)) == NULL ||
	    (events = db_exec(r->db, STMT_DASH_EVENTS, 0, NULL)) == NULL ||
	    (drift = db_exec(r->db, STMT_DASH_DRIFT, 0, NULL)) == NULL)
		goto out;
	list = json_array();
	for (int i = 0; i < PQntuples(models) && i < DASH_MODELS; i++) {
		const char *name = PQgetvalue(models, i, 0);
		long long n24[24] = { 0 }, vids[256];
		size_t nv = 0;
		double p50 = 0, p99 = 0;
		unsigned long long seen;
		json_t *m;

		for (int j = 0; j < PQntuples(hourly); j++) {
			int ago = atoi(PQgetvalue(hourly, j, 1));

			if (!strcmp(PQgetvalue(hourly, j, 0), name) && ago >= 0 && ago < 24)
				n24[ago] += atoll(PQgetvalue(hourly, j, 2));
		}
		for (int j = 0; j < PQntuples(ids) && nv < 256; j++)
			if (!strcmp(PQgetvalue(ids, j, 0), name))
				vids[nv++] = atoll(PQgetvalue(ids, j, 1));
		seen = metrics_latency(vids, nv, &p50, &p99);
		m = json_pack("{s:s, s:s, s:o, s:s, s:o}", "name", name,
		    "predictions_24h", PQgetvalue(models, i, 5), "bars", spark(n24),
		    "serving", PQgetvalue(models, i, 3),
		    "latency", seen ? json_pack("{s:o, s:o, s:I}", "p50", fmt(p50, "%.1f"),
		    "p99", fmt(p99, "%.1f"), "n", (json_int_t)seen) : json_null());
		/* Live quality (7 days) of the serving version. */
		for (int j = 0; j < PQntuples(quality); j++) {
			double pred, ver;
			const char *task;

			if (strcmp(PQgetvalue(quality, j, 0), name) != 0 ||
			    strcmp(PQgetvalue(quality, j, 1), PQgetvalue(models, i, 3)) != 0)
				continue;
			task = PQgetvalue(quality, j, 3);
			pred = strtod(PQgetvalue(quality, j, 4), NULL);
			ver = strtod(PQgetvalue(quality, j, 5), NULL);
			json_object_set_new(m, "quality", json_pack("{s:s, s:o, s:s, s:o, s:o}",
			    "metric", !strcmp(task, "regression") ? "MAE" : "accuracy",
			    "value", ver > 0 ? fmt(strtod(PQgetvalue(quality, j,
			    !strcmp(task, "regression") ? 6 : 8), NULL) / ver, "%.4g") :
			    json_string("–"), "verified", PQgetvalue(quality, j, 5),
			    "coverage", pred > 0 ? fmt(100 * ver / pred, "%.1f%%") : json_string("–"),
			    "has", json_boolean(ver > 0)));
		}
		/* The newest drift report of the model. */
		for (int j = 0; j < PQntuples(drift); j++)
			if (!strcmp(PQgetvalue(drift, j, 0), name))
				json_object_set_new(m, "drift", json_pack("{s:b, s:o, s:s}",
				    "detected", !strcmp(PQgetvalue(drift, j, 1), "t"), "share",
				    fmt(100 * strtod(PQgetvalue(drift, j, 2), NULL), "%.0f%%"), "at",
				    PQgetvalue(drift, j, 3)));
		json_array_append_new(list, m);
	}
	ev = json_array();
	for (int i = 0; i < PQntuples(events); i++)
		json_array_append_new(ev, json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind",
		    PQgetvalue(events, i, 0), "model", PQgetvalue(events, i, 1), "at",
		    PQgetvalue(events, i, 2), "actor", PQgetvalue(events, i, 3), "detail",
		    PQgetvalue(events, i, 4)));
	ctx = json_pack("{s:s, s:o, s:o, s:i, s:i}", "title", "Dashboard", "models", list,
	    "events", ev, "spark_w", SPARK_W, "spark_h", SPARK_H);
	rc = ctx != NULL ? resp_html(r, 200, "dashboard", ctx) : -1;
out:
	PQclear(models);
	PQclear(hourly);
	PQclear(quality);
	PQclear(ids);
	PQclear(events);
	PQclear(drift);
	return rc;
}

int
page_home(struct req *r)
{
	if (r->user.id == 0 || r->db == NULL)
		return resp_html(r, 200, "home", json_pack("{s:s}", "title", "verdict"));
	return dashboard(r);
}
