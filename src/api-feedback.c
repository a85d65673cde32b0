/* api-feedback.c: JSON endpoints for ground truth — single and bulk feedback, the prediction log, live quality, and the FastAPI-style /verify_random_prediction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "handlers.h"

/* A prediction id from the URL: 1..18 digits; 0 when malformed. */
long long
feedback_path_id(struct req *r)
{
	const char *s = req_path_param(r, "id");
	size_t n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return 0;
	return atoll(s);
}

/* ?atomic=true on a bulk POST (the body is the list, so the flag rides in the query). */
static int
atomic_flag(struct req *r, int *atomic)
{
	const struct param *p = params_get(&r->query_params, "atomic");

	*atomic = 0;
	if (p == NULL || !strcmp(p->value, "false") || !strcmp(p->value, "0"))
		return 0;
	if (!strcmp(p->value, "true") || !strcmp(p->value, "1")) {
		*atomic = 1;
		return 0;
	}
	resp_error(r, 400, "INVALID_PARAMETER_VALUE", "atomic must be true or false");
	return -1;
}

/* Answers one truth for one prediction with the row's own status. */
static int
submit_one(struct req *r, long long id, json_t *truth, const char *source,
    json_t **out)
{
	struct fb_item it = { id, truth, 0 };
	struct fb_result res;
	size_t ok;
	int rc;

	*out = NULL;
	memset(&res, 0, sizeof(res));
	if ((rc = feedback_submit(r, &it, 1, source, 0, &res, &ok)) != 0)
		return rc;
	if (res.status != 0) {
		resp_error(r, res.status, res.status == 404 ? "RESOURCE_DOES_NOT_EXIST" :
		    res.status == 409 ? "CONFLICT" : "INVALID_PARAMETER_VALUE", "%s", res.error);
		return 1;
	}
	*out = json_pack("{s:I, s:O, s:b}", "prediction_id", (json_int_t)id, "true_value",
	    truth, "replaced", res.replaced);
	return *out != NULL ? 0 : -1;
}

int
api_prediction_feedback(struct req *r)
{
	long long id = feedback_path_id(r);
	json_t *out;
	int rc;

	if (id == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no such prediction");
		return 0;
	}
	if ((rc = submit_one(r, id, r->in[0].json, "api", &out)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 201, out);
}

/* Bulk: per-row answers; atomic and any row rejected → 400 with the rows, nothing written. */
static int
bulk(struct req *r, long n, struct fb_item *items, struct fb_result *res, long *where,
    const char *where_key)
{
	json_t *out;
	size_t ok = 0;
	int atomic, rc;

	if (n == -1)
		return 0;
	if (n < 0)
		return -1;
	if (atomic_flag(r, &atomic) == -1) {
		feedback_rows_release(items, (size_t)n);
		return 0;
	}
	rc = feedback_submit(r, items, (size_t)n, "bulk", atomic, res, &ok);
	if (rc != 0) {
		feedback_rows_release(items, (size_t)n);
		return rc == 1 ? 0 : -1;
	}
	out = feedback_results(items, res, (size_t)n, where, where_key);
	feedback_rows_release(items, (size_t)n);
	if (out == NULL)
		return -1;
	json_object_set_new(out, "atomic", json_boolean(atomic));
	if (atomic && ok < (size_t)n) {
		json_object_set_new(out, "error_code", json_string("INVALID_PARAMETER_VALUE"));
		json_object_set_new(out, "message", json_sprintf("%zu of %ld rows were rejected; "
		    "the request is atomic, so nothing was written", (size_t)n - ok, n));
		return resp_json(r, 400, out);
	}
	return resp_json(r, 200, out);
}

int
api_feedback_bulk(struct req *r)
{
	struct fb_item *items = NULL;
	struct fb_result *res = NULL;
	long *where = NULL;
	long n = feedback_rows_json(r, r->json, &items, &res, &where);

	return bulk(r, n, items, res, where, "index");
}

int
api_feedback_csv(struct req *r)
{
	struct fb_item *items = NULL;
	struct fb_result *res = NULL;
	long *where = NULL;
	long n = feedback_rows_csv(r, r->body, r->body_len, &items, &res, &where);

	return bulk(r, n, items, res, where, "line");
}

int
api_feedback_next(struct req *r)
{
	json_t *out;
	int rc = feedback_next(r, r->in[0].s, r->in[1].present ? (int)r->in[1].i : 0, &out);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out);
}

int
api_predictions_list(struct req *r)
{
	struct pred_filter f = {
		.model = r->in[0].present ? r->in[0].s : "",
		.version = r->in[1].present ? (int)r->in[1].i : 0,
		.verified = r->in[2].present ? r->in[2].b : -1,
		.from = r->in[3].present ? r->in[3].s : NULL,
		.to = r->in[4].present ? r->in[4].s : NULL,
		.limit = r->in[5].present ? (int)r->in[5].i : 100,
		.after = r->in[6].present ? r->in[6].i : 0,
	};
	json_t *out;
	int rc;

	if (f.version != 0 && f.model[0] == '\0') {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "version needs model");
		return 0;
	}
	if ((rc = predictions_list(r, &f, &out)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out);
}

int
api_prediction_get(struct req *r)
{
	long long id = feedback_path_id(r);
	json_t *out;
	int rc;

	if (id == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no such prediction");
		return 0;
	}
	if ((rc = prediction_get(r, id, &out)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out);
}

int
api_model_quality(struct req *r)
{
	json_t *out;
	int rc = quality_get(r, req_path_param(r, "name"), r->in[0].present ? r->in[0].s :
	    "7d", &out);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out);
}

/* ---- the FastAPI shape, for the configured default_model ---- */

static const char *
default_model(struct req *r)
{
	if (r->app->cfg.default_model[0] == '\0') {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no default model: set "
		    "default_model in the configuration, or use /api/feedback/next?model=NAME");
		return NULL;
	}
	return r->app->cfg.default_model;
}

int
api_verify_random_get(struct req *r)
{
	const char *name = default_model(r);
	json_t *p, *out;
	int rc;

	if (name == NULL)
		return 0;
	if ((rc = feedback_next(r, name, 0, &p)) != 0)
		return rc == 1 ? 0 : -1;
	out = json_pack("{s:O, s:O, s:O}", "prediction_id", json_object_get(p,
	    "prediction_id"), "inputs", json_object_get(p, "inputs"), "prediction",
	    json_object_get(json_object_get(p, "output"), "label") != NULL ?
	    json_object_get(json_object_get(p, "output"), "label") :
	    json_object_get(json_object_get(p, "output"), "value"));
	json_decref(p);
	if (out == NULL)
		return -1;
	return resp_json(r, 200, out);
}

int
api_verify_random_post(struct req *r)
{
	json_t *out;
	int rc;

	if (default_model(r) == NULL)
		return 0;
	if ((rc = submit_one(r, r->in[0].i, r->in[1].json, "api", &out)) != 0)
		return rc == 1 ? 0 : -1;
	json_decref(out);
	out = json_pack("{s:o}", "message", json_sprintf("Prediction_id:%lld verified "
	    "successfully", r->in[0].i));
	if (out == NULL)
		return -1;
	return resp_json(r, 200, out);
}
