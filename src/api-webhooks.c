/* api-webhooks.c: the admin JSON API for webhooks — subscribe, list, remove, and the delivery log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "handlers.h"
#include "webhook.h"

static const char *const quality_metrics[] = { "mae", "rmse", "bias", "accuracy",
	"log_loss", NULL };

static int
known(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

/* events: a JSON list of kinds (or "*") → a Postgres array literal; NULL after answering 400. */
static const char *
kinds_array(struct req *r, json_t *events)
{
	struct buf b;
	const char *out = NULL;
	size_t i;
	json_t *e;

	if (!json_is_array(events) || json_array_size(events) == 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "events must be a non-empty list of "
		    "event kinds: model.stage, drift.detected, retrain.result, quality.below, or \"*\"");
		return NULL;
	}
	buf_init(&b, 4096);
	if (buf_addc(&b, '{') == -1)
		goto out;
	json_array_foreach(events, i, e) {
		const char *k = json_string_value(e);

		if (k == NULL || (strcmp(k, "*") != 0 && !known(webhook_kinds, k))) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "events[%zu]: unknown event kind; "
			    "expected model.stage, drift.detected, retrain.result, quality.below or \"*\"",
			    i);
			goto out;
		}
		if (buf_printf(&b, "%s\"%s\"", i ? "," : "", k) == -1)
			goto out;
	}
	if (buf_addc(&b, '}') == 0)
		out = arena_strdup(r->a, buf_str(&b));
out:
	buf_free(&b);
	return out;
}

int
api_webhooks_create(struct req *r)
{
	const struct value *url = &r->in[0], *events = &r->in[1], *model = &r->in[2];
	const struct value *secret = &r->in[3], *qm = &r->in[4], *qt = &r->in[5], *qw = &r->in[6];
	char gen[65], thr[32], uid[24];
	const char *vals[8], *kinds;
	PGresult *res;
	json_t *out;

	if (strncmp(url->s, "http://", 7) != 0 && strncmp(url->s, "https://", 8) != 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "url must start with http:// or "
		    "https://");
		return 0;
	}
	if ((kinds = kinds_array(r, events->json)) == NULL)
		return 0;
	if (qm->present != qt->present) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "quality_metric and quality_threshold "
		    "go together");
		return 0;
	}
	if (qm->present && !known(quality_metrics, qm->s)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "quality_metric must be one of mae, "
		    "rmse, bias, accuracy, log_loss");
		return 0;
	}
	if (qm->present && !model->present) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "a quality alert needs a model");
		return 0;
	}
	if (model->present) {
		const char *mv[1] = { model->s };
		int n;

		if ((res = db_exec(r->db, STMT_MODEL_EXISTS, 1, mv)) == NULL)
			return -1;
		n = PQntuples(res);
		PQclear(res);
		if (n == 0) {
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist",
			    model->s);
			return 0;
		}
	}
	if (!secret->present) {
		unsigned char raw[24];

		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(gen, sizeof(gen), raw, sizeof(raw));
	}
	snprintf(thr, sizeof(thr), "%.17g", qt->present ? qt->d : 0);
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	vals[0] = url->s;
	vals[1] = secret->present ? secret->s : gen;
	vals[2] = kinds;
	vals[3] = model->present ? model->s : "";
	vals[4] = qm->present ? qm->s : "";
	vals[5] = qt->present ? thr : NULL;
	vals[6] = qw->present ? qw->s : "24h";
	vals[7] = uid;
	if ((res = db_exec(r->db, STMT_WEBHOOK_INSERT, 8, vals)) == NULL)
		return -1;
	/* The secret is shown once, here; the list never shows it. */
	out = json_pack("{s:I, s:s, s:s, s:O}", "id", (json_int_t)atoll(PQgetvalue(res, 0, 0)),
	    "url", url->s, "secret", vals[1], "events", events->json);
	PQclear(res);
	if (out == NULL)
		return -1;
	return resp_json(r, 201, out);
}

int
api_webhooks_list(struct req *r)
{
	PGresult *res = db_exec(r->db, STMT_WEBHOOK_LIST, 0, NULL);
	json_t *list;

	if (res == NULL)
		return -1;
	list = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:b, s:s, s:I, s:I}",
		    "id", (json_int_t)atoll(PQgetvalue(res, i, 0)), "url", PQgetvalue(res, i, 1),
		    "events", json_loads(PQgetvalue(res, i, 2), 0, NULL),
		    "model", PQgetvalue(res, i, 3)[0] ? json_string(PQgetvalue(res, i, 3)) :
		    json_null(), "enabled", !strcmp(PQgetvalue(res, i, 8), "t"),
		    "created_at", PQgetvalue(res, i, 9),
		    "pending", (json_int_t)atoll(PQgetvalue(res, i, 10)),
		    "failed", (json_int_t)atoll(PQgetvalue(res, i, 11)));

		if (o != NULL && PQgetvalue(res, i, 4)[0] != '\0')
			json_object_set_new(o, "quality", json_pack("{s:s, s:f, s:s, s:b}", "metric",
			    PQgetvalue(res, i, 4), "threshold", strtod(PQgetvalue(res, i, 5), NULL),
			    "window", PQgetvalue(res, i, 6), "breached",
			    !strcmp(PQgetvalue(res, i, 7), "t")));
		json_array_append_new(list, o);
	}
	PQclear(res);
	return resp_json(r, 200, json_pack("{s:o}", "webhooks", list));
}

/* The {id} of the path: 1..18 digits, else NULL after answering 404. */
static const char *
webhook_id(struct req *r)
{
	const char *s = req_path_param(r, "id");
	size_t n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no such webhook");
		return NULL;
	}
	return s;
}

int
api_webhooks_delete(struct req *r)
{
	const char *vals[1] = { webhook_id(r) };
	PGresult *res;
	int n;

	if (vals[0] == NULL)
		return 0;
	if ((res = db_exec(r->db, STMT_WEBHOOK_DELETE, 1, vals)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no webhook %s", vals[0]);
		return 0;
	}
	r->resp.status = 204;
	return 0;
}

int
api_webhook_deliveries(struct req *r)
{
	const char *vals[1] = { webhook_id(r) };
	PGresult *res;
	json_t *list;

	if (vals[0] == NULL)
		return 0;
	if ((res = db_exec(r->db, STMT_WEBHOOK_DELIVERIES, 1, vals)) == NULL)
		return -1;
	list = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(list, json_pack("{s:I, s:I, s:s, s:s, s:i, s:o, s:s, s:s, "
		    "s:o, s:s}", "id", (json_int_t)atoll(PQgetvalue(res, i, 0)),
		    "event_id", (json_int_t)atoll(PQgetvalue(res, i, 1)),
		    "event", PQgetvalue(res, i, 2), "status", PQgetvalue(res, i, 3),
		    "attempts", atoi(PQgetvalue(res, i, 4)),
		    "last_code", PQgetisnull(res, i, 5) ? json_null() :
		    json_integer(atoi(PQgetvalue(res, i, 5))),
		    "last_error", PQgetvalue(res, i, 6), "created_at", PQgetvalue(res, i, 7),
		    "finished_at", PQgetvalue(res, i, 8)[0] ? json_string(PQgetvalue(res, i, 8)) :
		    json_null(), "body", PQgetvalue(res, i, 9)));
	PQclear(res);
	return resp_json(r, 200, json_pack("{s:o}", "deliveries", list));
}
